package collector

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// watchdog0 offers every file, watchdog1 (softdog) only a few.
func TestWatchdog(t *testing.T) {
	compareGolden(t, build(t, "watchdog", fixtureConfig()), "testdata/watchdog.prom")
}

func TestWatchdogNoData(t *testing.T) {
	for _, tc := range []struct {
		name string
		dirs []string
	}{
		{"no watchdog class", nil},
		{"no watchdog", []string{"class/watchdog"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.SysPath = t.TempDir()
			for _, dir := range tc.dirs {
				if err := os.MkdirAll(filepath.Join(cfg.SysPath, dir), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			metrics, err := drainCollector(build(t, "watchdog", cfg))
			if !errors.Is(err, ErrNoData) || len(metrics) != 0 {
				t.Fatalf("Update = %v with %d metrics, want ErrNoData and none", err, len(metrics))
			}
		})
	}
}

func TestWatchdogMalformed(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, map[string]string{
		"class/watchdog/watchdog0/identity": "iTCO_wdt\n",
		"class/watchdog/watchdog0/timeout":  "30s\n",
	})
	if _, err := drainCollector(build(t, "watchdog", cfg)); err == nil || errors.Is(err, ErrNoData) {
		t.Fatalf("Update = %v, want an error", err)
	}
}
