package testenv

import (
	"net"
	"testing"
	"time"
)

// FreeAddr returns a loopback address with a port free at the time of the call.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// WaitListening waits until addr accepts TCP connections, and fails the
// test at once if p exits first.
func WaitListening(t testing.TB, addr string, p *Process) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		if code := p.Exited(100 * time.Millisecond); code >= 0 {
			t.Fatalf("process exited with %d before listening on %s:\n%s", code, addr, p.log)
		}
	}
	t.Fatalf("nothing listens on %s after 20s:\n%s", addr, p.log)
}

// Eventually polls f until it returns nil or the timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = f(); err == nil {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s: not true after %s: %v", what, timeout, err)
}
