package webconf_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/exporter-toolkit/web"

	"github.com/warden-exporter/warden/webconf"
	"github.com/warden-exporter/warden/webconf/webconftest"
)

// fixtureDir copies testdata/name into a directory holding a fresh PKI, an
// empty certificate file and a subdirectory, which the fixtures refer to.
func fixtureDir(t *testing.T, name string) (string, *webconftest.PKI) {
	t.Helper()
	dir := t.TempDir()
	p := webconftest.NewPKI(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "empty.crt"), []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "subdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	content, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "web-config.yml")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, p
}

func TestValidate(t *testing.T) {
	tests := []struct {
		file string
		// want holds the substrings of the error, one per problem; none for a good file.
		want []string
	}{
		{file: "empty.bad.yml", want: []string{"empty file: no YAML document"}},
		{file: "tls.good.yml"},
		{file: "mtls-basic.good.yml"},
		{file: "allowed-sans.good.yml"},
		{file: "broken.bad.yml", want: []string{"yaml: line 2"}},
		{file: "unknown-field.bad.yml", want: []string{"field client_auth not found"}},
		{file: "plaintext-password.bad.yml", want: []string{`basic_auth_users: user "prometheus": password is not a bcrypt hash`}},
		{file: "missing-cert.bad.yml", want: []string{"cert_file: open ", "nonexistent.crt: no such file or directory"}},
		{file: "missing-key-field.bad.yml", want: []string{"key_file: missing: TLS needs one of key_file or key"}},
		{file: "key-mismatch.bad.yml", want: []string{"server.crt and ", "client.key do not form a valid pair: tls: private key does not match public key"}},
		{file: "verify-without-ca.bad.yml", want: []string{"client_auth_type: RequireAndVerifyClientCert needs client_ca_file"}},
		{file: "ca-without-client-auth.bad.yml", want: []string{`client_auth_type: client_ca_file is set but client_auth_type is ""`}},
		{file: "empty-ca.bad.yml", want: []string{"client_ca_file: ", "empty.crt holds no PEM certificate"}},
		{file: "unreadable-ca.bad.yml", want: []string{"client_ca_file: ", "subdir: not a regular file"}},
		{file: "sans-without-required-cert.bad.yml", want: []string{`client_allowed_sans: needs client_auth_type RequireAndVerifyClientCert (is "VerifyClientCertIfGiven")`}},
		{file: "unknown-client-auth.bad.yml", want: []string{`client_auth_type: unknown value "RequireAndVerifyClientCertificate"`}},
		{file: "bad-header.bad.yml", want: []string{"invalid value for X-Frame-Options"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path, _ := fixtureDir(t, tt.file)
			err := webconf.Validate(path)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted a bad file")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error does not name the file %s: %v", path, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestValidateNoFile(t *testing.T) {
	if err := webconf.Validate(""); err != nil {
		t.Errorf("empty path: %v", err)
	}
	err := webconf.Validate(filepath.Join(t.TempDir(), "missing.yml"))
	if err == nil || !strings.Contains(err.Error(), "missing.yml: open") {
		t.Errorf("missing file: got %v", err)
	}
}

// server starts a webconf.Server on 127.0.0.1:0 (count listeners) with the
// web config at path, serving "hello" on every path, and stops it at the
// end of the test.
func server(t *testing.T, path string, count int, timeouts webconf.Timeouts, h http.Handler) []string {
	t.Helper()
	if h == nil {
		h = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello") })
	}
	addrs := make([]string, count)
	for i := range addrs {
		addrs[i] = "127.0.0.1:0"
	}
	srv := start(t, webconf.Options{
		Flags:    &webconf.Flags{FlagConfig: &web.FlagConfig{WebListenAddresses: &addrs, WebSystemdSocket: new(bool), WebConfigFile: &path}},
		Handler:  h,
		Logger:   slog.New(slog.DiscardHandler),
		Timeouts: timeouts,
	})
	var out []string
	for _, a := range srv.Addrs() {
		out = append(out, a.String())
	}
	return out
}

// startServer is server with one listener and logger, returning the Server.
func startServer(t *testing.T, path string, logger *slog.Logger) *webconf.Server {
	t.Helper()
	addrs := []string{"127.0.0.1:0"}
	return start(t, webconf.Options{
		Flags:   &webconf.Flags{FlagConfig: &web.FlagConfig{WebListenAddresses: &addrs, WebSystemdSocket: new(bool), WebConfigFile: &path}},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello") }),
		Logger:  logger,
	})
}

// start serves opts until the test ends.
func start(t *testing.T, opts webconf.Options) *webconf.Server {
	t.Helper()
	srv, err := webconf.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv
}

// get is webconftest.Get.
var get = webconftest.Get

func TestServeMTLSBasicAuth(t *testing.T) {
	path, p := fixtureDir(t, "mtls-basic.good.yml")
	addr := server(t, path, 1, webconf.Timeouts{}, nil)[0]
	url := "https://" + addr + "/metrics"

	foreign := webconftest.NewPKI(t, t.TempDir()).Client

	tests := []struct {
		name       string
		client     *http.Client
		user, pass string
		wantStatus int // 0: the TLS handshake must fail
	}{
		{"right certificate and password", p.HTTPClient(p.Client), "prometheus", "secret", http.StatusOK},
		{"no client certificate", p.HTTPClient(nil), "prometheus", "secret", 0},
		{"certificate from another CA", p.HTTPClient(foreign), "prometheus", "secret", 0},
		{"wrong password", p.HTTPClient(p.Client), "prometheus", "wrong", http.StatusUnauthorized},
		{"unknown user", p.HTTPClient(p.Client), "admin", "secret", http.StatusUnauthorized},
		{"no credentials", p.HTTPClient(p.Client), "", "", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, err := get(tt.client, url, tt.user, tt.pass)
			if tt.wantStatus == 0 {
				if err == nil {
					t.Fatalf("request succeeded with status %d", status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d", status, tt.wantStatus)
			}
			if status != http.StatusOK && strings.Contains(body, "hello") {
				t.Errorf("refused request got the content: %q", body)
			}
		})
	}

	t.Run("plain HTTP to the TLS port", func(t *testing.T) {
		status, body, err := get(http.DefaultClient, "http://"+addr+"/metrics", "prometheus", "secret")
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusBadRequest || strings.Contains(body, "hello") {
			t.Errorf("status %d body %q", status, body)
		}
	})
}

func TestServeAllowedSANs(t *testing.T) {
	path, p := fixtureDir(t, "allowed-sans.good.yml")
	addr := server(t, path, 1, webconf.Timeouts{}, nil)[0]
	other := p.NewClient(t, "intruder.test", time.Hour)
	if status, _, err := get(p.HTTPClient(p.Client), "https://"+addr+"/", "", ""); err != nil || status != http.StatusOK {
		t.Errorf("allowed SAN: status %d, err %v", status, err)
	}
	if _, _, err := get(p.HTTPClient(other), "https://"+addr+"/", "", ""); err == nil {
		t.Error("a certificate without an allowed SAN was accepted")
	}
}

// With several listen addresses, exporter-toolkit's ServeMultiple wraps one
// server's handler once per listener, concurrently. Run under -race, this
// test fails if webconf ever shares a server between listeners again.
func TestServeSeveralListeners(t *testing.T) {
	path, p := fixtureDir(t, "mtls-basic.good.yml")
	addrs := server(t, path, 2, webconf.Timeouts{}, nil)
	if len(addrs) != 2 {
		t.Fatalf("listening on %v", addrs)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		addr := addrs[i%2]
		wg.Go(func() {
			status, body, err := get(p.HTTPClient(p.Client), "https://"+addr+"/", "prometheus", "secret")
			if err != nil || status != http.StatusOK || body != "hello" {
				t.Errorf("%s: status %d body %q err %v", addr, status, body, err)
			}
		})
	}
	wg.Wait()
}

func TestIdleConnectionIsClosed(t *testing.T) {
	path, _ := fixtureDir(t, "tls.good.yml")
	addr := server(t, path, 1, webconf.Timeouts{ReadHeader: 200 * time.Millisecond}, nil)[0]
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Send nothing: the server must give up on the handshake by itself.
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = conn.Read(make([]byte, 1))
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		t.Fatal("server kept an idle connection open past its header timeout")
	}
	if err == nil {
		t.Fatal("server sent data to a silent client")
	}
}

func TestGracefulShutdown(t *testing.T) {
	path, p := fixtureDir(t, "tls.good.yml")
	started := make(chan struct{})
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "finished")
	})
	addrs := []string{"127.0.0.1:0"}
	srv, err := webconf.New(webconf.Options{
		Flags:   &webconf.Flags{FlagConfig: &web.FlagConfig{WebListenAddresses: &addrs, WebSystemdSocket: new(bool), WebConfigFile: &path}},
		Handler: h,
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Addrs()[0].String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()

	result := make(chan string, 1)
	go func() {
		_, body, err := get(p.HTTPClient(nil), "https://"+addr+"/", "", "")
		if err != nil {
			body = err.Error()
		}
		result <- body
	}()
	<-started
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Serve returned before the request finished: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if body := <-result; body != "finished" {
		t.Errorf("in-flight request got %q", body)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Error("still accepting connections after shutdown")
	}
}

func TestNewRefusesBadConfigBeforeListening(t *testing.T) {
	path, _ := fixtureDir(t, "key-mismatch.bad.yml")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	addrs := []string{addr}
	_, err = webconf.New(webconf.Options{
		Flags:   &webconf.Flags{FlagConfig: &web.FlagConfig{WebListenAddresses: &addrs, WebSystemdSocket: new(bool), WebConfigFile: &path}},
		Handler: http.NotFoundHandler(),
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err == nil {
		t.Fatal("New accepted a key that does not match its certificate")
	}
	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("address left bound after refusing to start: %v", err)
	}
	l.Close()
}

// Warden checks the web config's response headers itself (it reads the
// file once); it must accept and refuse exactly what exporter-toolkit does.
func TestHeadersAsToolkit(t *testing.T) {
	for _, headers := range []string{
		"X-Frame-Options: deny",
		"X-Frame-Options: sameorigin",
		"X-Frame-Options: allow",
		"X-Content-Type-Options: nosniff",
		"X-Content-Type-Options: sniff",
		"Strict-Transport-Security: max-age=31536000",
		"X-XSS-Protection: 1",
		"Content-Security-Policy: default-src 'self'",
		"Server: warden",
		"Set-Cookie: a=b",
	} {
		path := filepath.Join(t.TempDir(), "web.yml")
		if err := os.WriteFile(path, []byte("http_server_config:\n  headers:\n    "+headers+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		ours, theirs := webconf.Validate(path), web.Validate(path)
		if (ours == nil) != (theirs == nil) {
			t.Errorf("%s: Warden says %v, exporter-toolkit says %v", headers, ours, theirs)
		}
	}
}
