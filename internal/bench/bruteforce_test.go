//go:build bench

package bench

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/warden-exporter/warden/internal/testenv"
)

// bins are Warden's binaries, built by TestMain before any test runs.
var bins testenv.Binaries

func TestMain(m *testing.M) { testenv.Main(m, &bins) }

// attackers is the number of connections guessing passwords, as in the
// issue's measurement of node_exporter.
const attackers = 16

// median latency of n legitimate scrapes.
func (e *exporter) latency(b *testing.B, n int) time.Duration {
	b.Helper()
	var ds []time.Duration
	for range n {
		start := time.Now()
		status, err := e.scrape(e.client, e.pass)
		if err != nil || status != http.StatusOK {
			b.Fatalf("%s: legitimate scrape: %d %v", e.name, status, err)
		}
		ds = append(ds, time.Since(start))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

type result struct {
	rest, attacked time.Duration
	cpuPerSecond   float64
	guesses        int
	refused429     int
}

// underAttack measures legitimate scrapes at rest and while attackers
// send random passwords as fast as the exporter answers.
func underAttack(b *testing.B, e *exporter) result {
	b.Helper()
	const samples = 40
	e.latency(b, 5) // warm up: TLS session, credential cache
	var r result
	r.rest = e.latency(b, samples)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range attackers {
		wg.Go(func() {
			c := newClient(e.pool)
			buf := make([]byte, 12)
			for {
				select {
				case <-stop:
					return
				default:
				}
				rand.Read(buf)
				status, err := e.scrape(c, hex.EncodeToString(buf))
				mu.Lock()
				r.guesses++
				if err == nil && status == http.StatusTooManyRequests {
					r.refused429++
				}
				mu.Unlock()
			}
		})
	}
	time.Sleep(time.Second)
	cpu0, t0 := cpuSeconds(b, e.proc.PID()), time.Now()
	r.attacked = e.latency(b, samples)
	time.Sleep(2 * time.Second)
	r.cpuPerSecond = (cpuSeconds(b, e.proc.PID()) - cpu0) / time.Since(t0).Seconds()
	close(stop)
	wg.Wait()
	return r
}

// BenchmarkBruteForce compares the latency of a legitimate scrape while 16
// connections guess passwords with its latency at rest, for Warden and
// node_exporter v1.12.1 with the same web config, in the same run.
func BenchmarkBruteForce(b *testing.B) {
	// Without mTLS, so that guesses reach the password check.
	conf := initConf(b, false)
	ref := testenv.NodeExporter(b)

	for _, set := range []struct {
		name       string
		collectors []string
	}{
		// Three collectors, as the issue measured node_exporter.
		{"three-collectors", []string{"loadavg", "meminfo", "stat"}},
		{"default-collectors", nil},
	} {
		b.Run(set.name, func(b *testing.B) {
			for range b.N {
				ours := startExporter(b, "warden", bins.Path("warden_node_exporter"), conf, set.collectors)
				w := underAttack(b, ours)
				ours.proc.Stop()
				theirs := startExporter(b, "node_exporter", ref, conf, set.collectors)
				n := underAttack(b, theirs)
				theirs.proc.Stop()

				wr := float64(w.attacked) / float64(w.rest)
				nr := float64(n.attacked) / float64(n.rest)
				b.ReportMetric(wr, "warden-attack/rest")
				b.ReportMetric(nr, "node_exporter-attack/rest")
				b.ReportMetric(w.cpuPerSecond, "warden-cpu-s/s")
				b.ReportMetric(n.cpuPerSecond, "node_exporter-cpu-s/s")
				b.Logf("%s: warden p50 %v at rest, %v under attack (x%.2f), %.2f CPU s/s, %d guesses, %d got 429",
					set.name, w.rest, w.attacked, wr, w.cpuPerSecond, w.guesses, w.refused429)
				b.Logf("%s: node_exporter p50 %v at rest, %v under attack (x%.2f), %.2f CPU s/s, %d guesses",
					set.name, n.rest, n.attacked, nr, n.cpuPerSecond, n.guesses)
			}
		})
	}
}
