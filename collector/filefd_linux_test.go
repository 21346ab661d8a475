package collector

import (
	"errors"
	"io/fs"
	"testing"
)

func TestFileFD(t *testing.T) {
	compareGolden(t, build(t, "filefd", fixtureConfig()), "testdata/filefd.prom")
}

func TestFileFDMissingFile(t *testing.T) {
	cfg := fixtureConfig()
	cfg.ProcPath = t.TempDir()
	// node_exporter fails the scrape: every Linux kernel has file-nr.
	if _, err := drainCollector(build(t, "filefd", cfg)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Update returned %v, want a not-exist error", err)
	}
}

func TestFileFDMalformed(t *testing.T) {
	for name, content := range map[string]string{
		"too few fields": "1024\t0\n",
		"not a number":   "1024\t0\tmany\n",
		"empty":          "",
	} {
		t.Run(name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.ProcPath = t.TempDir()
			writeFixtureFiles(t, cfg.ProcPath, map[string]string{"sys/fs/file-nr": content})
			metrics, err := drainCollector(build(t, "filefd", cfg))
			if err == nil || errors.Is(err, ErrNoData) {
				t.Fatalf("Update returned %v, want a parse error", err)
			}
			if len(metrics) != 0 {
				t.Errorf("sent %d metrics along with the error", len(metrics))
			}
		})
	}
}
