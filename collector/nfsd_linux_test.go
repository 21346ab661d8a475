package collector

import (
	"errors"
	"testing"
)

func TestNFSd(t *testing.T) {
	compareGolden(t, build(t, "nfsd", fixtureConfig()), "testdata/nfsd.prom")
}

func TestNFSdMissingFile(t *testing.T) {
	cfg := fixtureConfig()
	cfg.ProcPath = t.TempDir()
	if _, err := drainCollector(build(t, "nfsd", cfg)); !errors.Is(err, ErrNoData) {
		t.Fatalf("Update returned %v, want ErrNoData", err)
	}
}

func TestNFSdMalformed(t *testing.T) {
	for name, content := range map[string]string{
		"short rc line":  "rc 12 8961\n",
		"unknown line":   "rc 12 8961 4270\nxx 1\n",
		"short th line":  "th 8\n",
		"short proc4ops": "proc4ops 3 0 0 0\n",
	} {
		t.Run(name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.ProcPath = t.TempDir()
			writeFixtureFiles(t, cfg.ProcPath, map[string]string{"net/rpc/nfsd": content})
			if _, err := drainCollector(build(t, "nfsd", cfg)); err == nil || errors.Is(err, ErrNoData) {
				t.Fatalf("Update returned %v, want a parse error", err)
			}
		})
	}
}
