package webconf

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

// tlsListener does each connection's TLS handshake itself, in a goroutine
// of its own and within a deadline, and hands net/http only connections
// whose handshake succeeded. A failed handshake is classified from Go's
// typed errors (tlsReason) instead of the text net/http would log.
type tlsListener struct {
	net.Listener
	config  *tls.Config
	timeout time.Duration
	// refused reports a failed handshake; it is not called for clients
	// that closed the connection during the handshake.
	refused func(addr net.Addr, reason Reason, err error)

	conns     chan net.Conn
	errc      chan error
	done      chan struct{}
	closeOnce sync.Once
}

func newTLSListener(l net.Listener, config *tls.Config, timeout time.Duration, refused func(net.Addr, Reason, error)) *tlsListener {
	t := &tlsListener{
		Listener: l, config: config, timeout: timeout, refused: refused,
		conns: make(chan net.Conn), errc: make(chan error, 1), done: make(chan struct{}),
	}
	go t.acceptLoop()
	return t
}

// acceptLoop accepts until the listener is closed. Other errors go to
// Accept, as a plain listener's would: net/http logs one it deems
// temporary (EMFILE: out of file descriptors), waits (5 ms, doubling to a
// second) and calls Accept again, and stops on the others. errc holds one
// error, so the loop is never more than one ahead of that wait. It used
// to end at the first error, and a server that had run out of file
// descriptors once served nothing again until restarted.
func (t *tlsListener) acceptLoop() {
	for {
		c, err := t.Listener.Accept()
		if err == nil {
			go t.handshake(c)
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			continue
		}
		select {
		case t.errc <- err:
		case <-t.done:
			return
		}
		if errors.Is(err, net.ErrClosed) {
			return
		}
	}
}

func (t *tlsListener) handshake(c net.Conn) {
	tc := tls.Server(c, t.config)
	ctx, cancel := context.WithTimeout(context.Background(), t.timeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		var rhe tls.RecordHeaderError
		if errors.As(err, &rhe) && rhe.Conn != nil && looksLikeHTTP(rhe.RecordHeader) {
			// As net/http answers it, so that a curl without https:// learns why.
			_ = rhe.Conn.SetWriteDeadline(time.Now().Add(time.Second))
			io.WriteString(rhe.Conn, "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
		}
		if reason, ok := tlsReason(err); ok {
			t.refused(c.RemoteAddr(), reason, err)
		}
		c.Close()
		return
	}
	select {
	case t.conns <- tc:
	case <-t.done:
		_ = tc.Close()
	}
}

// looksLikeHTTP reports whether the first bytes of a connection are a
// plain HTTP request (as net/http tells it).
func looksLikeHTTP(hdr [5]byte) bool {
	for _, m := range []string{"GET /", "HEAD ", "POST ", "PUT /", "OPTIO"} {
		if bytes.Equal(hdr[:], []byte(m)) {
			return true
		}
	}
	return false
}

// Accept returns the next connection whose handshake succeeded.
func (t *tlsListener) Accept() (net.Conn, error) {
	select {
	case c := <-t.conns:
		return c, nil
	case err := <-t.errc:
		return nil, err
	case <-t.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting; handshakes in progress end with their deadline.
func (t *tlsListener) Close() error {
	t.closeOnce.Do(func() { close(t.done) })
	return t.Listener.Close()
}

// tlsReason names why a handshake failed, from the typed errors Go gives.
// It reports false for a client that closed or reset the connection
// during the handshake (a port scan, a health check): not a refusal.
func tlsReason(err error) (Reason, bool) {
	var (
		rhe     tls.RecordHeaderError
		verify  *tls.CertificateVerificationError
		invalid x509.CertificateInvalidError
		unknown x509.UnknownAuthorityError
		san     sanNotAllowedError
		op      *net.OpError
	)
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, net.ErrClosed):
		return "", false
	case errors.Is(err, errNoClientCertificate):
		return ReasonNoClientCertificate, true
	case errors.As(err, &san):
		return ReasonSANNotAllowed, true
	case errors.As(err, &unknown):
		return ReasonUnknownAuthority, true
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return ReasonCertificateExpired, true
	case errors.As(err, &verify):
		return ReasonBadCertificate, true
	case errors.As(err, &rhe):
		if looksLikeHTTP(rhe.RecordHeader) {
			return ReasonPlainHTTP, true
		}
		return ReasonHandshakeFailed, true
	case errors.As(err, &op) && op.Op == "remote error":
		// The client sent an alert: it did not accept our certificate.
		return ReasonClientRejectedOurCert, true
	}
	return ReasonHandshakeFailed, true
}
