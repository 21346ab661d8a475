package webconf

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/warden-exporter/warden/internal/pki"
)

// failingOnce fails its first Accept with EMFILE, as the kernel does when
// the process is out of file descriptors, then works again.
type failingOnce struct {
	net.Listener
	n atomic.Int32
}

func (f *failingOnce) Accept() (net.Conn, error) {
	if f.n.Add(1) == 1 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept", syscall.EMFILE)}
	}
	return f.Listener.Accept()
}

// Running out of file descriptors once does not stop the server for good:
// the listener accepted nothing more after one EMFILE, while the process
// ran on.
func TestTLSListenerAcceptsAgainAfterEMFILE(t *testing.T) {
	ca, err := pki.NewCA("test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Server("localhost", []string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tl := newTLSListener(&failingOnce{Listener: l}, &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}}, 2*time.Second, func(net.Addr, Reason, error) {})
	srv := &http.Server{
		Handler:  http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }),
		ErrorLog: log.New(io.Discard, "", 0), // "Accept error: ... retrying"
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(tl) }()
	defer srv.Close()

	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get("https://" + l.Addr().String() + "/")
	if err != nil {
		select {
		case e := <-served:
			t.Fatalf("Serve returned after an EMFILE: %v", e)
		default:
			t.Fatalf("after an EMFILE the server runs but serves nothing: %v", err)
		}
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ok" {
		t.Errorf("body %q", body)
	}
	if n := tl.Listener.(*failingOnce).n.Load(); n < 2 {
		t.Errorf("%d Accepts, want the one that failed and more", n)
	}
}
