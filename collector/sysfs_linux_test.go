package collector

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// readSysfsValue reads a value as procfs's SysReadFile does.
func TestReadSysfsValue(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("x", sysfsValueSize+10)
	writeFixtureFiles(t, dir, map[string]string{
		"mtu":     "1500\n",
		"spaces":  " \t up \n",
		"empty":   "",
		"long":    long,
		"sub/fil": "1\n",
	})
	if err := os.Symlink("mtu", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, want string
		// err checks the error; nil means none is expected.
		err func(error) bool
	}{
		{name: "mtu", want: "1500"},
		{name: "spaces", want: "up"},
		{name: "empty", want: ""},
		// procfs reads at most 128 bytes, and so node_exporter.
		{name: "long", want: long[:sysfsValueSize]},
		{name: "missing", err: func(err error) bool { return errors.Is(err, fs.ErrNotExist) }},
		// Followed, as procfs's SysReadFile does.
		{name: "link", want: "1500"},
		{name: "sub", err: sysfsNotRegular},
		// A FIFO without a writer reads as empty instead of blocking.
		{name: "fifo", want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			done := make(chan struct{})
			var got string
			var err error
			go func() {
				defer close(done)
				got, err = readSysfsValue(path)
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("readSysfsValue blocked")
			}
			if tc.err != nil {
				if err == nil || !tc.err(err) {
					t.Fatalf("readSysfsValue(%s) = %q, %v; want the error", tc.name, got, err)
				}
				var pathErr *fs.PathError
				if !errors.As(err, &pathErr) || pathErr.Path != path {
					t.Errorf("error %v does not name %s", err, path)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("readSysfsValue(%s) = %q, %v; want %q", tc.name, got, err, tc.want)
			}
		})
	}
}

// On the host, an attribute the driver refuses to read gives the errno
// (EINVAL for the speed of a link without one), which callers such as
// netclass tell apart from a failure.
func TestReadSysfsValueHost(t *testing.T) {
	const path = "/sys/class/net/lo/speed"
	if _, err := os.Stat(path); err != nil {
		t.Skip("no sysfs:", err)
	}
	_, err := readSysfsValue(path)
	if !errors.Is(err, syscall.EINVAL) {
		t.Errorf("readSysfsValue(%s): %v, want EINVAL", path, err)
	}
	mtu, err := readSysfsValue("/sys/class/net/lo/mtu")
	if err != nil || mtu == "" {
		t.Errorf("read lo's mtu: %q, %v", mtu, err)
	}
}

// With unix.O_NOFOLLOW, a symbolic link is not read, as procfs does not
// read one among the attributes of a network interface.
func TestReadSysfsAtNoFollow(t *testing.T) {
	dir := t.TempDir()
	writeFixtureFiles(t, dir, map[string]string{"mtu": "1500\n"})
	if err := os.Symlink("mtu", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	dirfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dirfd)
	var buf [sysfsValueSize]byte
	if b, err := readSysfsAt(dirfd, "mtu", buf[:], unix.O_NOFOLLOW); err != nil || string(b) != "1500" {
		t.Errorf("read mtu: %q, %v", b, err)
	}
	if b, err := readSysfsAt(dirfd, "link", buf[:], unix.O_NOFOLLOW); !sysfsNotRegular(err) {
		t.Errorf("read link: %q, %v; want ELOOP", b, err)
	}
}

func TestReadProcFile(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("0123456789abcdef", 1000)
	writeFixtureFiles(t, dir, map[string]string{"big": big, "empty": ""})
	for _, tc := range []struct {
		name string
		buf  []byte
	}{
		{"nil buffer", nil},
		{"small buffer", make([]byte, 0, 100)},
		{"large buffer", make([]byte, 10, 1<<20)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readProcFile(filepath.Join(dir, "big"), tc.buf)
			if err != nil || string(got) != big {
				t.Errorf("read big: %d bytes, %v; want %d", len(got), err, len(big))
			}
			got, err = readProcFile(filepath.Join(dir, "empty"), tc.buf)
			if err != nil || len(got) != 0 {
				t.Errorf("read empty: %q, %v", got, err)
			}
		})
	}
	missing := filepath.Join(dir, "missing")
	if _, err := readProcFile(missing, nil); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("read missing: %v, want an error naming it that is fs.ErrNotExist", err)
	}
	if _, err := readProcFile(dir, nil); !errors.Is(err, syscall.EISDIR) {
		t.Errorf("read a directory: %v, want EISDIR", err)
	}
	// A file of /proc, whose size stat does not tell, is read whole.
	if want, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		got, err := readProcFile("/proc/self/mountinfo", make([]byte, 0, 64))
		if err != nil || len(got) == 0 || len(got) < len(want)/2 {
			t.Errorf("read /proc/self/mountinfo: %d bytes, %v; os.ReadFile read %d", len(got), err, len(want))
		}
	}
}
