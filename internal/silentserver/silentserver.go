// Package silentserver is a server hung after accept, for tests of clients
// that must not wait for one: it accepts every TCP connection, reads what
// it is sent and never answers anything, not even a TLS handshake.
package silentserver

import (
	"io"
	"net"
	"testing"
)

// Start returns the address (host:port) of a silent server on loopback,
// which closes at the end of the test.
func Start(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_, _ = io.Copy(io.Discard, conn)
			}()
		}
	}()
	return l.Addr().String()
}
