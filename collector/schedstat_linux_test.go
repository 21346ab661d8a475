package collector

import (
	"errors"
	"testing"
)

func TestSchedstat(t *testing.T) {
	compareGolden(t, build(t, "schedstat", fixtureConfig()), "testdata/schedstat.prom")
}

func TestSchedstatMissingFile(t *testing.T) {
	cfg := fixtureConfig()
	cfg.ProcPath = t.TempDir()
	if _, err := drainCollector(build(t, "schedstat", cfg)); !errors.Is(err, ErrNoData) {
		t.Fatalf("Update returned %v, want ErrNoData", err)
	}
}

// procfs skips the lines it cannot read, so a malformed file gives no
// series and no error, as in node_exporter.
func TestSchedstatMalformed(t *testing.T) {
	cfg := fixtureConfig()
	cfg.ProcPath = t.TempDir()
	writeFixtureFiles(t, cfg.ProcPath, map[string]string{
		"schedstat": "version 15\ntimestamp 4297299139\ncpu0 1 2 3\n",
	})
	metrics, err := drainCollector(build(t, "schedstat", cfg))
	if err != nil || len(metrics) != 0 {
		t.Fatalf("Update sent %d metrics and returned %v, want none and nil", len(metrics), err)
	}
}
