package alertclient

// Redirects on the alert path, against fault-injecting httptest servers:
// fakeAM (which, like Alertmanager, answers GET /api/v2/alerts 200) and
// hops that redirect wherever a test says. A real Alertmanager behind a
// redirect is in internal/e2e.

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/config"
)

// hop is a server that records the requests it gets and redirects each to
// target (plus the request's path) with status code, or, with no target,
// answers 200 "[]" as Alertmanager answers a GET of its alerts.
type hop struct {
	*httptest.Server
	requests atomic.Int32
	// withAuth counts the requests that carried an Authorization header.
	withAuth atomic.Int32
}

func newHop(t *testing.T, tls bool, code int, target string) *hop {
	h := &hop{}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.requests.Add(1)
		if r.Header.Get("Authorization") != "" {
			h.withAuth.Add(1)
		}
		if target != "" {
			http.Redirect(w, r, target+r.URL.Path, code)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, "[]")
	})
	if tls {
		h.Server = httptest.NewTLSServer(handler)
	} else {
		h.Server = httptest.NewServer(handler)
	}
	t.Cleanup(h.Close)
	return h
}

// newDualHop serves https and plain http on the same host and port, as a
// server on ports 443 and 80 of one name does for URLs without a port: over
// https it redirects every request to the same URL with http and status
// code; over http it is a hop without target.
func newDualHop(t *testing.T, code int) (httpsURL string, plain *hop) {
	plain = &hop{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			http.Redirect(w, r, "http://"+r.Host+r.URL.Path, code)
			return
		}
		plain.requests.Add(1)
		if r.Header.Get("Authorization") != "" {
			plain.withAuth.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, "[]")
	})}
	// The certificate every TLS httptest server has, which the clients trust.
	certs := httptest.NewTLSServer(http.NotFoundHandler())
	tlsConfig := certs.TLS.Clone()
	certs.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(dualListener{l, tlsConfig}) }() // ends with ErrServerClosed at Close
	t.Cleanup(func() { srv.Close() })
	return "https://" + l.Addr().String(), plain
}

// dualListener tells TLS from plain connections by their first byte: a TLS
// handshake record starts with 22.
type dualListener struct {
	net.Listener
	tls *tls.Config
}

func (l dualListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(c)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second)) // a test client sends at once
	first, err := br.Peek(1)
	_ = c.SetReadDeadline(time.Time{})
	pc := peekedConn{c, br}
	if err == nil && first[0] == 22 {
		return tls.Server(pc, l.tls), nil
	}
	return pc, nil
}

// peekedConn reads first what was peeked.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// redirectConfig is testConfig for url alone (trusting the httptest
// certificate, which every TLS httptest server shares), with a password
// and follow_redirects as given.
func redirectConfig(t *testing.T, spool, url string, follow bool) *Config {
	t.Helper()
	cfg := testConfig(t, spool, []*fakeAM{newFakeAM(t, 200)})
	am := &cfg.Alertmanagers[0]
	am.URLs = []string{url}
	am.HTTPConfig.FollowRedirects = follow
	am.HTTPConfig.BasicAuth = &config.BasicAuth{Username: "warden", Password: "s3cret"}
	return cfg
}

