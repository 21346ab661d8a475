package collector

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestThermalZone(t *testing.T) {
	compareGolden(t, build(t, "thermal_zone", fixtureConfig()), "testdata/thermal_zone.prom")
}

func TestThermalZoneNoData(t *testing.T) {
	requireNoData(t, "thermal_zone", []sysTree{
		{"no thermal class", nil},
		{"no zone and no cooling device", []string{"class/thermal"}},
	})
}

// A zone whose temperature cannot be read is still sent, at 0, as
// node_exporter does.
func TestThermalZoneUnreadableTemp(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, map[string]string{
		"class/thermal/thermal_zone3/type":   "iwlwifi_1\n",
		"class/thermal/thermal_zone3/policy": "step_wise\n",
	})
	want := `# HELP node_thermal_zone_temp Zone temperature in Celsius
# TYPE node_thermal_zone_temp gauge
node_thermal_zone_temp{type="iwlwifi_1",zone="3"} 0
`
	if err := testutil.CollectAndCompare(adapter{t: t, c: build(t, "thermal_zone", cfg)}, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestThermalZoneBadCoolingDevice(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, map[string]string{
		"class/thermal/cooling_device0/type":      "Processor\n",
		"class/thermal/cooling_device0/cur_state": "0\n",
		"class/thermal/cooling_device0/max_state": "ten\n",
	})
	if _, err := drainCollector(build(t, "thermal_zone", cfg)); err == nil || errors.Is(err, ErrNoData) {
		t.Fatalf("Update = %v, want an error", err)
	}
}
