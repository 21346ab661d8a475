package collector

import (
	"testing"
)

func TestMeminfo(t *testing.T) {
	compareGolden(t, build(t, "meminfo", fixtureConfig()), "testdata/meminfo.prom")
}

func TestMeminfoMissingFile(t *testing.T) {
	cfg := fixtureConfig()
	cfg.ProcPath = t.TempDir()
	if _, err := drainCollector(build(t, "meminfo", cfg)); err == nil {
		t.Fatal("Update succeeded without /proc/meminfo")
	}
}

func TestMeminfoMalformed(t *testing.T) {
	for name, content := range map[string]string{
		"unknown unit":  "MemTotal:       16283904 MB\n",
		"not a number":  "MemTotal:       lots kB\n",
		"extra field":   "MemTotal:       16283904 kB kB\n",
		"missing value": "MemTotal:\n",
	} {
		t.Run(name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.ProcPath = t.TempDir()
			writeFixtureFiles(t, cfg.ProcPath, map[string]string{"meminfo": content})
			if _, err := drainCollector(build(t, "meminfo", cfg)); err == nil {
				t.Fatalf("Update succeeded on %q", content)
			}
		})
	}
}
