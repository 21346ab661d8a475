package collector

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestBcachefs(t *testing.T) {
	compareGolden(t, build(t, "bcachefs", fixtureConfig()), "testdata/bcachefs.prom")
}

func TestBcachefsNoData(t *testing.T) {
	for _, tc := range []struct {
		name string
		dirs []string // created under the sysfs root
	}{
		{name: "module not loaded"},
		{name: "nothing mounted", dirs: []string{"fs/bcachefs"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.SysPath = t.TempDir()
			for _, d := range tc.dirs {
				if err := os.MkdirAll(filepath.Join(cfg.SysPath, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			metrics, err := drainCollector(build(t, "bcachefs", cfg))
			if !errors.Is(err, ErrNoData) || len(metrics) != 0 {
				t.Fatalf("got %d metrics, err %v; want ErrNoData", len(metrics), err)
			}
		})
	}
}

func TestBcachefsMalformed(t *testing.T) {
	const fs = "fs/bcachefs/5c1e8a3f-27d4-4c0b-9e61-b8f2a4d7c013/"
	for name, content := range map[string]string{
		"btree_cache_size":      "lots\n",
		"counters/io_write":     "io_write 17\n",
		"dev-0/nbuckets":        "-1\n",
		"errors":                "btree_node_read_err many\n",
		"dev-0/io_done":         "read:\n\tuser : 1.5G\n",
		"compression_stats":     "type compressed uncompressed\nlz4: 1G x\n",
		"btree_write_stats":     "nr size\ninitial: x 1k\n",
		"dev-1/io_errors":       "IO errors since filesystem creation\n\tread: x\n",
		"dev-1/bucket_size":     "big\n",
		"dev-1/durability":      "two\n",
		"counters/btree_node_x": "\n",
	} {
		t.Run(name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.SysPath = t.TempDir()
			writeFixtureFiles(t, cfg.SysPath, map[string]string{fs + name: content})
			if _, err := drainCollector(build(t, "bcachefs", cfg)); err == nil || errors.Is(err, ErrNoData) {
				t.Fatalf("Update on malformed %s: err %v, want a failure", name, err)
			}
		})
	}
}
