package webconf_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/warden-exporter/warden/internal/testlog"
	"github.com/warden-exporter/warden/webconf"
	"github.com/warden-exporter/warden/webconf/webconftest"
)

// Every way a TLS handshake fails is named from Go's typed errors, counted
// under its reason and audited; a client that just closes the connection
// is neither.
func TestTLSRefusalReasons(t *testing.T) {
	path, p := fixtureDir(t, "allowed-sans.good.yml")
	logs := &testlog.Buffer{}
	srv := startServer(t, path, slog.New(slog.NewJSONHandler(logs, nil)))
	addr := srv.Addrs()[0].String()
	other := webconftest.NewPKI(t, t.TempDir())

	handshake := func(cfg *tls.Config) {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
		if err == nil {
			// TLS 1.3: a refusal of the client certificate arrives with the first read.
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			_, err = bufio.NewReader(c).ReadString('\n')
			c.Close()
		}
		if err == nil {
			t.Errorf("handshake succeeded")
		}
	}
	withCert := func(cert *tls.Certificate) *tls.Config {
		cfg := p.ClientTLS(cert)
		return cfg
	}
	tests := []struct {
		reason webconf.Reason
		do     func()
	}{
		{webconf.ReasonNoClientCertificate, func() { handshake(withCert(nil)) }},
		{webconf.ReasonUnknownAuthority, func() {
			cfg := withCert(other.Client)
			handshake(cfg)
		}},
		{webconf.ReasonCertificateExpired, func() { handshake(withCert(p.NewClient(t, webconftest.ClientName, -time.Minute))) }},
		{webconf.ReasonSANNotAllowed, func() { handshake(withCert(p.NewClient(t, "intruder.test", time.Hour))) }},
		{webconf.ReasonClientRejectedOurCert, func() {
			// The client trusts another CA, so it refuses our certificate.
			cfg := withCert(p.Client)
			cfg.RootCAs = x509.NewCertPool()
			cfg.RootCAs.AddCert(other.CACert)
			handshake(cfg)
		}},
		{webconf.ReasonPlainHTTP, func() {
			resp, err := http.Get("http://" + addr + "/metrics")
			if err != nil {
				t.Errorf("plain HTTP: %v", err)
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "HTTP request to an HTTPS server") {
				t.Errorf("plain HTTP: %d %q, want 400 and why", resp.StatusCode, body)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.reason), func(t *testing.T) {
			before := counterValue(t, srv.Metrics(), "warden_http_requests_refused_total", "reason", string(tt.reason))
			tt.do()
			waitFor(t, func() bool {
				return counterValue(t, srv.Metrics(), "warden_http_requests_refused_total", "reason", string(tt.reason)) == before+1
			})
			if !strings.Contains(logs.String(), tt.reason.Text()) {
				t.Errorf("no audit line %q", tt.reason.Text())
			}
		})
	}

	// A client that connects and closes (a port scan) is no refusal.
	total := func() float64 {
		n := 0.0
		for _, r := range webconf.Reasons() {
			n += counterValue(t, srv.Metrics(), "warden_http_requests_refused_total", "reason", string(r))
		}
		return n
	}
	before := total()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if status, _, err := get(p.HTTPClient(p.Client), "https://"+addr+"/", "", ""); err != nil || status != http.StatusOK {
		t.Fatalf("the right client after a port scan: %d %v", status, err)
	}
	if got := total(); got != before {
		t.Errorf("a closed connection counted as %v refusals", got-before)
	}
}
