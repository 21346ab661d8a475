package collector

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// raplFixture is the powercap tree of an Intel laptop: package, core,
// uncore, dram and psys under intel-rapl, and the package again under
// intel-rapl-mmio. It is written at test time because Go module zips do not
// allow ":" in file names.
var raplFixture = func() map[string]string {
	files := map[string]string{"class/powercap/intel-rapl/enabled": "1\n"}
	for _, z := range []struct{ dir, name, energy, maxRange string }{
		{"intel-rapl:0", "package-0", "240422366267", "262143328850"},
		{"intel-rapl:0:0", "core", "118821284256", "262143328850"},
		{"intel-rapl:0:1", "uncore", "2934883", "262143328850"},
		{"intel-rapl:0:2", "dram", "24468663372", "65712999613"},
		{"intel-rapl:1", "psys", "31846392914", "262143328850"},
		{"intel-rapl-mmio:0", "package-0", "240422405127", "262143328850"},
	} {
		dir := "class/powercap/" + z.dir + "/"
		files[dir+"name"] = z.name + "\n"
		files[dir+"energy_uj"] = z.energy + "\n"
		files[dir+"max_energy_range_uj"] = z.maxRange + "\n"
		files[dir+"enabled"] = "1\n"
		files[dir+"constraint_0_name"] = "long_term\n"
	}
	return files
}()

// raplCompare compares what the collector sends from raplFixture with the
// golden file, whose path labels read /sys as on a host.
func raplCompare(t *testing.T, cfg Config, golden string) {
	t.Helper()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, raplFixture)
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	expected := strings.ReplaceAll(string(want), `path="/sys/`, `path="`+cfg.SysPath+`/`)
	a := adapter{t: t, c: build(t, "rapl", cfg)}
	if err := testutil.CollectAndCompare(a, strings.NewReader(expected)); err != nil {
		t.Error(err)
	}
	problems, err := testutil.CollectAndLint(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint %s: %s", p.Metric, p.Text)
	}
}

func TestRAPL(t *testing.T) {
	raplCompare(t, fixtureConfig(), "testdata/rapl.prom")
}

func TestRAPLZoneLabel(t *testing.T) {
	cfg := fixtureConfig()
	cfg.RAPL.ZoneLabel = true
	raplCompare(t, cfg, "testdata/rapl_zone_label.prom")
}

func TestRAPLNoData(t *testing.T) {
	for _, tc := range []struct {
		name  string
		dirs  []string
		files map[string]string
	}{
		{"no powercap class", nil, nil},
		{"no zone", []string{"class/powercap/intel-rapl"}, nil},
		// procfs fails on a zone without its range with "not exist", which
		// node_exporter takes for a platform without RAPL.
		{"zone without energy range", nil, map[string]string{
			"class/powercap/intel-rapl:0/name":      "package-0\n",
			"class/powercap/intel-rapl:0/energy_uj": "1200\n",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.SysPath = t.TempDir()
			for _, dir := range tc.dirs {
				if err := os.MkdirAll(filepath.Join(cfg.SysPath, dir), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			writeFixtureFiles(t, cfg.SysPath, tc.files)
			metrics, err := drainCollector(build(t, "rapl", cfg))
			if !errors.Is(err, ErrNoData) || len(metrics) != 0 {
				t.Fatalf("Update = %v with %d metrics, want ErrNoData and none", err, len(metrics))
			}
		})
	}
}

func TestRAPLBadFiles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
	}{
		{"malformed energy", map[string]string{
			"class/powercap/intel-rapl:0/name":                "package-0\n",
			"class/powercap/intel-rapl:0/max_energy_range_uj": "262143328850\n",
			"class/powercap/intel-rapl:0/energy_uj":           "12e3\n",
		}},
		{"no energy", map[string]string{
			"class/powercap/intel-rapl:0/name":                "package-0\n",
			"class/powercap/intel-rapl:0/max_energy_range_uj": "262143328850\n",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.SysPath = t.TempDir()
			writeFixtureFiles(t, cfg.SysPath, tc.files)
			_, err := drainCollector(build(t, "rapl", cfg))
			if err == nil || errors.Is(err, ErrNoData) {
				t.Fatalf("Update = %v, want an error", err)
			}
		})
	}
}
