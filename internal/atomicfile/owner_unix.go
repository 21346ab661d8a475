//go:build unix

package atomicfile

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// sameOwner gives f the owner and group of old when they differ from
// what f was created with.
func sameOwner(f *os.File, old fs.FileInfo) error {
	want, ok := old.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	got, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || (got.Uid == want.Uid && got.Gid == want.Gid) {
		return nil
	}
	if err := f.Chown(int(want.Uid), int(want.Gid)); err != nil {
		return fmt.Errorf("keep owner %d:%d of the file replaced: %w", want.Uid, want.Gid, err)
	}
	return nil
}

// CheckOwner returns an error unless path belongs to this process's
// effective user: the owner of a directory or key can replace what is
// written there, or read it, whatever its mode says.
func CheckOwner(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := os.Geteuid(); int(st.Uid) != uid {
		return fmt.Errorf("%s belongs to uid %d, not to this user (uid %d): its owner could replace or read what is kept there; use one of your own", path, st.Uid, uid)
	}
	return nil
}
