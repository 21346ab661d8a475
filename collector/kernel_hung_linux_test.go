package collector

import (
	"errors"
	"testing"
)

func TestKernelHung(t *testing.T) {
	compareGolden(t, build(t, "kernel_hung", fixtureConfig()), "testdata/kernel_hung.prom")
}

func TestKernelHungMissingFile(t *testing.T) {
	cfg := fixtureConfig()
	cfg.ProcPath = t.TempDir()
	if _, err := drainCollector(build(t, "kernel_hung", cfg)); !errors.Is(err, ErrNoData) {
		t.Fatalf("Update returned %v, want ErrNoData", err)
	}
}

func TestKernelHungMalformed(t *testing.T) {
	cfg := fixtureConfig()
	cfg.ProcPath = t.TempDir()
	writeFixtureFiles(t, cfg.ProcPath, map[string]string{"sys/kernel/hung_task_detect_count": "-1\n"})
	if _, err := drainCollector(build(t, "kernel_hung", cfg)); err == nil || errors.Is(err, ErrNoData) {
		t.Fatalf("Update returned %v, want a parse error", err)
	}
}
