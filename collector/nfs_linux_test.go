package collector

import (
	"errors"
	"testing"
)

func TestNFS(t *testing.T) {
	compareGolden(t, build(t, "nfs", fixtureConfig()), "testdata/nfs.prom")
}

func TestNFSMissingFile(t *testing.T) {
	cfg := fixtureConfig()
	cfg.ProcPath = t.TempDir()
	if _, err := drainCollector(build(t, "nfs", cfg)); !errors.Is(err, ErrNoData) {
		t.Fatalf("Update returned %v, want ErrNoData", err)
	}
}

func TestNFSMalformed(t *testing.T) {
	for name, content := range map[string]string{
		"short net line": "net 18628 11 18617\n",
		"unknown line":   "net 18628 11 18617 6\nproc9 1 0\n",
		"not a number":   "rpc 4329785 x 4338291\n",
		"count mismatch": "proc3 22 1 2 3\n",
	} {
		t.Run(name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.ProcPath = t.TempDir()
			writeFixtureFiles(t, cfg.ProcPath, map[string]string{"net/rpc/nfs": content})
			if _, err := drainCollector(build(t, "nfs", cfg)); err == nil || errors.Is(err, ErrNoData) {
				t.Fatalf("Update returned %v, want a parse error", err)
			}
		})
	}
}
