package collector

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fixtureConfig reads the shared fixture tree in the top-level testdata/
// (proc, sys, rootfs, udev) instead of the host.
func fixtureConfig() Config {
	cfg := DefaultConfig()
	cfg.ProcPath = "../testdata/proc"
	cfg.SysPath = "../testdata/sys"
	cfg.RootfsPath = "../testdata/rootfs"
	cfg.UdevDataPath = "../testdata/udev"
	return cfg
}

// adapter exposes one Warden collector as a prometheus.Collector, without the
// scrape_* metrics, so that tests compare only what the collector sends.
type adapter struct {
	t *testing.T
	c Collector
}

func (a adapter) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(a, ch) }

func (a adapter) Collect(ch chan<- prometheus.Metric) {
	if err := a.c.Update(context.Background(), ch); err != nil {
		a.t.Errorf("Update: %v", err)
	}
}

// build builds the named collector from cfg or fails the test.
func build(t *testing.T, name string, cfg Config) Collector {
	t.Helper()
	f, ok := factories[name]
	if !ok {
		t.Fatalf("collector %q is not registered", name)
	}
	c, err := f.build(cfg.withDefaults().forCollector(name))
	if err != nil {
		t.Fatalf("build %s: %v", name, err)
	}
	return c
}

// compareGolden checks what the collector sends against testdata/NAME.prom,
// the exposition text expected, for the metric names given (all when none),
// and lints the result.
func compareGolden(t *testing.T, c Collector, golden string, metricNames ...string) {
	t.Helper()
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	a := adapter{t: t, c: c}
	if err := testutil.CollectAndCompare(a, strings.NewReader(string(want)), metricNames...); err != nil {
		t.Error(err)
	}
	problems, err := testutil.CollectAndLint(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		// node_exporter spells some names with the kernel's CamelCase
		// fields (node_memory_MemTotal_bytes, node_netstat_Tcp_InSegs);
		// dashboards need them as they are, so that complaint is accepted.
		if p.Text != "metric names should be written in 'snake_case' not 'camelCase'" {
			t.Errorf("lint %s: %s", p.Metric, p.Text)
		}
	}
}

// drainCollector runs one Update of c and returns what it sent.
func drainCollector(c Collector) ([]prometheus.Metric, error) {
	ch := make(chan prometheus.Metric)
	var metrics []prometheus.Metric
	done := make(chan struct{})
	go func() {
		for m := range ch {
			metrics = append(metrics, m)
		}
		close(done)
	}()
	err := c.Update(context.Background(), ch)
	close(ch)
	<-done
	return metrics, err
}

// writeFixtureFiles writes files (path relative to dir: content) under dir.
func writeFixtureFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// sysTree names a sysfs tree made of empty directories.
type sysTree struct {
	name string
	dirs []string
}

// requireNoData checks that the collector, on each sysfs tree, returns
// ErrNoData and sends nothing.
func requireNoData(t *testing.T, collector string, trees []sysTree) {
	t.Helper()
	for _, tc := range trees {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.SysPath = t.TempDir()
			for _, dir := range tc.dirs {
				if err := os.MkdirAll(filepath.Join(cfg.SysPath, dir), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			metrics, err := drainCollector(build(t, collector, cfg))
			if !errors.Is(err, ErrNoData) || len(metrics) != 0 {
				t.Fatalf("Update = %v with %d metrics, want ErrNoData and none", err, len(metrics))
			}
		})
	}
}
