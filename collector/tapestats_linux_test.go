package collector

import (
	"errors"
	"testing"
)

// The fixture has st0 and st1 with their n*, *a variants, which are the
// same drives and are not reported again.
func TestTapestats(t *testing.T) {
	compareGolden(t, build(t, "tapestats", fixtureConfig()), "testdata/tapestats.prom")
}

func TestTapestatsNoTapes(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	metrics, err := drainCollector(build(t, "tapestats", cfg))
	if !errors.Is(err, ErrNoData) || len(metrics) != 0 {
		t.Fatalf("got %d metrics, err %v; want ErrNoData", len(metrics), err)
	}
}

func TestTapestatsMalformed(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, map[string]string{
		"class/scsi_tape/st0/stats/in_flight": "0\n",
		"class/scsi_tape/st0/stats/io_ns":     "-12\n",
	})
	if _, err := drainCollector(build(t, "tapestats", cfg)); err == nil || errors.Is(err, ErrNoData) {
		t.Fatalf("Update on a malformed io_ns: err %v, want a failure", err)
	}
}
