package collector

import (
	"errors"
	"testing"
)

// watchdog0 offers every file, watchdog1 (softdog) only a few.
func TestWatchdog(t *testing.T) {
	compareGolden(t, build(t, "watchdog", fixtureConfig()), "testdata/watchdog.prom")
}

func TestWatchdogNoData(t *testing.T) {
	requireNoData(t, "watchdog", []sysTree{
		{"no watchdog class", nil},
		{"no watchdog", []string{"class/watchdog"}},
	})
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
