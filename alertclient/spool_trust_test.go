package alertclient

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nobody is the uid and gid the tests give files "of another user". The
// tests that chown need root, as the e2e and package tests run.
const nobody = 65534

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a file to another user")
	}
}

// A spool directory that another user can write to, or that another user
// owns, is refused: another user could plant a batch that this one
// delivers with its own Alertmanager credentials. It used to be used as
// found.
func TestSpoolDirectoryTrust(t *testing.T) {
	tests := []struct {
		name  string
		mode  os.FileMode
		owner int // 0: this user
		want  string
	}{
		{"0700", 0o700, 0, ""},
		{"0750", 0o750, 0, ""},
		{"0755", 0o755, 0, ""},
		{"group-writable 0770", 0o770, 0, "writable by group or others (mode 0770)"},
		{"world-writable 0777", 0o777, 0, "writable by group or others (mode 0777)"},
		{"world-writable sticky 1777, as /tmp", 0o777 | os.ModeSticky, 0, "writable by group or others (mode 0777)"},
		{"others may write 0703", 0o703, 0, "writable by group or others (mode 0703)"},
		{"owned by another user", 0o700, nobody, "owned by uid 65534, not by this user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "spool")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tt.mode); err != nil {
				t.Fatal(err)
			}
			if tt.owner != 0 {
				needRoot(t)
				if err := os.Chown(dir, tt.owner, tt.owner); err != nil {
					t.Fatal(err)
				}
			}
			_, err := OpenSpool(dir, 0)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("OpenSpool: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("OpenSpool: %v, want an error naming %s and saying %q", err, dir, tt.want)
			}
			// A client with that spool is not built either.
			_, err = New(Options{Config: testConfig(t, dir, nil, "https://am:9093"), Logger: slog.New(slog.DiscardHandler)})
			if err == nil || !strings.Contains(err.Error(), dir) {
				t.Errorf("New: %v, want an error naming %s", err, dir)
			}
		})
	}
}

// A symbolic link named flush.lock or put.lock is not followed: root used
// to create (or open for writing) whatever file it pointed to.
func TestSpoolLockSymlinkNotFollowed(t *testing.T) {
	tests := []struct {
		lock string
		use  func(*Spool) error
	}{
		{spoolPutLock, func(s *Spool) error { return s.Put(alertsNamed("A")) }},
		{spoolFlushLock, func(s *Spool) error {
			_, err := s.Flush(context.Background(), func(context.Context, []Alert) error { return nil })
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.lock, func(t *testing.T) {
			dir := t.TempDir()
			s := openTestSpool(t, dir, 0)
			target := filepath.Join(t.TempDir(), "created-through-the-link")
			link := filepath.Join(dir, tt.lock)
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			err := tt.use(s)
			if err == nil || !strings.Contains(err.Error(), link) || !strings.Contains(err.Error(), "symbolic link") {
				t.Errorf("got %v, want an error naming %s as a symbolic link", err, link)
			}
			if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the link's target was created: %v", err)
			}
		})
	}
}

// A batch file that another user owns is set aside as *.corrupt and not
// delivered: it used to be delivered with this user's credentials. A
// symbolic link named like a batch is not delivered either.
func TestSpoolForeignBatchSetAside(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	s := openTestSpool(t, dir, 0)
	putBatches(t, s, 3)
	names := spoolFiles(t, dir, ".json")
	foreign := filepath.Join(dir, names[1])
	if err := os.Chown(foreign, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "outside.json")
	if err := os.Link(filepath.Join(dir, names[2]), outside); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "99999999999999999999-00000000.json")); err != nil {
		t.Fatal(err)
	}

	if st, err := s.Stats(); err != nil || st.Batches != 2 || st.Corrupt != 1 {
		t.Errorf("stats %+v, %v; want 2 batches and the foreign one not counted as a batch", st, err)
	}
	rec := &spoolRecorder{t: t}
	_, err := s.Flush(context.Background(), rec.deliver)
	if got := rec.delivered(); len(got) != 2 || got[0] != 0 || got[1] != 2 {
		t.Errorf("delivered batches %v, want [0 2]", got)
	}
	if !errors.Is(err, ErrSpoolUntrusted) || !errors.Is(err, ErrSpoolCorrupt) ||
		!strings.Contains(err.Error(), foreign) || !strings.Contains(err.Error(), "owned by uid 65534") {
		t.Errorf("Flush: %v, want ErrSpoolUntrusted naming %s and its owner", err, foreign)
	}
	if _, err := os.Stat(foreign + spoolCorruptExt); err != nil {
		t.Errorf("foreign batch not set aside: %v", err)
	}
}