// A redirect is never a delivery. Before, with prometheus/common's default
// follow_redirects: true, a 301 from http to https turned the POST into a
// GET that Alertmanager answers 200, counted as delivered; a redirect from
// https to http sent the password in cleartext. Now a redirect is followed
// only when follow_redirects is true, and then only to the same scheme and
// host, keeping the method (307, 308); any other 3xx is a refusal naming
// where it pointed.
func TestRedirectIsNotADelivery(t *testing.T) {
	type setup struct {
		url, location string
		// landed counts the requests that reached where the redirect pointed.
		landed func() int32
		// fake is the Alertmanager that must hold the alert when delivered.
		fake *fakeAM
	}
	toFake := func(tls bool, code int) func(t *testing.T) setup {
		return func(t *testing.T) setup {
			f := newFakeAM(t, 200)
			h := newHop(t, tls, code, f.URL)
			return setup{h.URL, f.URL + "/api/v2/alerts", func() int32 { return f.posts.Load() + f.gets.Load() }, f}
		}
	}
	sameHost := func(code int) func(t *testing.T) setup {
		return func(t *testing.T) setup {
			f := newFakeAM(t, 200)
			f.redirect = code
			return setup{f.URL + "/moved", f.URL + "/api/v2/alerts", func() int32 { return f.posts.Load() + f.gets.Load() }, f}
		}
	}
	tests := []struct {
		name      string
		follow    bool
		setup     func(t *testing.T) setup
		delivered bool
	}{
		{"http to https, 301", false, toFake(false, http.StatusMovedPermanently), false},
		{"http to https, 301, follow_redirects", true, toFake(false, http.StatusMovedPermanently), false},
		{"http to https, 308, follow_redirects", true, toFake(false, http.StatusPermanentRedirect), false},
		{"https to http, 307, follow_redirects", true, func(t *testing.T) setup {
			plain := newHop(t, false, 0, "")
			h := newHop(t, true, http.StatusTemporaryRedirect, plain.URL)
			return setup{h.URL, plain.URL + "/api/v2/alerts", func() int32 { return plain.requests.Load() }, nil}
		}, false},
		{"https to http on the same host and port, 307, follow_redirects", true, func(t *testing.T) setup {
			url, plain := newDualHop(t, http.StatusTemporaryRedirect)
			return setup{url, "http" + strings.TrimPrefix(url, "https") + "/api/v2/alerts", func() int32 { return plain.requests.Load() }, nil}
		}, false},
		{"other host, 308, follow_redirects", true, toFake(true, http.StatusPermanentRedirect), false},
		{"same host, 307", false, sameHost(http.StatusTemporaryRedirect), false},
		{"same host, 301, follow_redirects", true, sameHost(http.StatusMovedPermanently), false},
		{"same host, 302, follow_redirects", true, sameHost(http.StatusFound), false},
		{"same host, 303, follow_redirects", true, sameHost(http.StatusSeeOther), false},
		{"same host, 307, follow_redirects", true, sameHost(http.StatusTemporaryRedirect), true},
		{"same host, 308, follow_redirects", true, sameHost(http.StatusPermanentRedirect), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.setup(t)
			c, err := New(Options{Config: redirectConfig(t, t.TempDir(), s.url, tt.follow), Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := c.Send(ctx, alertsNamed("Redirected"))
			if tt.delivered {
				if err != nil || res.Delivered != 1 || s.fake.count() != 1 {
					t.Fatalf("res %+v err %v, fake accepted %d; want the alert delivered", res, err, s.fake.count())
				}
				return
			}
			if !errors.Is(err, ErrNotDelivered) || errors.Is(err, ErrSpooled) {
				t.Fatalf("res %+v err %v, want ErrNotDelivered", res, err)
			}
			if want := "redirect to " + s.location; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
			if res.Delivered != 0 || res.Endpoints[0].Attempts != 1 {
				t.Errorf("result %+v, want nothing delivered after one attempt", res)
			}
			if n := s.landed(); n != 0 {
				t.Errorf("the redirect was followed: %d request(s) reached %s", n, s.location)
			}
			if st, _ := c.spool.Stats(); st.Alerts != 0 {
				t.Errorf("a redirected alert was spooled: %+v", st)
			}
		})
	}
}

// The password never goes over plain http because of a redirect, even to
// the same host and port, even with follow_redirects, a POST or a GET.
func TestRedirectToHTTPSendsNoPassword(t *testing.T) {
	for _, code := range []int{http.StatusMovedPermanently, http.StatusTemporaryRedirect} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			url, plain := newDualHop(t, code)
			c, err := New(Options{Config: redirectConfig(t, "", url, true), Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			// Only what reached plain http matters, not the errors.
			_, _ = c.Send(context.Background(), alertsNamed("A"))
			_, _ = c.Query(context.Background(), []string{`alertname="A"`})
			if n := plain.requests.Load(); n != 0 {
				t.Errorf("%d request(s) followed the redirect to plain http, %d with the password", n, plain.withAuth.Load())
			}
		})
	}
}

