package collector

import (
	"testing"
)

func TestBcache(t *testing.T) {
	compareGolden(t, build(t, "bcache", fixtureConfig()), "testdata/bcache.prom")
}

func TestBcachePriorityStats(t *testing.T) {
	cfg := fixtureConfig()
	cfg.Bcache.PriorityStats = true
	compareGolden(t, build(t, "bcache", cfg), "testdata/bcache_priority.prom",
		"node_bcache_priority_stats_unused_percent", "node_bcache_priority_stats_metadata_percent")
}

// Without bcache the kernel has no /sys/fs/bcache; node_exporter then sends
// nothing and succeeds.
func TestBcacheNoCacheSet(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	metrics, err := drainCollector(build(t, "bcache", cfg))
	if err != nil || len(metrics) != 0 {
		t.Fatalf("got %d metrics, err %v; want none and no error", len(metrics), err)
	}
}

func TestBcacheBroken(t *testing.T) {
	const set = "fs/bcache/0f6a3c2e-8d41-4b9e-9c57-2a1e6b3d4f80/"
	for _, tc := range []struct {
		name  string
		files map[string]string
	}{{
		name:  "malformed value",
		files: map[string]string{set + "tree_depth": "deep\n"},
	}, {
		name:  "backing device without writeback_rate_debug",
		files: map[string]string{set + "tree_depth": "1\n", set + "bdev0/dirty_data": "0\n"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.SysPath = t.TempDir()
			writeFixtureFiles(t, cfg.SysPath, tc.files)
			if _, err := drainCollector(build(t, "bcache", cfg)); err == nil {
				t.Fatal("Update succeeded on a broken cache set")
			}
		})
	}
}
