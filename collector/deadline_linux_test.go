package collector

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/warden-exporter/warden/internal/fixture"
	"github.com/warden-exporter/warden/internal/scrapetest"
	"github.com/warden-exporter/warden/internal/testlog"
	"github.com/warden-exporter/warden/internal/workers"
	"github.com/warden-exporter/warden/webconf/exporter"
	"github.com/warden-exporter/warden/webconf/webconftest"
)

// hungSensor is the hwmon file the test replaces with a FIFO: opening a
// FIFO for reading blocks until a writer comes, as a read of a sensor
// behind a hung bus does.
const hungSensor = "sys/devices/platform/coretemp.0/hwmon/hwmon0/temp1_input"

// TestHungSysfsReadIsLeftBehind runs every default collector on a copy of
// the fixture tree whose hwmon temp1_input is a FIFO with no writer, in a
// Warden exporter served by the framework, and checks the rule:
// with a 3 s timeout header, the scrape answers within 3 s with every other
// collector's metrics and node_scrape_collector_success{collector="hwmon"}
// 0, and a log line names hwmon; 20 more scrapes leave the number of
// goroutines and open files where it was (the hung read is not started
// again); once the FIFO gets a writer, hwmon succeeds on the next scrape.
func TestHungSysfsReadIsLeftBehind(t *testing.T) {
	root, cfg := fixtureCopy(t)
	names := defaultNames()
	stderr := &testlog.Buffer{}
	e := serveNode(t, cfg, names, stderr)

	// What the scrape holds while the sensor reads normally.
	_, healthy := scrapeTimed(t, e, "3")
	wantSuccess := collectorSuccess(healthy)
	if len(wantSuccess) != len(names) || wantSuccess["hwmon"] != "1" {
		t.Fatalf("healthy scrape: success %v for %d collectors", wantSuccess, len(names))
	}

	fifo := filepath.Join(root, hungSensor)
	if err := os.Remove(fifo); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	released := false
	t.Cleanup(func() {
		if !released { // let a read still hung in the kernel go
			if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				f.Close()
			}
		}
	})

	elapsed, hung := scrapeTimed(t, e, "3")
	if elapsed >= 3*time.Second {
		t.Errorf("scrape with a hung hwmon read took %v, want less than 3s", elapsed)
	}
	gotSuccess := collectorSuccess(hung)
	for name, want := range wantSuccess {
		if name == "hwmon" {
			want = "0"
		}
		if gotSuccess[name] != want {
			t.Errorf("node_scrape_collector_success{collector=%q} %s, want %s", name, gotSuccess[name], want)
		}
	}
	// Every other collector's series are all there.
	if got, want := nonHwmonSeries(hung), nonHwmonSeries(healthy); !slices.Equal(got, want) {
		t.Errorf("series other than hwmon's differ: %d with the hung read, %d without", len(got), len(want))
	}
	if log := stderr.String(); !strings.Contains(log, "collector=hwmon") || !strings.Contains(log, "left behind") {
		t.Errorf("no log line names hwmon as left behind:\n%s", log)
	}

	// No pile-up: the hung read is not started again. Idle workers
	// (internal/workers), kept for the next scrape, are not counted: a
	// goroutine stuck in a read is never idle.
	busy := func() int { return runtime.NumGoroutine() - workers.Idle() }
	goroutines, fds := busy(), openFiles(t)
	for i := range 20 {
		elapsed, body := scrapeTimed(t, e, "3")
		if elapsed >= 3*time.Second || !strings.Contains(body, `node_scrape_collector_success{collector="hwmon"} 0`) {
			t.Fatalf("scrape %d: %v, hwmon not reported failed", i, elapsed)
		}
	}
	// Connections just closed may take a moment to release theirs.
	settled := waitFor(2*time.Second, func() bool {
		return busy() <= goroutines+2 && openFiles(t) <= fds+2
	})
	if !settled {
		t.Errorf("after 20 scrapes: %d goroutines not idle workers (were %d), %d open files (were %d)", busy(), goroutines, openFiles(t), fds)
	}
	// Counted: the hung scrape, the 20, and this one.
	if want := `warden_collector_timeouts_total{collector="hwmon"} 22`; !strings.Contains(scrapeBody(t, e), want) {
		t.Errorf("metrics lack %s", want)
	}

	// A writer comes: the hung read returns (what hwmon sends then is
	// dropped), and the sensor reads normally from then on.
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0) // the hung reader is waiting: no block
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("45000\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	released = true
	if err := os.WriteFile(fifo+".new", []byte("45000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(fifo+".new", fifo); err != nil {
		t.Fatal(err)
	}
	if !waitFor(5*time.Second, func() bool { return strings.Contains(stderr.String(), "has returned") }) {
		t.Fatalf("the hung read did not return once written:\n%s", stderr.String())
	}
	_, recovered := scrapeTimed(t, e, "3")
	for _, want := range []string{
		`node_scrape_collector_success{collector="hwmon"} 1`,
		`node_hwmon_temp_celsius{chip="platform_coretemp_0",sensor="temp1"} 45`,
	} {
		if !strings.Contains(recovered, want) {
			t.Errorf("after the writer came, the next scrape lacks %s", want)
		}
	}
}

// scrapeTimed scrapes /metrics with Prometheus's timeout header.
func scrapeTimed(t *testing.T, e *webconftest.Exporter, timeout string) (time.Duration, string) {
	t.Helper()
	return scrapetest.Get(t, e.Client, e.URL+"/metrics", timeout)
}

func scrapeBody(t *testing.T, e *webconftest.Exporter) string {
	t.Helper()
	_, body := scrapeTimed(t, e, "3")
	return body
}

// collectorSuccess returns node_scrape_collector_success by collector.
func collectorSuccess(body string) map[string]string {
	m := map[string]string{}
	for line := range strings.Lines(body) {
		if rest, ok := strings.CutPrefix(line, `node_scrape_collector_success{collector="`); ok {
			name, value, _ := strings.Cut(rest, `"} `)
			m[name] = strings.TrimSpace(value)
		}
	}
	return m
}

// nonHwmonSeries returns the node_ series (name and labels) that hwmon
// does not send, sorted.
func nonHwmonSeries(body string) []string {
	var series []string
	for line := range strings.Lines(body) {
		if !strings.HasPrefix(line, "node_") || strings.HasPrefix(line, "node_hwmon_") {
			continue
		}
		series = append(series, line[:strings.LastIndexByte(line, ' ')])
	}
	slices.Sort(series)
	return series
}

func openFiles(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func waitFor(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// fixtureCopy copies the fixture tree into a temporary directory, to be
// changed, and returns it with a Config that reads it.
func fixtureCopy(t *testing.T) (string, Config) {
	t.Helper()
	root := t.TempDir()
	if err := fixture.Copy(root); err != nil {
		t.Fatal(err)
	}
	cfg := fixtureConfig()
	cfg.ProcPath = filepath.Join(root, "proc")
	cfg.SysPath = filepath.Join(root, "sys")
	cfg.RootfsPath = filepath.Join(root, "rootfs")
	cfg.UdevDataPath = filepath.Join(root, "udev")
	return root, cfg
}

// serveNode serves the named collectors of cfg through the framework, as
// warden_node_exporter does, logging to stderr.
func serveNode(t *testing.T, cfg Config, names []string, stderr *testlog.Buffer) *webconftest.Exporter {
	t.Helper()
	p := exporter.New(exporter.Options{Name: "warden_node_exporter", DefaultAddress: ":0", Stderr: stderr})
	return webconftest.Start(t, p, func(env exporter.Env) (exporter.Metrics, error) {
		cfg.Logger = env.Logger
		node, err := New(cfg, names)
		if err != nil {
			return nil, err
		}
		return exporter.Named(node), nil
	}, "--web.disable-exporter-metrics")
}
