package collector

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestLoadavg(t *testing.T) {
	compareGolden(t, build(t, "loadavg", fixtureConfig()), "testdata/loadavg.prom")
}

func TestLoadavgMissingFile(t *testing.T) {
	cfg := fixtureConfig()
	cfg.ProcPath = t.TempDir()
	c := build(t, "loadavg", cfg)
	if err := c.Update(t.Context(), make(chan prometheus.Metric, 10)); err == nil {
		t.Fatal("Update succeeded without /proc/loadavg")
	}
}
