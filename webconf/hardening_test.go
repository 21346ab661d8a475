package webconf_test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/exporter-toolkit/web"
	"golang.org/x/crypto/bcrypt"

	"github.com/warden-exporter/warden/webconf"
	"github.com/warden-exporter/warden/webconf/webconftest"
)

// A configuration others may change, or a key others may read, is refused
// at start (and by Validate, which wardentool check runs); group read is
// fine (the package's 0640 root:warden).
func TestFileModes(t *testing.T) {
	tests := []struct {
		name       string
		file       string // relative to the fixture directory
		mode       os.FileMode
		wantSubstr string // "" : accepted
	}{
		{"web config 0640", "web-config.yml", 0o640, ""},
		{"web config writable by others", "web-config.yml", 0o602, "writable by others"},
		{"key 0640", "server.key", 0o640, ""},
		{"key readable by others", "server.key", 0o644, "readable by others"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, p := fixtureDir(t, "mtls-basic.good.yml")
			target := p.Path(tt.file)
			if tt.file == "web-config.yml" {
				target = path
			}
			if err := os.Chmod(target, tt.mode); err != nil {
				t.Fatal(err)
			}
			err := webconf.Validate(path)
			if tt.wantSubstr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantSubstr) || !strings.Contains(err.Error(), target) {
				t.Errorf("got %v, want an error naming %s and %q", err, target, tt.wantSubstr)
			}
		})
	}
	auth := filepath.Join(t.TempDir(), "auth.yml")
	if err := os.WriteFile(auth, []byte("public_paths: [/-/healthy]\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(auth, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := webconf.LoadAuthFile(auth); err == nil || !strings.Contains(err.Error(), "writable by others") {
		t.Errorf("auth file 0666: got %v", err)
	}
}

