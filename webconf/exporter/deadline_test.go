package exporter_test

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warden-exporter/warden/internal/scrapetest"
	"github.com/warden-exporter/warden/internal/testlog"
	"github.com/warden-exporter/warden/webconf/exporter"
	"github.com/warden-exporter/warden/webconf/webconftest"
)

// blocking is a collector that hangs until release is closed.
type blocking struct {
	release chan struct{}
	mu      sync.Mutex
	starts  int
}

var blockingDesc = prometheus.NewDesc("test_slow", "Slow.", nil, nil)

func (b *blocking) Describe(ch chan<- *prometheus.Desc) { ch <- blockingDesc }
func (b *blocking) Collect(ch chan<- prometheus.Metric) {
	b.mu.Lock()
	b.starts++
	b.mu.Unlock()
	<-b.release
	ch <- prometheus.MustNewConstMetric(blockingDesc, prometheus.GaugeValue, 1)
}

// A named collector that hangs is left behind at the scrape's deadline
// (the header less --web.scrape-timeout-offset, or --collector.timeout
// without a header): the scrape answers in time with the other
// collectors, logs the one left behind, counts it, and does not start it
// again until it returns.
func TestNamedCollectorLeftBehindAtDeadline(t *testing.T) {
	slow := &blocking{release: make(chan struct{})}
	stderr := &testlog.Buffer{}
	p := exporter.New(exporter.Options{Name: "slow_exporter", DefaultAddress: ":0", Stderr: stderr})
	e := webconftest.Start(t, p, func(exporter.Env) (exporter.Metrics, error) {
		return exporter.Named(exporter.NamedCollectors(map[string]prometheus.Collector{"fast": gauge("test_fast"), "slow": slow})), nil
	}, "--web.scrape-timeout-offset=250ms", "--collector.timeout=400ms")
	defer close(slow.release)

	for i, tc := range []struct {
		header     string
		maxElapsed time.Duration
		timeouts   string
	}{
		{"1", 1 * time.Second, "1"},         // left behind after 750ms
		{"1", 500 * time.Millisecond, "2"},  // not started: at once
		{"", 500 * time.Millisecond, "3"},   // without a header, --collector.timeout
		{"30", 500 * time.Millisecond, "4"}, // still not started
	} {
		elapsed, body := scrapetest.Get(t, e.Client, e.URL+"/metrics", tc.header)
		if elapsed > tc.maxElapsed {
			t.Errorf("scrape %d (header %q) took %v, want at most %v", i, tc.header, elapsed, tc.maxElapsed)
		}
		if !strings.Contains(body, "test_fast 1") || strings.Contains(body, "test_slow") {
			t.Errorf("scrape %d: want test_fast and not test_slow:\n%s", i, body)
		}
		if want := `warden_collector_timeouts_total{collector="slow"} ` + tc.timeouts + "\n"; !strings.Contains(body, want) {
			t.Errorf("scrape %d lacks %s", i, want)
		}
	}
	slow.mu.Lock()
	starts := slow.starts
	slow.mu.Unlock()
	if starts != 1 {
		t.Errorf("the hung collector was started %d times, want 1", starts)
	}
	if log := stderr.String(); !strings.Contains(log, "collector slow: collector did not finish by the scrape deadline") {
		t.Errorf("log does not name the collector left behind:\n%s", log)
	}
}

// slowish takes 200 ms and always finishes.
type slowish struct{}

var slowishDesc = prometheus.NewDesc("test_slowish", "Slowish.", nil, nil)

func (slowish) Describe(ch chan<- *prometheus.Desc) { ch <- slowishDesc }
func (slowish) Collect(ch chan<- prometheus.Metric) {
	time.Sleep(200 * time.Millisecond)
	ch <- prometheus.MustNewConstMetric(slowishDesc, prometheus.GaugeValue, 1)
}

// A scraper that sends a tiny scrape timeout leaves a slow collector
// behind on every scrape; the scrapes of everyone else, with time to
// spare, still get its metrics: they wait for the run left behind and
// start the collector again. They missed it on every scrape before.
func TestTinyScrapeTimeoutsDoNotBlankACollectorForOthers(t *testing.T) {
	p := exporter.New(exporter.Options{Name: "slowish_exporter", DefaultAddress: ":0", Stderr: &testlog.Buffer{}})
	e := webconftest.Start(t, p, func(exporter.Env) (exporter.Metrics, error) {
		return exporter.Named(exporter.NamedCollectors(map[string]prometheus.Collector{"slowish": slowish{}})), nil
	})
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-stop:
				return
			default:
			}
			// A 20 ms deadline, the write deadline too: its own answers may
			// break off, which is its problem, not the test's.
			req, err := http.NewRequest(http.MethodGet, e.URL+"/metrics", nil)
			if err != nil {
				panic(err)
			}
			req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "0.04")
			if resp, err := e.Client.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	time.Sleep(100 * time.Millisecond)
	missing := 0
	for range 5 {
		if _, body := scrapetest.Get(t, e.Client, e.URL+"/metrics", "10"); !strings.Contains(body, "test_slowish 1") {
			missing++
		}
	}
	close(stop)
	<-stopped
	if missing > 0 {
		t.Errorf("%d of 5 scrapes with a 10 s timeout lacked the collector while another scraper sent 0.04 s", missing)
	}
}
