package collector

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/procfs"
)

func TestPressure(t *testing.T) {
	compareGolden(t, build(t, "pressure", fixtureConfig()), "testdata/pressure.prom")
}

const (
	psiCPU    = "some avg10=0.22 avg60=1.65 avg300=7.01 total=52844365\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
	psiIO     = "some avg10=0.18 avg60=0.26 avg300=0.13 total=3313927\nfull avg10=0.12 avg60=0.21 avg300=0.11 total=2952088\n"
	psiMemory = "some avg10=0.00 avg60=0.03 avg300=0.02 total=1207781\nfull avg10=0.00 avg60=0.01 avg300=0.01 total=905130\n"
)

func TestPressureKernelVersions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string // families sent, named without node_pressure_ and _seconds_total
	}{{
		// Linux 5.13 to 6.0: no irq file.
		name:  "without irq",
		files: map[string]string{"pressure/cpu": psiCPU, "pressure/io": psiIO, "pressure/memory": psiMemory},
		want:  []string{"cpu_waiting", "io_stalled", "io_waiting", "memory_stalled", "memory_waiting"},
	}, {
		// Linux 4.20 to 5.12: cpu has no "full" line.
		name: "cpu without full",
		files: map[string]string{
			"pressure/cpu": "some avg10=0.22 avg60=1.65 avg300=7.01 total=52844365\n",
			"pressure/io":  psiIO, "pressure/memory": psiMemory,
		},
		want: []string{"cpu_waiting", "io_stalled", "io_waiting", "memory_stalled", "memory_waiting"},
	}, {
		name:  "only cpu",
		files: map[string]string{"pressure/cpu": psiCPU},
		want:  []string{"cpu_waiting"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.ProcPath = t.TempDir()
			writeFixtureFiles(t, cfg.ProcPath, tc.files)
			c := build(t, "pressure", cfg)
			if _, err := drainCollector(c); err != nil {
				t.Fatal(err)
			}
			// The families of the full golden file not in want must be
			// absent; those in want must have the same values.
			var all []string
			var want strings.Builder
			for family := range strings.SplitSeq(strings.TrimPrefix(string(goldenPressure(t)), "# HELP "), "# HELP ") {
				name := strings.Fields(family)[0]
				all = append(all, name)
				if slices.Contains(tc.want, strings.TrimSuffix(strings.TrimPrefix(name, "node_pressure_"), "_seconds_total")) {
					want.WriteString("# HELP " + family)
				}
			}
			if err := testutil.CollectAndCompare(adapter{t: t, c: c}, strings.NewReader(want.String()), all...); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestPressureNoData(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
	}{
		{"no pressure directory", map[string]string{}},
		{"no some line", map[string]string{"pressure/cpu": "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"}},
		{"io without full line", map[string]string{"pressure/cpu": psiCPU, "pressure/io": "some avg10=0.18 avg60=0.26 avg300=0.13 total=3313927\n"}},
		{"irq without full line", map[string]string{"pressure/cpu": psiCPU, "pressure/irq": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.ProcPath = t.TempDir()
			writeFixtureFiles(t, cfg.ProcPath, tc.files)
			if _, err := drainCollector(build(t, "pressure", cfg)); !errors.Is(err, ErrNoData) {
				t.Fatalf("Update returned %v, want ErrNoData", err)
			}
		})
	}
}

// With psi=0 on the kernel command line the files exist but reading them
// fails with EOPNOTSUPP, which no fixture file can do.
func TestPressureDisabled(t *testing.T) {
	c := build(t, "pressure", fixtureConfig()).(*pressureCollector)
	c.psi = func(resource string) (procfs.PSIStats, error) {
		return procfs.PSIStats{}, fmt.Errorf("psi_stats: unavailable for %q: %w", resource, syscall.EOPNOTSUPP)
	}
	if _, err := drainCollector(c); !errors.Is(err, ErrNoData) {
		t.Fatalf("Update returned %v, want ErrNoData", err)
	}
}

func TestPressureErrors(t *testing.T) {
	t.Run("malformed", func(t *testing.T) {
		cfg := fixtureConfig()
		cfg.ProcPath = t.TempDir()
		writeFixtureFiles(t, cfg.ProcPath, map[string]string{"pressure/cpu": "some avg10=0.22 avg60=high avg300=7.01 total=52844365\n"})
		if _, err := drainCollector(build(t, "pressure", cfg)); err == nil || errors.Is(err, ErrNoData) {
			t.Fatalf("Update returned %v, want an error", err)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		c := build(t, "pressure", fixtureConfig()).(*pressureCollector)
		c.psi = func(string) (procfs.PSIStats, error) { return procfs.PSIStats{}, syscall.EIO }
		if _, err := drainCollector(c); !errors.Is(err, syscall.EIO) {
			t.Fatalf("Update returned %v, want EIO", err)
		}
	})
}

func goldenPressure(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/pressure.prom")
	if err != nil {
		t.Fatal(err)
	}
	return b
}
