//go:build linux

package collector

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// benchTrees are the trees the benchmarks read: the fixture tree, which is
// the same everywhere, and the running host, which is what a scrape costs.
var benchTrees = []struct {
	name string
	cfg  Config
}{
	{"fixture", fixtureConfig()},
	{"host", DefaultConfig()},
}

// benchmarkCollector measures one Update of the named collector, the
// metrics it sends drained by another goroutine as in a scrape.
func benchmarkCollector(b *testing.B, name string) {
	for _, tree := range benchTrees {
		b.Run(tree.name, func(b *testing.B) {
			skipWithoutHost(b, tree.name)
			c, err := factories[name].build(tree.cfg.withDefaults().forCollector(name))
			if err != nil {
				b.Fatal(err)
			}
			ch := make(chan prometheus.Metric, 64)
			done := make(chan int)
			go func() {
				n := 0
				for range ch {
					n++
				}
				done <- n
			}()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Update(ctx, ch); err != nil && !errors.Is(err, ErrNoData) {
					b.Fatal(err)
				}
			}
			close(ch)
			b.ReportMetric(float64(<-done)/float64(b.N), "metrics/op")
		})
	}
}

func BenchmarkNetClass(b *testing.B) { benchmarkCollector(b, "netclass") }

func BenchmarkNetstat(b *testing.B) { benchmarkCollector(b, "netstat") }

// BenchmarkNodeCollectorDefault measures what a scrape of the default
// collectors costs before encoding: a fresh registry gathering them, as
// warden_node_exporter does for each request.
func BenchmarkNodeCollectorDefault(b *testing.B) {
	var names []string
	for _, name := range Names() {
		if DefaultEnabled(name) {
			names = append(names, name)
		}
	}
	for _, tree := range benchTrees {
		b.Run(tree.name, func(b *testing.B) {
			skipWithoutHost(b, tree.name)
			node, err := New(tree.cfg, names)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			series := 0
			for b.Loop() {
				reg := prometheus.NewRegistry()
				reg.MustRegister(node.Scrape(ctx, nil))
				families, err := reg.Gather()
				if err != nil {
					b.Fatal(err)
				}
				for _, f := range families {
					series += len(f.GetMetric())
				}
			}
			b.ReportMetric(float64(series)/float64(b.N), "series/op")
		})
	}
}

// skipWithoutHost skips a benchmark of the host tree where there is no
// sysfs to read.
func skipWithoutHost(b *testing.B, tree string) {
	b.Helper()
	if tree != "host" {
		return
	}
	if _, err := os.Stat("/sys/class/net"); err != nil {
		b.Skip("no sysfs:", err)
	}
}
