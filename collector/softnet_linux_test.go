package collector

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestSoftnet(t *testing.T) {
	compareGolden(t, build(t, "softnet", fixtureConfig()), "testdata/softnet.prom")
}

// Before Linux 5.14 the file has no CPU column; the lines are numbered.
func TestSoftnetOldKernel(t *testing.T) {
	cfg := fixtureConfig()
	cfg.ProcPath = t.TempDir()
	writeFixtureFiles(t, cfg.ProcPath, map[string]string{"net/softnet_stat": "" +
		"00049e7e 00000000 00000003 00000000 00000000 00000000 00000000 00000000 00000001 00000002 00000000\n" +
		"0001c3a5 00000001 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000004\n",
	})
	want := `# HELP node_softnet_flow_limit_count_total Number of times flow limit has been reached
# TYPE node_softnet_flow_limit_count_total counter
node_softnet_flow_limit_count_total{cpu="0"} 0
node_softnet_flow_limit_count_total{cpu="1"} 4
# HELP node_softnet_processed_total Number of processed packets
# TYPE node_softnet_processed_total counter
node_softnet_processed_total{cpu="0"} 302718
node_softnet_processed_total{cpu="1"} 115621
`
	c := build(t, "softnet", cfg)
	if err := testutil.CollectAndCompare(adapter{t: t, c: c}, strings.NewReader(want),
		"node_softnet_processed_total", "node_softnet_flow_limit_count_total"); err != nil {
		t.Error(err)
	}
}

func TestSoftnetErrors(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"missing file": {},
		"short line":   {"net/softnet_stat": "00049e7e 00000000 00000003\n"},
		"not hex":      {"net/softnet_stat": "0004zz7e 00000000 00000003 00000000 00000000 00000000 00000000 00000000 00000001\n"},
		"out of range": {"net/softnet_stat": "100049e7e 00000000 00000003 00000000 00000000 00000000 00000000 00000000 00000001\n"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.ProcPath = t.TempDir()
			writeFixtureFiles(t, cfg.ProcPath, files)
			if _, err := drainCollector(build(t, "softnet", cfg)); err == nil || errors.Is(err, ErrNoData) {
				t.Errorf("Update: %v, want an error", err)
			}
		})
	}
}
