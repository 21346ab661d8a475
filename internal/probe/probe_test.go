package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/config"

	"github.com/warden-exporter/warden/internal/pki"
)

const password = "s3cret-password"

// testPKI is a CA with its files, and another CA.
type testPKI struct {
	dir       string
	ca, other *pki.CA
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	k := &testPKI{dir: t.TempDir()}
	var err error
	if k.ca, err = pki.NewCA("probe CA", 24*time.Hour*365); err != nil {
		t.Fatal(err)
	}
	if k.other, err = pki.NewCA("other CA", 24*time.Hour*365); err != nil {
		t.Fatal(err)
	}
	client, err := k.ca.Client("prometheus", nil, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := k.other.Client("prometheus", nil, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		k.ca.WriteFiles(k.path("ca.crt"), ""),
		client.WriteFiles(k.path("client.crt"), k.path("client.key")),
		foreign.WriteFiles(k.path("foreign.crt"), k.path("foreign.key")),
		os.WriteFile(k.path("password"), []byte(password+"\n"), 0o600),
		os.WriteFile(k.path("wrong-password"), []byte("nope\n"), 0o600),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return k
}

func (k *testPKI) path(name string) string { return filepath.Join(k.dir, name) }

// server starts an exporter stand-in: TLS with cert (from ca or other),
// client certificates required from the CA when mtls, the password.
func (k *testPKI) server(t *testing.T, signer *pki.CA, hosts []string, validFor time.Duration, mtls bool, maxVersion uint16) string {
	t.Helper()
	leaf, err := signer.Server("exporter", hosts, validFor)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "prometheus" || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="warden"`)
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/metrics":
			fmt.Fprint(w, "# TYPE a gauge\na 1\n# TYPE b counter\nb_total 2\n")
		case "/garbage":
			fmt.Fprint(w, "this is { not metrics\n")
		case "/forbidden":
			http.Error(w, "Forbidden", http.StatusForbidden)
		default:
			http.NotFound(w, r)
		}
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refusals are the point
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}, MaxVersion: maxVersion}
	if mtls {
		pool := x509.NewCertPool()
		pool.AddCert(k.ca.Cert)
		srv.TLS.ClientCAs, srv.TLS.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func (k *testPKI) http(cert, passwordFile string) config.HTTPClientConfig {
	h := config.HTTPClientConfig{TLSConfig: config.TLSConfig{CAFile: k.path("ca.crt")}}
	if cert != "" {
		h.TLSConfig.CertFile, h.TLSConfig.KeyFile = k.path(cert+".crt"), k.path(cert+".key")
	}
	if passwordFile != "" {
		h.BasicAuth = &config.BasicAuth{Username: "prometheus", PasswordFile: k.path(passwordFile)}
	}
	return h
}

// TestProbeNamesEachCause runs a target of each kind through Probe: the
// cause must be the one in the table, and the message must say it.
func TestProbeNamesEachCause(t *testing.T) {
	k := newTestPKI(t)
	year := 365 * 24 * time.Hour
	local := []string{"127.0.0.1"}
	good := k.server(t, k.ca, local, year, true, 0)
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}()
	plain := httptest.NewUnstartedServer(http.NotFoundHandler())
	plain.Config.ErrorLog = log.New(io.Discard, "", 0)
	plain.Start()
	t.Cleanup(plain.Close)
	tls12 := k.http("client", "password")
	tls12.TLSConfig.MinVersion = config.TLSVersion(tls.VersionTLS13)

	tests := []struct {
		name   string
		target Target
		cause  Cause
		says   []string
	}{
		{"good", Target{Address: good, HTTP: k.http("client", "password")}, OK,
			[]string{"TLS 1.3", `server certificate "CN=exporter,O=Warden"`, "client certificate accepted", `password of basic_auth user "prometheus" accepted`, "2 metric families in"}},
		{"no such host", Target{Address: "nonexistent.invalid:9100", HTTP: k.http("client", "password")}, NameResolution, []string{"name resolution", "nonexistent.invalid"}},
		{"nothing listens", Target{Address: closed, HTTP: k.http("client", "password")}, TCPConnect, []string{"TCP connect to " + closed, "connection refused"}},
		{"plain HTTP", Target{Address: plain.Listener.Addr().String(), HTTP: k.http("client", "password")}, NotTLS, []string{"plain HTTP"}},
		{"TLS version", Target{Address: k.server(t, k.ca, local, year, true, tls.VersionTLS12), HTTP: tls12}, TLSVersion,
			[]string{"the server speaks TLS 1.2; tls_config allows TLS 1.3 to TLS 1.3"}},
		{"unknown authority", Target{Address: k.server(t, k.other, local, year, true, 0), HTTP: k.http("client", "password")}, UnknownAuthority,
			[]string{`is signed by "CN=other CA,O=Warden", an unknown authority: Prometheus trusts ` + k.path("ca.crt") + ` ("CN=probe CA,O=Warden")`}},
		{"expired", Target{Address: k.server(t, k.ca, local, -time.Hour, true, 0), HTTP: k.http("client", "password")}, ServerCertExpired,
			[]string{"expired at", "ago"}},
		{"SAN mismatch", Target{Address: k.server(t, k.ca, []string{"node1.example", "10.9.9.9"}, year, true, 0), HTTP: k.http("client", "password")}, SANMismatch,
			[]string{"server certificate is valid for node1.example, 10.9.9.9, not for 127.0.0.1 (the address scraped)"}},
		{"expiring", Target{Address: k.server(t, k.ca, local, 3*24*time.Hour, true, 0), HTTP: k.http("client", "password")}, ServerCertExpiring,
			[]string{"expires in 2d", "within --warn 14d", "2 metric families"}},
		{"no client certificate", Target{Address: good, HTTP: k.http("", "password")}, ClientCertRefused,
			[]string{"client certificate refused by the exporter", "requires one and tls_config has none", `accepts certificates from "CN=probe CA,O=Warden"`}},
		{"client certificate from another CA", Target{Address: good, HTTP: k.http("foreign", "password")}, ClientCertRefused,
			[]string{`ours is issued by "CN=other CA,O=Warden"; the exporter accepts certificates from "CN=probe CA,O=Warden"`}},
		{"wrong password", Target{Address: good, HTTP: k.http("client", "wrong-password")}, Unauthorized,
			[]string{`401 Unauthorized: the exporter refused the password of basic_auth user "prometheus"`, `asks for Basic realm="warden"`}},
		{"no credentials", Target{Address: good, HTTP: k.http("client", "")}, Unauthorized, []string{"no basic_auth or authorization configured"}},
		{"forbidden", Target{Address: good, MetricsPath: "/forbidden", HTTP: k.http("client", "password")}, Forbidden, []string{"403 Forbidden", "/forbidden", `the exporter says "Forbidden"`}},
		{"not found", Target{Address: good, MetricsPath: "/nowhere", HTTP: k.http("client", "password")}, HTTPStatus, []string{"HTTP 404 Not Found"}},
		{"not metrics", Target{Address: good, MetricsPath: "/garbage", HTTP: k.http("client", "password")}, BadExposition, []string{"not a metrics exposition"}},
		{"unreadable password file", Target{Address: good, HTTP: k.http("client", "missing")}, BadConfig, []string{"basic_auth.password", "no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Probe(t.Context(), tt.target, Options{Warn: 14 * 24 * time.Hour})
			t.Log(Line(r))
			if r.Cause != tt.cause {
				t.Fatalf("cause %s, want %s: %s", r.Cause, tt.cause, r.Message)
			}
			if r.OK != (tt.cause == OK) {
				t.Errorf("OK = %v for cause %s", r.OK, r.Cause)
			}
			for _, s := range tt.says {
				if !strings.Contains(r.Message, s) {
					t.Errorf("message lacks %q:\n%s", s, r.Message)
				}
			}
			if strings.Contains(r.Message, password) || strings.Contains(Line(r), password) {
				t.Errorf("the password is in the output: %s", r.Message)
			}
		})
	}
}

// TestAllBoundsConcurrency probes 100 targets that each hold their
// connection a while: All runs them at once, but never more than the bound.
func TestAllBoundsConcurrency(t *testing.T) {
	var mu = make(chan struct{}, 1)
	inFlight, peak := 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu <- struct{}{}
		inFlight++
		peak = max(peak, inFlight)
		<-mu
		time.Sleep(20 * time.Millisecond)
		mu <- struct{}{}
		inFlight--
		<-mu
		fmt.Fprint(w, "a 1\n")
	}))
	t.Cleanup(srv.Close)
	targets := make([]Target, 100)
	for i := range targets {
		targets[i] = Target{Address: srv.Listener.Addr().String(), Scheme: "http", Labels: map[string]string{"i": fmt.Sprint(i)}}
	}
	start := time.Now()
	results := All(context.Background(), targets, Options{Concurrency: 10})
	took := time.Since(start)
	for i, r := range results {
		if !r.OK || r.Labels["i"] != fmt.Sprint(i) {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	if peak > 10 {
		t.Errorf("%d probes at once, bound 10", peak)
	}
	if peak < 5 || took > 2*time.Second {
		t.Errorf("peak %d in flight, %s for 100 probes of 20ms: not concurrent", peak, took)
	}
}
