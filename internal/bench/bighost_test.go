//go:build bench

package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/warden-exporter/warden/internal/bigtree"
	"github.com/warden-exporter/warden/internal/fixture"
	"github.com/warden-exporter/warden/internal/testenv"
)

// treeFlags points an exporter at a generated tree. node_exporter reads
// interface counters over netlink unless told to read /proc/net/dev,
// which is what Warden reads.
func treeFlags(p bigtree.Paths, nodeExporter bool) []string {
	flags := []string{"--path.procfs=" + p.Proc, "--path.sysfs=" + p.Sys, "--path.rootfs=" + p.Rootfs, "--path.udev.data=" + p.Udev}
	if nodeExporter {
		flags = append(flags, "--no-collector.netdev.netlink")
	}
	return flags
}

// sequential is what one exporter costs per scrape when scraped by one
// client, one scrape after the other.
type sequential struct {
	out            exposition
	scrapes        int
	median         time.Duration
	cpuPerScrape   float64 // seconds
	allocPerScrape float64 // bytes, from the exporter's go_memstats_alloc_bytes_total
	peakRSS        float64 // bytes
}

// Each exporter is scraped at least seqMinScrapes times and for at least
// seqMinFor.
const (
	seqMinScrapes = 8
	seqMinFor     = 10 * time.Second
)

// scrapeSequentially measures e under sequential scrapes.
func scrapeSequentially(b *testing.B, e *exporter) sequential {
	b.Helper()
	first := e.body(b) // warms up the connection and the exporter
	var r sequential
	r.out = parseExposition(first)
	alloc0 := memstat(b, e.name, first, "go_memstats_alloc_bytes_total")
	var latencies []time.Duration
	var last []byte
	cpu0, t0 := cpuSeconds(b, e.proc.PID()), time.Now()
	for len(latencies) < seqMinScrapes || time.Since(t0) < seqMinFor {
		begin := time.Now()
		last = e.body(b)
		latencies = append(latencies, time.Since(begin))
	}
	r.scrapes = len(latencies)
	r.cpuPerScrape = (cpuSeconds(b, e.proc.PID()) - cpu0) / float64(r.scrapes)
	// The counter is read during each scrape: from the first's reading to
	// the last's, exactly r.scrapes scrapes allocated.
	r.allocPerScrape = (memstat(b, e.name, last, "go_memstats_alloc_bytes_total") - alloc0) / float64(r.scrapes)
	slices.Sort(latencies)
	r.median = latencies[len(latencies)/2]
	r.peakRSS = peakRSS(b, e.proc.PID())
	return r
}

// memstat returns the value of an unlabelled sample in an exposition.
func memstat(b *testing.B, who string, body []byte, name string) float64 {
	b.Helper()
	for line := range strings.Lines(string(body)) {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				b.Fatalf("%s: %s: %v", who, name, err)
			}
			return v
		}
	}
	b.Fatalf("%s exposes no %s", who, name)
	return 0
}

// BenchmarkBigHost scrapes Warden and node_exporter v1.12.1, one after
// the other, pointed at the same generated big-host tree (package
// bigtree) at a quarter and at full size, each with its default
// collectors and wardentool init's web config (TLS, client certificate,
// basic auth), one client scraping sequentially. It reports per scrape
// the median time, CPU seconds and bytes allocated, and the peak RSS,
// each as Warden / node_exporter, and how each grows from the quarter to
// the full tree.
func BenchmarkBigHost(b *testing.B) {
	conf := initConf(b, true)
	ref := testenv.NodeExporter(b)
	sizes := []struct {
		name  string
		sizes bigtree.Sizes
	}{
		{"quarter", bigtree.Full.Scaled(0.25)},
		{"full", bigtree.Full},
	}
	for range b.N {
		results := map[string][2]sequential{} // size: warden, node_exporter
		for _, size := range sizes {
			paths, err := bigtree.Write(filepath.Join(b.TempDir(), "tree"), size.sizes)
			if err != nil {
				b.Fatal(err)
			}
			ours := startExporter(b, "warden", bins.Path("warden_node_exporter"), conf, nil, treeFlags(paths, false)...)
			w := scrapeSequentially(b, ours)
			ours.proc.Stop()
			theirs := startExporter(b, "node_exporter", ref, conf, nil, treeFlags(paths, true)...)
			n := scrapeSequentially(b, theirs)
			theirs.proc.Stop()
			if d := math.Abs(float64(w.out.nodeSeries)/float64(n.out.nodeSeries) - 1); d > 0.01 {
				b.Fatalf("%s tree: node_ series differ by %.1f%%: warden %d, node_exporter %d", size.name, d*100, w.out.nodeSeries, n.out.nodeSeries)
			}
			results[size.name] = [2]sequential{w, n}

			loadavg, _ := os.ReadFile("/proc/loadavg")
			b.Logf("%s tree (%v): %d node_ series; loadavg %s", size.name, size.sizes, w.out.nodeSeries, bytes.TrimSpace(loadavg))
			for i, who := range []string{"warden", "node_exporter"} {
				r := results[size.name][i]
				b.Logf("  %-13s %d scrapes: median %v, %.1f ms CPU/scrape, %.1f MiB allocated/scrape, peak RSS %.1f MiB",
					who, r.scrapes, r.median.Round(time.Millisecond), r.cpuPerScrape*1e3, r.allocPerScrape/(1<<20), r.peakRSS/(1<<20))
			}
			b.Logf("  warden/node_exporter: scrape time x%.2f (%.2fx faster), CPU/scrape x%.2f, alloc/scrape x%.2f, peak RSS x%.2f",
				ms(w.median)/ms(n.median), ms(n.median)/ms(w.median), w.cpuPerScrape/n.cpuPerScrape, w.allocPerScrape/n.allocPerScrape, w.peakRSS/n.peakRSS)
			unit := "-" + size.name
			b.ReportMetric(ms(w.median)/ms(n.median), "warden/node_exporter-scrape-time"+unit)
			b.ReportMetric(w.cpuPerScrape/n.cpuPerScrape, "warden/node_exporter-cpu/scrape"+unit)
			b.ReportMetric(w.allocPerScrape/n.allocPerScrape, "warden/node_exporter-alloc/scrape"+unit)
			b.ReportMetric(w.peakRSS/n.peakRSS, "warden/node_exporter-peak-rss"+unit)
		}
		// Growth from the quarter to the full tree, which is 4x as big.
		q, f := results["quarter"], results["full"]
		for i, who := range []string{"warden", "node_exporter"} {
			b.Logf("growth quarter->full (tree x4), %-13s: scrape time x%.2f, CPU/scrape x%.2f, alloc/scrape x%.2f, peak RSS x%.2f, node_ series x%.2f",
				who, ms(f[i].median)/ms(q[i].median), f[i].cpuPerScrape/q[i].cpuPerScrape, f[i].allocPerScrape/q[i].allocPerScrape,
				f[i].peakRSS/q[i].peakRSS, float64(f[i].out.nodeSeries)/float64(q[i].out.nodeSeries))
		}
	}
}

