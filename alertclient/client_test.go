package alertclient

// These tests use a fake Alertmanager (httptest) for what a real one cannot
// be made to do on demand: answer 503 or 429, refuse with a body, hang in
// the TLS handshake. The end-to-end tests in internal/e2e run Debian's real
// prometheus-alertmanager for everything else.

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
)

// fakeAM answers POST /api/v2/alerts with the statuses given in turn (the
// last one repeats) and records the alerts it accepted. Like Alertmanager,
// it answers GET /api/v2/alerts 200 with the alerts it holds (none here).
// Under /moved/, it redirects to the same path without /moved with
// status redirect.
type fakeAM struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	posts    atomic.Int32
	gets     atomic.Int32
	accepted []map[string]string
	// received holds the alerts accepted, times included.
	received []Alert
	redirect int
}

func newFakeAM(t *testing.T, statuses ...int) *fakeAM {
	f := &fakeAM{statuses: statuses, redirect: http.StatusTemporaryRedirect}
	f.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.Path, "/moved/"); ok {
			http.Redirect(w, r, "/"+rest, f.redirect)
			return
		}
		if r.URL.Path == "/api/v2/alerts" && r.Method == http.MethodGet {
			f.gets.Add(1)
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, "[]\n")
			return
		}
		if r.URL.Path != "/api/v2/alerts" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		n := int(f.posts.Add(1)) - 1
		status := f.statuses[min(n, len(f.statuses)-1)]
		if status != http.StatusOK {
			http.Error(w, "fake refusal "+http.StatusText(status), status)
			return
		}
		var body []Alert
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		for _, a := range body {
			f.accepted = append(f.accepted, a.Labels)
		}
		f.received = append(f.received, body...)
		f.mu.Unlock()
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAM) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.accepted)
}

// alerts returns the alerts accepted so far, times included.
func (f *fakeAM) alerts() []Alert {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.received)
}

