package collector

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/warden-exporter/warden/internal/bigtree"
	"github.com/warden-exporter/warden/internal/exposition"
)

// TestExpositionMatchesRegistry gathers every default collector, on the
// fixture tree and on a small generated big-host tree, once through
// client_golang's registry and expfmt (what the handler used to serve)
// and once through internal/exposition (what it serves now), and compares
// the text byte for byte, less the values that change between two
// gatherings.
func TestExpositionMatchesRegistry(t *testing.T) {
	for _, tree := range []struct {
		name string
		cfg  Config
	}{{"fixture", fixtureConfig()}, {"bigtree", bigtreeConfig(t, 0.02)}} {
		t.Run(tree.name, func(t *testing.T) {
			node, err := New(tree.cfg, defaultNames())
			if err != nil {
				t.Fatal(err)
			}
			format := expfmt.NewFormat(expfmt.TypeTextPlain)

			reg := prometheus.NewRegistry()
			reg.MustRegister(node.Scrape(context.Background(), nil))
			mfs, _ := reg.Gather()
			var want bytes.Buffer
			enc := expfmt.NewEncoder(&want, format)
			for _, mf := range mfs {
				if err := enc.Encode(mf); err != nil {
					t.Fatal(err)
				}
			}

			s, _ := exposition.Gather(format, []prometheus.Collector{node.Scrape(context.Background(), nil)}, nil)
			defer s.Release()
			var got bytes.Buffer
			if _, err := s.WriteTo(&got, nil); err != nil {
				t.Fatal(err)
			}
			if g, w := stable(got.String()), stable(want.String()); g != w {
				t.Errorf("exposition differs from the registry:\n%s", firstDifference(g, w))
			}
			if got.Len() < 1000 {
				t.Errorf("only %d bytes gathered", got.Len())
			}
		})
	}
}

// stable drops the samples whose values change between two gatherings:
// durations, the clock, and statfs of the test's temporary directory.
func stable(s string) string {
	var out []string
	for line := range strings.Lines(s) {
		if strings.HasPrefix(line, "#") {
			out = append(out, line)
			continue
		}
		for _, volatile := range []string{"node_scrape_collector_duration_seconds", "node_time_", "node_timex_", "node_filesystem_"} {
			if strings.HasPrefix(line, volatile) {
				line = line[:strings.LastIndexByte(line, ' ')] + "\n"
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "")
}

func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return "got  " + g[i] + "\nwant " + w[i]
		}
	}
	return "lengths differ"
}

// defaultNames returns the collectors enabled by default.
func defaultNames() []string {
	var names []string
	for _, name := range Names() {
		if DefaultEnabled(name) {
			names = append(names, name)
		}
	}
	return names
}

// bigtreeConfig reads a generated big-host tree (internal/bigtree) of
// the given scale, written into a temporary directory.
func bigtreeConfig(tb testing.TB, scale float64) Config {
	tb.Helper()
	p, err := bigtree.Write(filepath.Join(tb.TempDir(), "tree"), bigtree.Full.Scaled(scale))
	if err != nil {
		tb.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.ProcPath, cfg.SysPath, cfg.RootfsPath, cfg.UdevDataPath = p.Proc, p.Sys, p.Rootfs, p.Udev
	return cfg
}
