// Package atomicfile replaces files so that a reader sees the old content
// or the new, never a mix or a file cut short: the exporter re-reads its
// certificate, key and client CA when they change, and Prometheus re-reads
// its CA file and targets on every scrape or discovery, possibly in the
// middle of a renewal.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Write replaces path with data. A new file gets perm. A file that exists
// keeps its owner's and group's permission bits and, where the process may
// set them, its owner and group, so that a renewal run as root leaves a key
// the exporter (group warden) can still read; others get no more than perm
// gives them, so an old file's looser mode is not carried over to a
// secret. The data is written to a new file (created exclusively: a
// symlink planted at a name is replaced, never followed) and is on disk
// (fsync) before the rename, which is durable before Write returns.
func Write(path string, data []byte, perm fs.FileMode) error {
	mode := perm
	old, err := os.Lstat(path)
	switch {
	case err == nil && old.Mode().IsRegular():
		mode = old.Mode().Perm()&0o770 | perm&0o007
	case err == nil:
		old = nil // a symlink or other: replaced, its target untouched
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := writeTemp(dir, filepath.Base(path), data, mode, old)
	// After a successful rename there is nothing left to remove; before
	// it, the error that matters is the one Write returns.
	defer func() { _ = os.Remove(tmp) }()
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(dir)
}

// WriteNew writes data to path, which must not exist, with perm: to a
// temporary file beside it first, on disk before it is linked into place,
// so that path is never left empty or cut short (a full disk), and a
// failed write leaves nothing that a second try would refuse as existing.
// link(2) does not replace an existing file, nor follow a symbolic link
// put in path's place.
func WriteNew(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := writeTemp(dir, filepath.Base(path), data, perm, nil)
	// Once linked, path holds the data and the temporary name goes.
	defer func() { _ = os.Remove(tmp) }()
	if err != nil {
		return err
	}
	if err := os.Link(tmp, path); err != nil {
		return err
	}
	return SyncDir(dir)
}

// WriteTemp writes data to a new temporary file in dir, named after name,
// with mode, and returns its path, for the caller to rename into place
// and remove on failure (it is returned with the error too, when made).
// The file is created exclusively (never through a symbolic link) and
// given its mode before any byte is written, whatever the umask, so that
// a secret is never readable by more than it will be; its data is on disk
// (fsync) when WriteTemp returns.
func WriteTemp(dir, name string, data []byte, mode fs.FileMode) (string, error) {
	return writeTemp(dir, name, data, mode, nil)
}

// writeTemp is WriteTemp, also giving the file old's owner and group where
// the process may (old: nil for none).
func writeTemp(dir, name string, data []byte, mode fs.FileMode, old fs.FileInfo) (string, error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp*")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
	}
	err = f.Chmod(mode)
	if err == nil && old != nil {
		err = sameOwner(f, old)
	}
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return f.Name(), fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
	}
	return f.Name(), nil
}

// SyncDir makes a rename (or a new file) in dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// CheckPrivate returns an error unless path belongs to this process's
// effective user (CheckOwner) and gives group and others none of the
// permission bits of open: 0o022 for a directory others must not write
// into, 0o077 for a key. why ends the error: what others could do.
func CheckPrivate(path string, open fs.FileMode, why string) error {
	if err := CheckOwner(path); err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if mode := fi.Mode().Perm(); mode&open != 0 {
		what := "writable by group or others"
		if open&0o044 != 0 {
			what = "open to others than its owner"
		}
		return fmt.Errorf("%s is %s (mode %#o): %s", path, what, mode, why)
	}
	return nil
}