// testClient builds a client for the URLs, trusting the fakes' certificate.
func testClient(t *testing.T, spool string, fakes []*fakeAM, urls ...string) *Client {
	t.Helper()
	c, err := New(Options{Config: testConfig(t, spool, fakes, urls...), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testConfig is a Config, built in Go, for the URLs and the fakes: short
// backoffs and batches of two.
func testConfig(t *testing.T, spool string, fakes []*fakeAM, urls ...string) *Config {
	t.Helper()
	hc := config.DefaultHTTPClientConfig
	if len(fakes) > 0 {
		caFile := filepath.Join(t.TempDir(), "ca.pem")
		var pem []byte
		for _, f := range fakes {
			pem = append(pem, certPEM(f.Certificate().Raw)...)
		}
		if err := os.WriteFile(caFile, pem, 0o600); err != nil {
			t.Fatal(err)
		}
		hc.TLSConfig.CAFile = caFile
	}
	for _, f := range fakes {
		urls = append(urls, f.URL)
	}
	return &Config{
		Alertmanagers: []AlertmanagerConfig{{URLs: urls, HTTPConfig: hc, Timeout: model.Duration(2 * time.Second)}},
		Retry:         RetryConfig{InitialBackoff: model.Duration(10 * time.Millisecond), MaxBackoff: model.Duration(50 * time.Millisecond)},
		Spool:         SpoolConfig{Directory: spool},
		BatchSize:     2,
	}
}

func alertsNamed(names ...string) []Alert {
	var out []Alert
	for _, n := range names {
		out = append(out, Alert{Labels: map[string]string{"alertname": n}})
	}
	return out
}

// closedURL is an https URL where nothing listens.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "https://" + addr
}

func TestRetriesTransientFailures(t *testing.T) {
	f := newFakeAM(t, 503, 429, 500, 200)
	c := testClient(t, "", []*fakeAM{f})
	res, err := c.Send(context.Background(), alertsNamed("A"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Delivered != 1 || res.Endpoints[0].Attempts != 4 || f.count() != 1 {
		t.Errorf("result %+v, fake saw %d posts and accepted %d", res, f.posts.Load(), f.count())
	}
	if n := testutil.ToFloat64(c.metrics.retries.WithLabelValues(f.URL)); n != 3 {
		t.Errorf("retries metric %v, want 3", n)
	}
}

func TestRefusalIsNotRetriedAndShowsTheMessage(t *testing.T) {
	f := newFakeAM(t, 400)
	spool := t.TempDir()
	c := testClient(t, spool, []*fakeAM{f})
	_, err := c.Send(context.Background(), alertsNamed("A"))
	if !errors.Is(err, ErrNotDelivered) || errors.Is(err, ErrSpooled) {
		t.Fatalf("got %v, want ErrNotDelivered", err)
	}
	if !strings.Contains(err.Error(), "400 Bad Request: fake refusal Bad Request") {
		t.Errorf("error lacks Alertmanager's status and message: %v", err)
	}
	if f.posts.Load() != 1 {
		t.Errorf("a 400 was retried: %d posts", f.posts.Load())
	}
	if st, _ := c.spool.Stats(); st.Alerts != 0 {
		t.Errorf("a refused alert was spooled: %+v", st)
	}
}

func TestOneOfTwoDownSucceedsWithoutWaiting(t *testing.T) {
	f := newFakeAM(t, 200)
	c := testClient(t, "", []*fakeAM{f}, closedURL(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	res, err := c.Send(ctx, alertsNamed("A", "B", "C"))
	if err != nil || res.Delivered != 3 || f.count() != 3 {
		t.Fatalf("res %+v err %v accepted %d", res, err, f.count())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("waited %s for the Alertmanager that is down", d)
	}
}

func TestAllDownSpoolsThenNextSendDeliversOldestFirst(t *testing.T) {
	spool := t.TempDir()
	down := testClient(t, spool, nil, closedURL(t))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	res, err := down.Send(ctx, alertsNamed("Old1", "Old2", "Old3"))
	if !errors.Is(err, ErrSpooled) || res.Spooled != 3 {
		t.Fatalf("res %+v err %v, want 3 spooled", res, err)
	}

	f := newFakeAM(t, 200)
	up := testClient(t, spool, []*fakeAM{f})
	res, err = up.Send(context.Background(), alertsNamed("New"))
	if err != nil || res.FromSpool != 3 || res.Delivered != 1 {
		t.Fatalf("res %+v err %v", res, err)
	}
	var order []string
	for _, l := range f.accepted {
		order = append(order, l["alertname"])
	}
	if strings.Join(order, ",") != "Old1,Old2,Old3,New" {
		t.Errorf("delivery order %v", order)
	}
}

func TestNoSpoolMeansNotDelivered(t *testing.T) {
	c := testClient(t, "", nil, closedURL(t))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := c.Send(ctx, alertsNamed("A")); !errors.Is(err, ErrNotDelivered) {
		t.Errorf("got %v, want ErrNotDelivered", err)
	}
}

// The deadline bounds the whole call, TLS handshake included.
func TestDeadlineBoundsTLSHandshake(t *testing.T) {
	c := testClient(t, t.TempDir(), nil, hungURL(t)) // never answers the ClientHello
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.Send(ctx, alertsNamed("A"))
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("Send took %s with a 1s deadline", d)
	}
	if !errors.Is(err, ErrSpooled) {
		t.Errorf("got %v, want the alert spooled", err)
	}
}

// The generated client defaults to http; an https URL must use TLS.
func TestHTTPSIsUsed(t *testing.T) {
	f := newFakeAM(t, 200)
	c := testClient(t, "", []*fakeAM{f})
	if _, err := c.Send(context.Background(), alertsNamed("A")); err != nil {
		t.Fatal(err)
	}
	if f.count() != 1 {
		t.Error("the TLS-only fake saw nothing")
	}
}

func TestInvalidAlertsSendNothing(t *testing.T) {
	f := newFakeAM(t, 200)
	c := testClient(t, "", []*fakeAM{f})
	_, err := c.Send(context.Background(), []Alert{{Labels: map[string]string{"alertname": "A", "bad-name": "x"}}})
	var verr *ValidationError
	if !errors.As(err, &verr) || verr.Field != "labels.bad-name" {
		t.Fatalf("got %v", err)
	}
	if f.posts.Load() != 0 {
		t.Error("an invalid alert was sent")
	}
}

func certPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// A corrupt spool file is set aside and reported, and does not hold up new alerts.
func TestCorruptSpoolFileDoesNotBlockSending(t *testing.T) {
	spool := t.TempDir()
	if err := os.WriteFile(filepath.Join(spool, "00000000000000000001-deadbeef.json"), []byte(`{"version":1,"alerts":[`), 0o600); err != nil {
		t.Fatal(err)
	}
	f := newFakeAM(t, 200)
	c := testClient(t, spool, []*fakeAM{f})
	res, err := c.Send(context.Background(), alertsNamed("New"))
	if err != nil || res.Delivered != 1 || f.count() != 1 {
		t.Fatalf("res %+v err %v", res, err)
	}
	if st, _ := c.spool.Stats(); st.Corrupt != 1 {
		t.Errorf("corrupt file not kept aside: %+v", st)
	}
}

// A spooled batch that every Alertmanager refuses for what it holds (here
// 413, as a proxy with a body limit answers) is set aside as *.refused and
// reported, and neither the batches behind it nor new alerts wait for it:
// they were spooled behind it for ever. A refusal of the sender (401)
// keeps the batch, to go once the credentials are mended. The fake
// answers what a real Alertmanager does not on demand.
func TestRefusedSpoolBatchDoesNotBlock(t *testing.T) {
	for _, tt := range []struct {
		status   int
		setAside bool
	}{
		{http.StatusRequestEntityTooLarge, true},
		{http.StatusUnprocessableEntity, true},
		{http.StatusUnauthorized, false},
	} {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			spool := t.TempDir()
			s, err := OpenSpool(spool, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"Refused", "Behind"} {
				if err := s.Put(alertsNamed(name)); err != nil {
					t.Fatal(err)
				}
			}
			f := newFakeAM(t, tt.status, 200) // the first batch is refused, the rest accepted
			c := testClient(t, spool, []*fakeAM{f})
			res, err := c.Send(context.Background(), alertsNamed("New"))
			st, serr := c.spool.Stats()
			if serr != nil {
				t.Fatal(serr)
			}
			if !tt.setAside {
				if !errors.Is(err, ErrSpooled) || st.Batches != 3 || st.Refused != 0 || f.count() != 0 {
					t.Errorf("res %+v, err %v, spool %+v, %d accepted; want all three spooled, in order", res, err, st, f.count())
				}
				return
			}
			if err != nil || res.Delivered != 1 || res.FromSpool != 1 {
				t.Errorf("res %+v err %v; want Behind from the spool and New delivered", res, err)
			}
			if got := f.alerts(); len(got) != 2 || got[0].Labels["alertname"] != "Behind" || got[1].Labels["alertname"] != "New" {
				t.Errorf("Alertmanager accepted %+v, want Behind then New", got)
			}
			if st.Batches != 0 || st.Refused != 1 {
				t.Errorf("spool %+v, want the refused batch kept aside and nothing waiting", st)
			}
			c2 := testClient(t, spool, []*fakeAM{newFakeAM(t, 200)})
			if res, err := c2.Flush(context.Background()); err != nil || res.Delivered != 0 {
				t.Errorf("a later flush: res %+v err %v; want nothing sent again", res, err)
			}
		})
	}
}

// When every batch is refused (a wrong URL: http:// to an HTTPS server is
// answered 400), nothing shows that the batches are at fault: they all
// stay spooled, to go once the URL is mended.
func TestEveryBatchRefusedStaysSpooled(t *testing.T) {
	spool := t.TempDir()
	s, err := OpenSpool(spool, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"First", "Second"} {
		if err := s.Put(alertsNamed(name)); err != nil {
			t.Fatal(err)
		}
	}
	c := testClient(t, spool, []*fakeAM{newFakeAM(t, http.StatusBadRequest, http.StatusBadRequest)})
	res, err := c.Flush(context.Background())
	if err == nil || errors.Is(err, ErrBatchRefused) || res.Delivered != 0 {
		t.Errorf("res %+v, err %v; want nothing delivered and an error that is not ErrBatchRefused", res, err)
	}
	if st, err := s.Stats(); err != nil || st.Batches != 2 || st.Refused != 0 {
		t.Errorf("spool %+v %v, want both batches still waiting", st, err)
	}
	// Mended: both go.
	ok := newFakeAM(t, 200)
	if res, err := testClient(t, spool, []*fakeAM{ok}).Flush(context.Background()); err != nil || res.Delivered != 2 {
		t.Errorf("after the mend: res %+v err %v; want both delivered", res, err)
	}
}

// A Config built in Go is safe with its numbers at zero: New gives every
// number and duration left at zero its default, and a send then uses it (a retry
// waits, batches advance, requests have time, alerts spool), where it
// used to panic, loop or fail every request. A negative one, or a
// max_backoff below initial_backoff, is an error from New naming the field;
// so is no Alertmanager, which used to count every alert as delivered.
func TestNewZeroAndNegativeFields(t *testing.T) {
	ms := func(n int) model.Duration { return model.Duration(time.Duration(n) * time.Millisecond) }
	tests := []struct {
		name string
		set  func(*Config)
		// statuses the fake answers in turn; the last repeats.
		statuses []int
		alerts   int
		// wantErr is New's error; "" when New must build the client.
		wantErr string
		// wantPosts is how many POSTs the send makes; 0 when not counted.
		wantPosts int32
		// spooled: the fake never accepts, and the alerts must end in the spool.
		spooled bool
	}{
		{name: "timeout zero", set: func(c *Config) { c.Alertmanagers[0].Timeout = 0 }, statuses: []int{200}, alerts: 1, wantPosts: 1},
		{name: "timeout negative", set: func(c *Config) { c.Alertmanagers[0].Timeout = ms(-1) }, wantErr: "alertmanagers[0].timeout: must be positive"},
		// The default initial_backoff is above testConfig's max_backoff.
		{name: "initial_backoff zero", set: func(c *Config) { c.Retry.InitialBackoff, c.Retry.MaxBackoff = 0, ms(1000) }, statuses: []int{503, 200}, alerts: 1, wantPosts: 2},
		{name: "initial_backoff negative", set: func(c *Config) { c.Retry.InitialBackoff = ms(-1) }, wantErr: "retry: need 0 < initial_backoff <= max_backoff"},
		{name: "max_backoff zero", set: func(c *Config) { c.Retry.MaxBackoff = 0 }, statuses: []int{503, 503, 503, 200}, alerts: 1, wantPosts: 4},
		{name: "max_backoff negative", set: func(c *Config) { c.Retry.MaxBackoff = ms(-1) }, wantErr: "retry: need 0 < initial_backoff <= max_backoff"},
		{name: "max_backoff below initial_backoff", set: func(c *Config) { c.Retry.InitialBackoff, c.Retry.MaxBackoff = ms(20), ms(10) }, wantErr: "retry: need 0 < initial_backoff <= max_backoff"},
		{name: "batch_size zero", set: func(c *Config) { c.BatchSize = 0 }, statuses: []int{200}, alerts: DefaultBatchSize + 1, wantPosts: 2},
		{name: "batch_size negative", set: func(c *Config) { c.BatchSize = -1 }, wantErr: "batch_size: must be positive"},
		{name: "spool max_bytes zero", set: func(c *Config) { c.Spool.MaxBytes = 0 }, statuses: []int{503}, alerts: 3, spooled: true},
		{name: "no alertmanagers", set: func(c *Config) { c.Alertmanagers = nil }, wantErr: "alertmanagers: at least one is needed"},
		{name: "spool max_bytes negative", set: func(c *Config) { c.Spool.MaxBytes = -1 }, wantErr: "spool.max_bytes: must be positive"},
		{name: "resend_interval zero", set: func(c *Config) { c.ResendInterval = 0 }, statuses: []int{200}, alerts: 1, wantPosts: 1},
		{name: "resend_interval negative", set: func(c *Config) { c.ResendInterval = ms(-1) }, wantErr: "resend_interval: must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAM(t, tt.statuses...)
			cfg := testConfig(t, t.TempDir(), []*fakeAM{f})
			tt.set(cfg)
			given := *cfg
			given.Alertmanagers = slices.Clone(cfg.Alertmanagers)
			c, err := New(Options{Config: cfg, Logger: slog.New(slog.DiscardHandler)})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New: got %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*cfg, given) {
				t.Errorf("New changed the caller's Config:\n got %+v\nwant %+v", *cfg, given)
			}

			timeout := 10 * time.Second
			if tt.spooled {
				timeout = time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			names := make([]string, tt.alerts)
			for i := range names {
				names[i] = fmt.Sprintf("A%d", i)
			}
			var res *Result
			sent := make(chan struct{})
			go func() {
				defer close(sent)
				res, err = c.Send(ctx, alertsNamed(names...))
			}()
			select {
			case <-sent:
			case <-time.After(timeout + 5*time.Second):
				t.Fatalf("Send did not return %s after its deadline: a loop that does not advance", 5*time.Second)
			}
			if tt.spooled {
				if !errors.Is(err, ErrSpooled) || res.Spooled != tt.alerts {
					t.Fatalf("res %+v err %v, want %d alerts spooled", res, err, tt.alerts)
				}
				if c.spool.maxBytes != DefaultSpoolMaxBytes {
					t.Errorf("spool bound %d, want the default %d", c.spool.maxBytes, DefaultSpoolMaxBytes)
				}
				return
			}
			if err != nil || res.Delivered != tt.alerts || f.count() != tt.alerts {
				t.Fatalf("res %+v err %v, fake accepted %d of %d", res, err, f.count(), tt.alerts)
			}
			if got := f.posts.Load(); got != tt.wantPosts {
				t.Errorf("%d POSTs, want %d", got, tt.wantPosts)
			}
		})
	}
}