// BenchmarkHungSensorReference shows, as the reference for Warden's
// per-collector deadlines, what a hung sysfs read does to each exporter:
// in a copy of the fixture tree a hwmon temp1_input is a FIFO with no
// writer, and each exporter is scraped with Prometheus's 3 s timeout
// header and a client that gives up after 10 s. Warden answers within 3 s
// with hwmon failed; node_exporter v1.12.1 does not answer.
func BenchmarkHungSensorReference(b *testing.B) {
	conf := initConf(b, true)
	ref := testenv.NodeExporter(b)
	for range b.N {
		root := filepath.Join(b.TempDir(), "fixture")
		if err := fixture.Copy(root); err != nil {
			b.Fatal(err)
		}
		fifo := filepath.Join(root, "sys/devices/platform/coretemp.0/hwmon/hwmon0/temp1_input")
		if err := os.Remove(fifo); err != nil {
			b.Fatal(err)
		}
		if err := syscall.Mkfifo(fifo, 0o644); err != nil {
			b.Fatal(err)
		}
		flags := func(nodeExporter bool) []string {
			return treeFlags(bigtree.PathsIn(root), nodeExporter)
		}

		ours := startExporter(b, "warden", bins.Path("warden_node_exporter"), conf, nil, flags(false)...)
		elapsed, body, err := ours.scrapeWithTimeout("3", 10*time.Second)
		ours.proc.Stop()
		if err != nil || elapsed >= 3*time.Second || !strings.Contains(body, `node_scrape_collector_success{collector="hwmon"} 0`) {
			b.Fatalf("warden with a hung hwmon read: %v after %v; hwmon failed: %v", err, elapsed, strings.Contains(body, `collector="hwmon"} 0`))
		}
		b.Logf("warden:        answered in %v with %d node_ series, node_scrape_collector_success{collector=\"hwmon\"} 0", elapsed.Round(time.Millisecond), parseExposition([]byte(body)).nodeSeries)
		releaseFIFO(fifo) // the read left behind returns; the process is gone anyway

		theirs := startExporter(b, "node_exporter", ref, conf, nil, flags(true)...)
		elapsed, _, err = theirs.scrapeWithTimeout("3", 10*time.Second)
		hung := errors.Is(err, context.DeadlineExceeded)
		releaseFIFO(fifo) // lets node_exporter's read return, so that it can stop
		theirs.proc.Stop()
		if !hung {
			b.Fatalf("node_exporter with a hung hwmon read: %v after %v, want no answer within 10s", err, elapsed)
		}
		b.Logf("node_exporter: no answer after %v (the scrape waits for the hung read; Prometheus would record up 0 and lose every metric)", elapsed.Round(time.Millisecond))
		b.ReportMetric(0, "warden-hung-scrapes")
		b.ReportMetric(1, "node_exporter-hung-scrapes")
	}
}

// releaseFIFO gives a reader blocked on the FIFO at path an empty read.
func releaseFIFO(path string) {
	if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
		f.Close()
	}
}

// scrapeWithTimeout scrapes as Prometheus does with the given scrape
// timeout header, giving up after wait.
func (e *exporter) scrapeWithTimeout(header string, wait time.Duration) (time.Duration, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+e.addr+"/metrics", nil)
	if err != nil {
		return 0, "", err
	}
	req.SetBasicAuth("prometheus", e.pass)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", header)
	begin := time.Now()
	resp, err := newClient(e.pool, e.cert).Do(req)
	if err != nil {
		return time.Since(begin), "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %d", resp.StatusCode)
	}
	return time.Since(begin), string(body), err
}
