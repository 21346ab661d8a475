package collector

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// fixtureUname fills u as uname(2) does on a Debian host.
func fixtureUname(u *unix.Utsname) error {
	copy(u.Sysname[:], "Linux")
	copy(u.Nodename[:], "db-01")
	copy(u.Release[:], "6.1.0-21-amd64")
	copy(u.Version[:], "#1 SMP PREEMPT_DYNAMIC Debian 6.1.90-1 (2024-05-03)")
	copy(u.Machine[:], "x86_64")
	copy(u.Domainname[:], "(none)")
	return nil
}

func TestUname(t *testing.T) {
	c := build(t, "uname", fixtureConfig()).(*unameCollector)
	c.uname = fixtureUname
	compareGolden(t, c, "testdata/uname.prom")
}

func TestUnameError(t *testing.T) {
	c := build(t, "uname", fixtureConfig()).(*unameCollector)
	c.uname = func(*unix.Utsname) error { return syscall.EFAULT }
	if _, err := scrapeValues(c); !errors.Is(err, syscall.EFAULT) {
		t.Fatalf("Update returned %v, want EFAULT", err)
	}
}

// TestUnameHost checks that the real system call is used and fills every
// label that the kernel always sets.
func TestUnameHost(t *testing.T) {
	values, err := scrapeValues(build(t, "uname", fixtureConfig()))
	if err != nil {
		t.Fatal(err)
	}
	if len(values) != 1 {
		t.Fatalf("sent %v, want one node_uname_info", values)
	}
	var want unix.Utsname
	if err := unix.Uname(&want); err != nil {
		t.Fatal(err)
	}
	for key := range values {
		if !containsAll(key, `sysname="`+unix.ByteSliceToString(want.Sysname[:])+`"`,
			`release="`+unix.ByteSliceToString(want.Release[:])+`"`,
			`machine="`+unix.ByteSliceToString(want.Machine[:])+`"`) {
			t.Errorf("sent %s, want the host's uname", key)
		}
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