// A spooled batch meeting a redirect stays in the spool: a GET answered
// 200 used to count it delivered, and Flush deleted it.
func TestRedirectKeepsSpooledBatch(t *testing.T) {
	spool := t.TempDir()
	s := openTestSpool(t, spool, 0)
	if err := s.Put(alertsNamed("Spooled")); err != nil {
		t.Fatal(err)
	}
	f := newFakeAM(t, 200)
	h := newHop(t, false, http.StatusMovedPermanently, f.URL)
	c, err := New(Options{Config: redirectConfig(t, spool, h.URL, false), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Flush(context.Background())
	if err == nil || !strings.Contains(err.Error(), "redirect to "+f.URL+"/api/v2/alerts") || res.Delivered != 0 {
		t.Errorf("Flush: %+v, %v; want nothing delivered and the redirect named", res, err)
	}
	if st, _ := s.Stats(); st.Batches != 1 || st.Alerts != 1 {
		t.Errorf("spool after the redirect: %+v, want the batch still there", st)
	}
	if n := f.posts.Load() + f.gets.Load(); n != 0 {
		t.Errorf("the redirect was followed: the Alertmanager saw %d requests", n)
	}
}

// A query follows a redirect only with follow_redirects, to the same host.
func TestQueryRedirect(t *testing.T) {
	for _, follow := range []bool{false, true} {
		t.Run(fmt.Sprintf("follow_redirects %v", follow), func(t *testing.T) {
			f := newFakeAM(t, 200)
			f.redirect = http.StatusMovedPermanently
			c, err := New(Options{Config: redirectConfig(t, "", f.URL+"/moved", follow), Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Query(context.Background(), nil)
			switch {
			case follow && err != nil:
				t.Errorf("same-host redirect of a GET with follow_redirects: %v", err)
			case !follow && (err == nil || !strings.Contains(err.Error(), "redirect to "+f.URL+"/api/v2/alerts")):
				t.Errorf("got %v, want an error naming the redirect", err)
			case !follow && f.gets.Load() != 0:
				t.Errorf("the redirect was followed")
			}
		})
	}
}

// follow_redirects is false unless a file sets it, in --alert.config.file
// and --http.config.file alike (prometheus/common defaults it to true).
func TestFollowRedirectsOnlyWhenGiven(t *testing.T) {
	httpConfig := func(content string) string {
		path := filepath.Join(t.TempDir(), "http.yml")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	load := func(file string) func() (*Config, error) {
		return func() (*Config, error) { return LoadConfig(filepath.Join("testdata", file)) }
	}
	flags := func(httpConfigFile string) func() (*Config, error) {
		return func() (*Config, error) {
			return FlagConfig([]string{"https://am:9093"}, httpConfigFile, "", 0)
		}
	}
	tests := []struct {
		name   string
		load   func() (*Config, error)
		follow bool
	}{
		{"alert config without it", load("minimal.good.yml"), false},
		{"alert config with http_config but without it", load("full.good.yml"), false},
		{"alert config with follow_redirects: true", load("follow-redirects.good.yml"), true},
		{"flags without --http.config.file", flags(""), false},
		{"--http.config.file without it", flags(httpConfig("tls_config: {insecure_skip_verify: false}\n")), false},
		{"--http.config.file with follow_redirects: false", flags(httpConfig("follow_redirects: false\n")), false},
		{"--http.config.file with follow_redirects: true", flags(httpConfig("follow_redirects: true\n")), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := tt.load()
			if err != nil {
				t.Fatal(err)
			}
			for _, am := range cfg.Alertmanagers {
				if am.HTTPConfig.FollowRedirects != tt.follow {
					t.Errorf("follow_redirects %v, want %v", am.HTTPConfig.FollowRedirects, tt.follow)
				}
			}
		})
	}
}
