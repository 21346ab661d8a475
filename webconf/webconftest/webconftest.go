// Package webconftest lets the tests of a secure exporter cover the secure
// path in a few lines: Start runs an exporter.Program in-process on
// 127.0.0.1:0 behind TLS, a client certificate and basic auth, and hands
// back a client that gets in and one that must be refused. NewPKI alone
// gives a throwaway CA with server and client certificates, made at test
// time, so none expire in the repository.
package webconftest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warden-exporter/warden/internal/pki"
	"github.com/warden-exporter/warden/webconf/exporter"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// File names PKI writes into its directory.
const (
	CACert     = "ca.crt"
	ServerCert = "server.crt"
	ServerKey  = "server.key"
	ClientCert = "client.crt"
	ClientKey  = "client.key"
)

// ClientName is the common name and DNS SAN of the client certificate.
const ClientName = "prometheus.test"

// PKI is a CA with a server and a client certificate, written to Dir.
// Its certificates carry their parsed Leaf.
type PKI struct {
	Dir string
	// CACert is the CA's certificate.
	CACert *x509.Certificate
	// Server is for localhost, 127.0.0.1 and ::1; Client is ClientName's.
	Server, Client *tls.Certificate

	ca *pki.CA
}

// NewPKI makes a PKI and writes it into dir.
func NewPKI(t testing.TB, dir string) *PKI {
	t.Helper()
	ca, err := pki.NewCA("webconftest CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	server, err := ca.Server("localhost", []string{"localhost", "127.0.0.1", "::1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.Client(ClientName, []string{ClientName}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p := &PKI{Dir: dir, CACert: ca.Cert, Server: leafCertificate(server), Client: leafCertificate(client), ca: ca}
	if err := ca.WriteFiles(p.Path(CACert), ""); err != nil {
		t.Fatal(err)
	}
	if err := server.WriteFiles(p.Path(ServerCert), p.Path(ServerKey)); err != nil {
		t.Fatal(err)
	}
	if err := client.WriteFiles(p.Path(ClientCert), p.Path(ClientKey)); err != nil {
		t.Fatal(err)
	}
	return p
}

func leafCertificate(l *pki.Leaf) *tls.Certificate {
	c := l.TLSCertificate()
	c.Leaf = l.Cert
	return &c
}

// NewClient issues another client certificate from the CA, for name,
// valid from five minutes ago for validFor (negative: already expired).
func (p *PKI) NewClient(t testing.TB, name string, validFor time.Duration) *tls.Certificate {
	t.Helper()
	l, err := p.ca.Client(name, []string{name}, validFor)
	if err != nil {
		t.Fatal(err)
	}
	return leafCertificate(l)
}

// Path returns the path of a file in the PKI's directory.
func (p *PKI) Path(name string) string { return filepath.Join(p.Dir, name) }

// ClientTLS returns a TLS config that trusts the CA and presents cert, if
// not nil (p.Client for the PKI's own client certificate).
func (p *PKI) ClientTLS(cert *tls.Certificate) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(p.CACert)
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return cfg
}

// HTTPClient returns a client with ClientTLS(cert), which does not keep
// connections alive, so that every request goes through a TLS handshake.
func (p *PKI) HTTPClient(cert *tls.Certificate) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:   p.ClientTLS(cert),
			DisableKeepAlives: true,
		},
	}
}

// Exporter is an exporter program running in-process for a test, behind a
// web config that requires TLS, a client certificate and basic auth.
type Exporter struct {
	// URL is the base URL, https://127.0.0.1:PORT.
	URL string
	// PKI made the server and client certificates.
	PKI *PKI
	// Client presents the client certificate and the password: it gets in.
	Client *http.Client
	// Anonymous trusts the server but presents nothing: it must be refused.
	Anonymous *http.Client
}

// Username and Password are the basic-auth credentials Start configures.
const (
	Username = "prometheus"
	Password = "webconftest-password"
)

