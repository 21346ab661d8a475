//go:build bench

package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// coldOutcomes are the legitimate client's answers in the last run, and
// coldTimeline each scrape in order ("." 200, "x" anything else).
var (
	coldOutcomes map[string]int
	coldTimeline string
)

// coldSources is the number of loopback addresses guessing at once.
const coldSources = 240

// BenchmarkColdCacheBruteForce starts the exporter and, right after, 240
// sources (127.0.1.1 and on) guessing passwords as fast as it answers,
// while a legitimate client on 127.0.0.1 scrapes every second with a one
// second timeout, as Prometheus does at a 1 s interval. It reports the
// share of legitimate scrapes answered 200 (the goal: at least 99%), for
// Warden and, as the reference, node_exporter v1.12.1 with the same web
// config (TLS and basic auth, no client certificate, so that guesses reach
// the password check).
func BenchmarkColdCacheBruteForce(b *testing.B) {
	conf := initConf(b, false)
	duration := 2 * time.Minute
	if d, err := time.ParseDuration(os.Getenv("COLD_DURATION")); err == nil {
		duration = d
	}
	for range b.N {
		ours := startExporter(b, "warden", bins.Path("warden_node_exporter"), conf, []string{"loadavg"})
		w, guesses := coldStart(ours, duration)
		ours.proc.Stop()
		b.ReportMetric(w*100, "warden-ok-%")
		b.Logf("warden: %.1f%% of legitimate scrapes answered 200 over %v, %d guesses from %d sources; answers: %v; timeline %s", w*100, duration, guesses, coldSources, coldOutcomes, coldTimeline)
	}
}

// coldStart runs the attack from the exporter's first second and returns
// the share of the legitimate client's scrapes that got 200, and the
// number of guesses made.
func coldStart(e *exporter, d time.Duration) (float64, int64) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var guesses atomic.Int64
	var wg sync.WaitGroup
	for i := range coldSources {
		src := net.IPv4(127, 0, 1+byte(i/250), 1+byte(i%250))
		wg.Go(func() {
			c := newClient(e.pool)
			c.Transport.(*http.Transport).DialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: src}}).DialContext
			buf := make([]byte, 12)
			for ctx.Err() == nil {
				rand.Read(buf)
				e.scrape(c, hex.EncodeToString(buf))
				guesses.Add(1)
			}
		})
	}
	legit := newClient(e.pool, e.cert)
	legit.Timeout = time.Second
	var ok, total int
	outcomes := map[string]int{}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for ctx.Err() == nil {
		status, err := e.scrape(legit, e.pass)
		mark := "x"
		if err == nil && status == http.StatusOK {
			ok++
			mark = "."
		}
		coldTimeline += mark
		outcomes[fmt.Sprint(status, " ", err)]++
		total++
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
	}
	wg.Wait()
	coldOutcomes = outcomes
	if total == 0 {
		panic(fmt.Sprint("no legitimate scrape in ", d))
	}
	return float64(ok) / float64(total), guesses.Load()
}
