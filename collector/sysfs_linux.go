package collector

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"

	"golang.org/x/sys/unix"
)

// sysfsValueSize is how much of a sysfs attribute is read: what procfs's
// SysReadFile reads, so that values are cut where node_exporter cuts them.
const sysfsValueSize = 128

// readSysfsValue reads the sysfs attribute at path as procfs's SysReadFile
// does: a single read(2) of at most sysfsValueSize bytes, with white space
// trimmed from both ends.
//
// It costs three system calls (openat, read, close) where os.Open and
// os.ReadFile cost up to eight: an *os.File registers with the poller
// (which accepts sysfs files, as they can be polled) and switches
// O_NONBLOCK on and off, which a sysfs attribute has no use for. A single
// read also never loops, as os.ReadFile would on a driver that answers
// EAGAIN. Errors are *fs.PathError wrapping the errno, so that both
// errors.Is(err, fs.ErrNotExist) and errors.Is(err, unix.EINVAL) work.
func readSysfsValue(path string) (string, error) {
	var buf [sysfsValueSize]byte
	b, err := readSysfsAt(unix.AT_FDCWD, path, buf[:], 0)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// readSysfsAt reads the attribute name, relative to the directory open as
// dirfd (or to the working directory for unix.AT_FDCWD), into buf with a
// single read and returns the part of buf read, trimmed of white space.
// Reading relative to an open directory spares the kernel resolving the
// directory again for each attribute. flags are added to those of the
// open, such as unix.O_NOFOLLOW.
//
// A FIFO is not waited on, but reads as empty. A directory gives EISDIR.
func readSysfsAt(dirfd int, name string, buf []byte, flags int) ([]byte, error) {
	flags |= unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NONBLOCK
	fd, err := unix.Openat(dirfd, name, flags, 0)
	for err == unix.EINTR { // retried as the os package does
		fd, err = unix.Openat(dirfd, name, flags, 0)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	n, err := unix.Read(fd, buf)
	for err == unix.EINTR {
		n, err = unix.Read(fd, buf)
	}
	_ = unix.Close(fd) // opened read-only: a failed close loses nothing
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return bytes.TrimSpace(buf[:n]), nil
}

// sysfsNotRegular reports whether err from readSysfsAt, opening with
// unix.O_NOFOLLOW, means that the attribute is there but is a symbolic
// link or a directory: not a regular file, which procfs would not read.
func sysfsNotRegular(err error) bool {
	return errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EISDIR)
}

// readProcFile reads the whole of a file whose size stat does not tell, as
// those of /proc, into buf[:0], growing it where it is too small, and
// returns what was read. os.ReadFile starts such a file with 512 bytes and
// grows from there, a read(2) for each step; a buf of the file's usual
// size takes one read and the one that finds the end, and can be reused.
func readProcFile(path string, buf []byte) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	for err == unix.EINTR {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer func() { _ = unix.Close(fd) }() // read-only: nothing to lose
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, max(cap(buf), 512))
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
		if len(buf) > maxProcFile {
			return nil, errProcFileTooLarge(path)
		}
	}
}

// maxProcFile bounds a read of a /proc or /sys file: the kernel's are a
// few pages at most (a sysfs attribute one). A larger one is not the
// kernel's (a bind mount, /dev/zero linked in its place), and reading it
// on would take the machine's memory; node_exporter's readers stop too.
const maxProcFile = 4 << 20

func errProcFileTooLarge(path string) error {
	return fmt.Errorf("%s: more than %d MiB, not a kernel file: not read further", path, maxProcFile>>20)
}

// readFile is os.ReadFile for /proc and /sys, bounded by maxProcFile.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxProcFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxProcFile {
		return nil, errProcFileTooLarge(path)
	}
	return b, nil
}
