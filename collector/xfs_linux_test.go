package collector

import (
	"testing"
)

// The fixture has the stats of two mounted file systems, one from Linux 6.18
// and one from an older kernel with fewer B-tree lines.
func TestXFS(t *testing.T) {
	compareGolden(t, build(t, "xfs", fixtureConfig()), "testdata/xfs.prom")
}

// Without XFS mounted node_exporter sends nothing and succeeds.
func TestXFSNone(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, map[string]string{"fs/xfs/stats/stats": "extent_alloc 0 0 0 0\n"})
	metrics, err := drainCollector(build(t, "xfs", cfg))
	if err != nil || len(metrics) != 0 {
		t.Fatalf("got %d metrics, err %v; want none and no error", len(metrics), err)
	}
}

func TestXFSMalformed(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, map[string]string{"fs/xfs/vdb/stats/stats": "extent_alloc 4203 301722 x 88213\n"})
	if _, err := drainCollector(build(t, "xfs", cfg)); err == nil {
		t.Fatal("Update succeeded on malformed stats")
	}
}
