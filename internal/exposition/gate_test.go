package exposition

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var gateDesc = prometheus.NewDesc("gated", "A metric.", nil, nil)

// serveGated runs Serve for a collector that calls during before sending
// its metric, with timeout, and returns the body.
func serveGated(t *testing.T, gate *Gate, timeout time.Duration, encoding string, w http.ResponseWriter, during func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cs := []prometheus.Collector{collectorFunc(func(ch chan<- prometheus.Metric) {
		during()
		ch <- MustNewConstMetric(gateDesc, prometheus.GaugeValue, 1)
	})}
	r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	r.Header.Set("Accept-Encoding", encoding)
	Serve(ctx, w, r, formatText, cs, nil, gate, log.New(io.Discard, "", 0))
}

// holdTurn has a scrape take gate's turn and keep it until the test ends.
func holdTurn(t *testing.T, gate *Gate) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	in := make(chan struct{})
	go serveGated(t, gate, time.Minute, "gzip", httptest.NewRecorder(), func() {
		close(in)
		<-release
	})
	<-in
}

// Scrapes take turns: the second gathers once the first is done.
func TestGateTakesTurns(t *testing.T) {
	gate := NewGate(1)
	release := make(chan struct{})
	firstIn := make(chan struct{})
	firstDone := make(chan struct{})
	go func() {
		defer close(firstDone)
		serveGated(t, gate, time.Minute, "gzip", httptest.NewRecorder(), func() {
			close(firstIn)
			<-release
		})
	}()
	<-firstIn
	secondIn := make(chan struct{})
	secondDone := make(chan struct{})
	go func() {
		defer close(secondDone)
		serveGated(t, gate, time.Minute, "gzip", httptest.NewRecorder(), func() { close(secondIn) })
	}()
	select {
	case <-secondIn:
		t.Fatal("a second scrape gathered while the first held the turn")
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	<-firstDone
	select {
	case <-secondIn:
	case <-time.After(5 * time.Second):
		t.Fatal("the second scrape did not gather after the first")
	}
	<-secondDone
}

// A scrape held up ahead costs the next a quarter of its time: then it
// gathers anyway and answers within its deadline.
func TestGateWaitIsBounded(t *testing.T) {
	gate := NewGate(1)
	holdTurn(t, gate)

	w := httptest.NewRecorder()
	var waited time.Duration
	start := time.Now()
	serveGated(t, gate, 2*time.Second, "identity", w, func() { waited = time.Since(start) })
	if waited < 400*time.Millisecond || waited >= 2*time.Second {
		t.Errorf("gathered after %v, want after about a quarter of its 2s", waited)
	}
	if !strings.Contains(w.Body.String(), "gated 1\n") {
		t.Errorf("body without the metric:\n%s", w.Body.String())
	}
}

// blockingWriter is a client that does not read: Write blocks until
// released.
type blockingWriter struct {
	*httptest.ResponseRecorder
	writing chan struct{}
	once    sync.Once
	release chan struct{}
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	b.once.Do(func() { close(b.writing) })
	<-b.release
	return b.ResponseRecorder.Write(p)
}

// Sending is outside the turn: a client that does not read its
// uncompressed answer does not hold up the next scrape.
func TestGateSlowReaderDoesNotHoldTheTurn(t *testing.T) {
	gate := NewGate(1)
	slow := &blockingWriter{ResponseRecorder: httptest.NewRecorder(), writing: make(chan struct{}), release: make(chan struct{})}
	defer close(slow.release)
	go serveGated(t, gate, time.Minute, "identity", slow, func() {})
	<-slow.writing

	start := time.Now()
	var waited time.Duration
	serveGated(t, gate, time.Minute, "gzip", httptest.NewRecorder(), func() { waited = time.Since(start) })
	if waited > time.Second {
		t.Errorf("a scrape waited %v behind a client that does not read", waited)
	}
}

// A scrape whose client leaves while it waits does not gather.
func TestGateCanceledWhileWaiting(t *testing.T) {
	gate := NewGate(1)
	holdTurn(t, gate)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	time.AfterFunc(100*time.Millisecond, cancel)
	gathered := false
	cs := []prometheus.Collector{collectorFunc(func(chan<- prometheus.Metric) { gathered = true })}
	w := httptest.NewRecorder()
	Serve(ctx, w, httptest.NewRequest(http.MethodGet, "/metrics", nil), formatText, cs, nil, gate, log.New(io.Discard, "", 0))
	if gathered || w.Code != http.StatusServiceUnavailable {
		t.Errorf("canceled while waiting: gathered %v, status %d; want no gathering and 503", gathered, w.Code)
	}
}