// Start runs p with setup on 127.0.0.1:0 with a throwaway PKI and a web
// config requiring TLS, a client certificate and basic auth, plus args,
// and stops it when the test ends.
func Start(t testing.TB, p *exporter.Program, setup exporter.Setup, args ...string) *Exporter {
	t.Helper()
	dir := t.TempDir()
	k := NewPKI(t, dir)
	hash, err := bcrypt.GenerateFromPassword([]byte(Password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "web-config.yml")
	content := fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: %s\nbasic_auth_users:\n  %s: %q\n",
		ServerCert, ServerKey, CACert, Username, hash)
	if err := os.WriteFile(webConfig, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	addrs := make(chan []net.Addr, 1)
	p.OnListen = func(a []net.Addr) { addrs <- a }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	all := append([]string{"--web.listen-address=127.0.0.1:0", "--web.config.file=" + webConfig}, args...)
	go func() { done <- p.RunContext(ctx, all, setup) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("exporter exited with %d", code)
		}
	})
	select {
	case a := <-addrs:
		client := k.HTTPClient(k.Client)
		client.Transport = basicAuth{next: client.Transport}
		return &Exporter{URL: "https://" + a[0].String(), PKI: k, Client: client, Anonymous: k.HTTPClient(nil)}
	case code := <-done:
		t.Fatalf("exporter exited with %d before listening", code)
	case <-time.After(30 * time.Second):
		t.Fatal("exporter did not listen within 30s")
	}
	return nil
}

// Get fetches path with c and returns the status and body, or 0 and the
// error's text when the request fails (a refused TLS handshake, say).
func (e *Exporter) Get(t testing.TB, c *http.Client, path string) (int, string) {
	t.Helper()
	status, body, err := Get(c, e.URL+path, "", "")
	if err != nil {
		return 0, err.Error()
	}
	return status, body
}

// Get fetches url with c, with basic auth when user is not empty, and
// returns the status and the body.
func Get(c *http.Client, url, user, pass string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// basicAuth adds Start's credentials to every request.
type basicAuth struct{ next http.RoundTripper }

func (b basicAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.SetBasicAuth(Username, Password)
	return b.next.RoundTrip(r)
}

// StallHTTP2 opens n streams on one HTTP/2 connection from localIP with a
// zero flow-control window, and never reads: a client that asks and then
// lets nothing be written. It returns when the requests are sent; the
// connection lives until the test ends. An exporter must go on serving
// others while such a client waits.
func StallHTTP2(t *testing.T, addr, localIP string, cfg *tls.Config, n int, headers map[string]string) {
	t.Helper()
	cfg = cfg.Clone()
	cfg.NextProtos = []string{"h2"}
	d := &tls.Dialer{NetDialer: &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(localIP)}}, Config: cfg}
	c, err := d.DialContext(t.Context(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if p := c.(*tls.Conn).ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("negotiated %q, want h2", p)
	}
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	if err := fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0}); err != nil {
		t.Fatal(err)
	}
	var writing sync.Mutex // the framer's writes are not safe for concurrent use
	go func() {            // acknowledge the server's settings, read and drop the rest
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				return
			}
			if s, ok := f.(*http2.SettingsFrame); ok && !s.IsAck() {
				writing.Lock()
				_ = fr.WriteSettingsAck()
				writing.Unlock()
			}
		}
	}()
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for i := range n {
		block.Reset()
		for _, f := range [][2]string{{":method", "GET"}, {":scheme", "https"}, {":authority", addr}, {":path", "/metrics"}} {
			_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
		}
		for k, v := range headers {
			_ = enc.WriteField(hpack.HeaderField{Name: strings.ToLower(k), Value: v})
		}
		writing.Lock()
		err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: uint32(2*i + 1), BlockFragment: block.Bytes(), EndStream: true, EndHeaders: true})
		writing.Unlock()
		if err != nil {
			t.Fatal(err)
		}
	}
}
