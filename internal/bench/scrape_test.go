//go:build bench

package bench

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warden-exporter/warden/internal/testenv"
)

// The scrape load: scrapers keep-alive clients on loopback scraping as
// fast as the exporter answers for loadFor, stopping early after
// maxScrapes scrapes in all.
const (
	scrapers   = 8
	loadFor    = 10 * time.Second
	maxScrapes = 500_000
)

// commonCollectors are collectors both exporters have, for a comparison
// that does not depend on what the default sets hold.
var commonCollectors = []string{"cpu", "meminfo", "loadavg", "filesystem", "netdev", "diskstats", "stat", "vmstat"}

// exposition describes one scrape's output.
type exposition struct {
	bytes, series, nodeSeries int
	collectors                map[string]bool // node_scrape_collector_success's collector label
}

func parseExposition(body []byte) exposition {
	x := exposition{bytes: len(body), collectors: map[string]bool{}}
	for line := range strings.Lines(string(body)) {
		if line == "\n" || strings.HasPrefix(line, "#") {
			continue
		}
		x.series++
		if strings.HasPrefix(line, "node_") {
			x.nodeSeries++
		}
		if rest, ok := strings.CutPrefix(line, `node_scrape_collector_success{collector="`); ok {
			x.collectors[rest[:strings.IndexByte(rest, '"')]] = true
		}
	}
	return x
}

// loadResult is what one exporter did under the scrape load.
type loadResult struct {
	out          exposition
	scrapes      int
	perSecond    float64
	p50, p99     time.Duration
	cpuPerScrape float64 // seconds
	peakRSS      float64 // bytes
	peakAnon     float64 // bytes, anonymous memory only (see peakAnon)
}