// Users whose hashes have different bcrypt costs could be told apart by
// timing (the decoy for unknown users has one cost): refused, saying why.
func TestMixedBcryptCostsRefused(t *testing.T) {
	h4, _ := bcrypt.GenerateFromPassword([]byte("a"), 4)
	h5, _ := bcrypt.GenerateFromPassword([]byte("b"), 5)
	path := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(path, []byte("basic_auth_users:\n  alice: "+string(h4)+"\n  bob: "+string(h5)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := webconf.Validate(path)
	for _, want := range []string{path, "bcrypt costs differ", "cost 4 (alice)", "cost 5 (bob)", "tells who exists"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want %q", err, want)
		}
	}
}

// rawExchange sends raw on one TLS connection with the PKI's client
// certificate and returns the status line of the answer and whether the
// server then closed the connection.
func rawExchange(t *testing.T, addr string, cfg *tls.Config, raw string) (status string, closed bool) {
	t.Helper()
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// A second request on the same connection.
	io.WriteString(c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
	_, err = br.ReadByte()
	return resp.Status, err != nil
}

// "OPTIONS *" is answered by the security layer like any request (Go's
// built-in handler answered 200 before authentication), and a refused
// client loses its keep-alive connection.
func TestOptionsStarAndRefusalsClose(t *testing.T) {
	path, p := fixtureDir(t, "mtls-basic.good.yml")
	srv := startServer(t, path, slog.New(slog.DiscardHandler))
	addr := srv.Addrs()[0].String()
	cfg := p.ClientTLS(p.Client)
	if status, closed := rawExchange(t, addr, cfg, "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"); !strings.HasPrefix(status, "401") || !closed {
		t.Errorf("OPTIONS * without credentials: %s, connection closed %v; want 401 and closed", status, closed)
	}
	if status, closed := rawExchange(t, addr, cfg, "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic cHJvbWV0aGV1czp3cm9uZw==\r\n\r\n"); !strings.HasPrefix(status, "401") || !closed {
		t.Errorf("wrong password: %s, connection closed %v; want 401 and closed", status, closed)
	}
	if status, closed := rawExchange(t, addr, cfg, "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic cHJvbWV0aGV1czpzZWNyZXQ=\r\n\r\n"); !strings.HasPrefix(status, "200") || closed {
		t.Errorf("right password: %s, connection closed %v; want 200 and kept", status, closed)
	}
}

// A change to a file the web config names (here the client CA and the
// serving certificate) takes effect within the reload interval, and the
// expiry metric follows; the web config itself is unchanged.
func TestNamedFilesAreReloaded(t *testing.T) {
	path, p := fixtureDir(t, "mtls-basic.good.yml")
	addrs := []string{"127.0.0.1:0"}
	srv := start(t, webconf.Options{
		Flags:          &webconf.Flags{FlagConfig: &web.FlagConfig{WebListenAddresses: &addrs, WebSystemdSocket: new(bool), WebConfigFile: &path}},
		Handler:        http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello") }),
		Logger:         slog.New(slog.DiscardHandler),
		ReloadInterval: 50 * time.Millisecond,
	})
	url := "https://" + srv.Addrs()[0].String() + "/"
	if status, _, err := get(p.HTTPClient(p.Client), url, "prometheus", "secret"); err != nil || status != 200 {
		t.Fatalf("before: %d %v", status, err)
	}

	// A new CA replaces both: the old client certificate is no longer
	// trusted, the new one is, and the server presents the new certificate.
	next := webconftest.NewPKI(t, t.TempDir())
	for _, name := range []string{webconftest.ServerKey, webconftest.ServerCert, webconftest.CACert} {
		b, err := os.ReadFile(next.Path(name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p.Path(name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool {
		status, _, err := get(next.HTTPClient(next.Client), url, "prometheus", "secret")
		return err == nil && status == 200
	})
	if _, _, err := get(p.HTTPClient(p.Client), url, "prometheus", "secret"); err == nil {
		t.Error("the old CA's client certificate is still trusted")
	}
	want := fmt.Sprintf(`# HELP warden_tls_certificate_expiry_timestamp_seconds Time after which a certificate of the web config (serving certificate, client CA) is no longer valid.
# TYPE warden_tls_certificate_expiry_timestamp_seconds gauge
warden_tls_certificate_expiry_timestamp_seconds{file=%q,subject=%q} %d
warden_tls_certificate_expiry_timestamp_seconds{file=%q,subject=%q} %d
`, p.Path("ca.crt"), next.CACert.Subject.String(), next.CACert.NotAfter.Unix(),
		p.Path("server.crt"), next.Server.Leaf.Subject.String(), next.Server.Leaf.NotAfter.Unix())
	if err := testutil.CollectAndCompare(srv.Metrics(), strings.NewReader(want), "warden_tls_certificate_expiry_timestamp_seconds"); err != nil {
		t.Error(err)
	}
}

// Guesses (which fail) cannot use up the budget of sources whose checks
// have not failed: after one source has spent the global budget on wrong
// passwords, a new source with the right password is still checked.
func TestGuessesLeaveCleanSourcesTheirBudget(t *testing.T) {
	// Global: a token per 4 s; clean: one per second. The first guess
	// takes the clean token of its source, the second the global token,
	// the third is limited.
	s := newSecured(t, rulesYAML+"failed_auth: {per_source_per_minute: 1000, global_per_second: 0.25}\n", "")
	statuses := map[int]int{}
	for i := range 3 {
		status, _ := s.do("/metrics", fmt.Sprintf("basic prometheus guess-%d", i), false)
		statuses[status]++
	}
	if statuses[429] == 0 {
		t.Fatalf("guesses were never limited: %v", statuses)
	}
	client := s.pki.HTTPClient(nil)
	client.Transport.(*http.Transport).DialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext
	status, _, err := get(client, "https://"+s.addr+"/metrics", "prometheus", promPass)
	if err != nil || status != http.StatusOK {
		t.Errorf("right password from a new source after the guesses: %d %v, want 200", status, err)
	}
}

// Regression cases from the attack review: no path encoding, method or
// query trick reaches a path the identity's rule does not allow. The
// handler here answers 200 on every path; prometheus may reach /metrics
// only, so anything but a refusal is a way around the rules.
func TestAuthorizationTricks(t *testing.T) {
	s := newSecured(t, rulesYAML, "")
	cfg := s.pki.ClientTLS(nil)
	auth := "Authorization: Basic " + basic("prometheus", promPass) + "\r\n"
	for _, target := range []string{
		"/secret", "/metrics/../secret", "/metrics/%2e%2e/secret", "//secret", "/./secret",
		"/%73ecret", "/SECRET", "/secret?/metrics", "/secret#/metrics", "/secret%00/metrics",
		"/metrics%2f..%2fsecret", "*", "http://localhost/secret", "/metrics/../../secret",
	} {
		for _, method := range []string{"GET", "POST", "HEAD", "TRACE", "OPTIONS"} {
			status, _ := rawExchange(t, s.addr, cfg, method+" "+target+" HTTP/1.1\r\nHost: localhost\r\n"+auth+"\r\n")
			if strings.HasPrefix(status, "200") {
				t.Errorf("%s %s: %s, want a refusal", method, target, status)
			}
		}
	}
	if status, _ := rawExchange(t, s.addr, cfg, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n"+auth+"\r\n"); !strings.HasPrefix(status, "200") {
		t.Errorf("GET /metrics: %s, want 200 (the test must be able to succeed)", status)
	}
}

func basic(user, pass string) string {
	r := http.Request{Header: http.Header{}}
	r.SetBasicAuth(user, pass)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

// A file that never ends (a device) or is huge is refused, not read
// forever; a bcrypt cost that would take minutes per check is refused.
func TestUnboundedInputsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.yml")
	content := "tls_server_config:\n  cert_file: /dev/zero\n  key_file: /dev/zero\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- webconf.Validate(path) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "/dev/zero: not a regular file") {
			t.Errorf("cert_file /dev/zero: got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Validate still reading /dev/zero after 10 s")
	}

	h, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	costly := strings.Replace(string(h), "$04$", "$17$", 1) // only the cost is read
	if err := os.WriteFile(path, []byte("basic_auth_users:\n  u: "+costly+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := webconf.Validate(path); err == nil || !strings.Contains(err.Error(), "bcrypt cost 17 is above 16") {
		t.Errorf("cost 17: got %v", err)
	}
}

// A reload that takes a name out of client_allowed_sans shuts that client
// out of resumed TLS sessions too: Go skips VerifyPeerCertificate, where
// exporter-toolkit checks the names, when a client resumes with a session
// ticket from before the reload, and that client kept getting in.
func TestAllowedSANsHoldOnResumedSessions(t *testing.T) {
	dir := t.TempDir()
	p := webconftest.NewPKI(t, dir)
	path := filepath.Join(dir, "web.yml")
	write := func(sans string) {
		t.Helper()
		conf := "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n" +
			"  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n  client_allowed_sans: [" + sans + "]\n"
		if err := os.WriteFile(path+".tmp", []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path+".tmp", path); err != nil {
			t.Fatal(err)
		}
	}
	write("prometheus.test, intruder.test")
	addrs := []string{"127.0.0.1:0"}
	srv := start(t, webconf.Options{
		Flags:          &webconf.Flags{FlagConfig: &web.FlagConfig{WebListenAddresses: &addrs, WebSystemdSocket: new(bool), WebConfigFile: &path}},
		Handler:        http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello") }),
		Logger:         slog.New(slog.DiscardHandler),
		ReloadInterval: 20 * time.Millisecond,
	})
	url := "https://" + srv.Addrs()[0].String() + "/"
	intruder := p.NewClient(t, "intruder.test", time.Hour)
	resuming := p.ClientTLS(intruder)
	resuming.ClientSessionCache = tls.NewLRUClientSessionCache(8)
	// One connection a request: each is a handshake, resumed from the cache.
	connect := func(cfg *tls.Config) (*http.Response, error) {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
		resp, err := c.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return resp, err
	}
	for i := range 2 {
		resp, err := connect(resuming)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("before the reload, request %d: %v %v", i, resp, err)
		}
		if i == 1 && !resp.TLS.DidResume {
			t.Fatal("the second connection did not resume its session: the test shows nothing")
		}
	}

	write("prometheus.test")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := connect(p.ClientTLS(intruder)); err != nil {
			break // the reload is in force for a full handshake
		}
		if time.Now().After(deadline) {
			t.Fatal("a full handshake with intruder.test still succeeds 5 s after the reload")
		}
	}
	for i := range 3 {
		if resp, err := connect(resuming); err == nil {
			t.Errorf("after the reload, resumed connection %d: %d (resumed %v), want the handshake refused", i, resp.StatusCode, resp.TLS.DidResume)
		}
	}
}