// underLoad runs the scrape load against e and measures it.
func underLoad(b *testing.B, e *exporter) loadResult {
	b.Helper()
	var r loadResult
	r.out = parseExposition(e.body(b))

	// Each client opens its connection (TLS handshake with the client
	// certificate, basic-auth check) before the clock starts.
	clients := make([]*http.Client, scrapers)
	for i := range clients {
		clients[i] = newClient(e.pool, e.cert)
		if status, err := e.scrape(clients[i], e.pass); err != nil || status != http.StatusOK {
			b.Fatalf("%s: warm-up scrape: %d %v", e.name, status, err)
		}
	}
	defer func() {
		for _, c := range clients {
			c.CloseIdleConnections()
		}
	}()

	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		latencies []time.Duration
		errs      []error
		started   atomic.Int64
	)
	stopAnon := peakAnon(b, e.proc.PID())
	cpu0, t0 := cpuSeconds(b, e.proc.PID()), time.Now()
	deadline := t0.Add(loadFor)
	for _, c := range clients {
		wg.Go(func() {
			var mine []time.Duration
			var err error
			for time.Now().Before(deadline) && started.Add(1) <= maxScrapes {
				start := time.Now()
				var status int
				if status, err = e.scrape(c, e.pass); err == nil && status != http.StatusOK {
					err = fmt.Errorf("status %d", status)
				}
				if err != nil {
					break
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			defer mu.Unlock()
			latencies = append(latencies, mine...)
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(t0)
	cpu := cpuSeconds(b, e.proc.PID()) - cpu0
	r.peakAnon = stopAnon()
	if err := errors.Join(errs...); err != nil {
		b.Fatalf("%s: scrape under load: %v", e.name, err)
	}
	if len(latencies) == 0 {
		b.Fatalf("%s: no scrape completed in %v", e.name, loadFor)
	}
	slices.Sort(latencies)
	r.scrapes = len(latencies)
	r.perSecond = float64(r.scrapes) / elapsed.Seconds()
	r.p50 = latencies[len(latencies)/2]
	r.p99 = latencies[min(len(latencies)-1, len(latencies)*99/100)]
	r.cpuPerScrape = cpu / float64(r.scrapes)
	r.peakRSS = peakRSS(b, e.proc.PID())
	return r
}

// BenchmarkScrape puts Warden and node_exporter v1.12.1, one after the
// other, under the same scrape load with the same collectors and the same
// web config: `wardentool init`'s, TLS with a required client certificate
// (which the clients present) and basic auth. Exporter self-metrics are
// on, as by default. Both run with their defaults otherwise, so
// node_exporter runs on one CPU (its --runtime.gomaxprocs is 1) while
// Warden uses all: scrapes/s and latency compare the defaults a user
// gets, CPU seconds per scrape compares the work done.
func BenchmarkScrape(b *testing.B) {
	conf := initConf(b, true)
	ref := testenv.NodeExporter(b)

	for _, set := range []struct {
		name       string
		collectors []string
	}{
		{"default-collectors", nil},
		{"common-collectors", commonCollectors},
	} {
		b.Run(set.name, func(b *testing.B) {
			for range b.N {
				ours := startExporter(b, "warden", bins.Path("warden_node_exporter"), conf, set.collectors)
				w := underLoad(b, ours)
				ours.proc.Stop()
				theirs := startExporter(b, "node_exporter", ref, conf, set.collectors)
				n := underLoad(b, theirs)
				theirs.proc.Stop()

				// Same collectors, same output: otherwise the ratios compare
				// different work.
				if !maps.Equal(w.out.collectors, n.out.collectors) {
					b.Fatalf("enabled collectors differ:\nwarden:        %v\nnode_exporter: %v",
						slices.Sorted(maps.Keys(w.out.collectors)), slices.Sorted(maps.Keys(n.out.collectors)))
				}
				if d := math.Abs(float64(w.out.nodeSeries)/float64(n.out.nodeSeries) - 1); d > 0.05 {
					b.Fatalf("node_ series differ by %.0f%%: warden %d, node_exporter %d", d*100, w.out.nodeSeries, n.out.nodeSeries)
				}

				ratio := func(what string, wv, nv float64, unit string) {
					b.ReportMetric(wv, "warden-"+unit)
					b.ReportMetric(nv, "node_exporter-"+unit)
					b.ReportMetric(wv/nv, "warden/node_exporter-"+what)
				}
				ratio("scrapes/s", w.perSecond, n.perSecond, "scrapes/s")
				ratio("p50", ms(w.p50), ms(n.p50), "p50-ms")
				ratio("p99", ms(w.p99), ms(n.p99), "p99-ms")
				ratio("cpu/scrape", w.cpuPerScrape*1e3, n.cpuPerScrape*1e3, "cpu-ms/scrape")
				ratio("peak-rss", w.peakRSS/(1<<20), n.peakRSS/(1<<20), "peak-rss-MiB")
				ratio("peak-anon", w.peakAnon/(1<<20), n.peakAnon/(1<<20), "peak-anon-MiB")

				// Other work on the machine skews the ratios: show how busy it was.
				loadavg, _ := os.ReadFile("/proc/loadavg")
				b.Logf("%s: %d collectors, %d clients for %v; loadavg %s", set.name, len(w.out.collectors), scrapers, loadFor, bytes.TrimSpace(loadavg))
				for _, r := range []struct {
					name string
					r    loadResult
				}{{"warden", w}, {"node_exporter", n}} {
					b.Logf("%-13s one scrape: %d bytes, %d series (%d node_); %d scrapes, %.1f/s, p50 %v, p99 %v, %.2f ms CPU/scrape, peak RSS %.1f MiB (anonymous %.1f MiB)",
						r.name, r.r.out.bytes, r.r.out.series, r.r.out.nodeSeries, r.r.scrapes, r.r.perSecond,
						r.r.p50.Round(time.Microsecond), r.r.p99.Round(time.Microsecond), r.r.cpuPerScrape*1e3, r.r.peakRSS/(1<<20), r.r.peakAnon/(1<<20))
				}
				b.Logf("warden/node_exporter: scrapes/s x%.2f, p50 x%.2f, p99 x%.2f, CPU/scrape x%.2f, peak RSS x%.2f (anonymous x%.2f), bytes x%.2f",
					w.perSecond/n.perSecond, ms(w.p50)/ms(n.p50), ms(w.p99)/ms(n.p99),
					w.cpuPerScrape/n.cpuPerScrape, w.peakRSS/n.peakRSS, w.peakAnon/n.peakAnon, float64(w.out.bytes)/float64(n.out.bytes))
			}
		})
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
