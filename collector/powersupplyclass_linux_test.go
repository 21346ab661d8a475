package collector

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// uncheckedAdapter describes nothing, so that the registry of the test, like
// Warden's own, accepts node_power_supply_info with label names that vary
// from one supply to the next, as node_exporter sends it.
type uncheckedAdapter struct{ adapter }

func (uncheckedAdapter) Describe(chan<- *prometheus.Desc) {}

// powerSupplyCompare compares what c sends with the exposition text want.
func powerSupplyCompare(t *testing.T, c Collector, want string, names ...string) {
	t.Helper()
	a := uncheckedAdapter{adapter{t: t, c: c}}
	if err := testutil.CollectAndCompare(a, strings.NewReader(want), names...); err != nil {
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

// The fixture has a laptop's AC adapter and battery and the source of a
// USB-C port controller (tcpm).
func TestPowerSupplyClass(t *testing.T) {
	want, err := os.ReadFile("testdata/powersupplyclass.prom")
	if err != nil {
		t.Fatal(err)
	}
	powerSupplyCompare(t, build(t, "powersupplyclass", fixtureConfig()), string(want))
}

func TestPowerSupplyClassIgnored(t *testing.T) {
	cfg := fixtureConfig()
	cfg.PowerSupply.IgnoredSupplies = "^(BAT0|tcpm-.*)$"
	want := `# HELP node_power_supply_info info of /sys/class/power_supply/<power_supply>.
# TYPE node_power_supply_info gauge
node_power_supply_info{power_supply="AC",type="Mains"} 1
# HELP node_power_supply_online online value of /sys/class/power_supply/<power_supply>.
# TYPE node_power_supply_online gauge
node_power_supply_online{power_supply="AC"} 1
`
	powerSupplyCompare(t, build(t, "powersupplyclass", cfg), want)
}

// A library user who leaves the pattern empty ignores nothing.
func TestPowerSupplyClassEmptyPattern(t *testing.T) {
	cfg := fixtureConfig()
	cfg.PowerSupply.IgnoredSupplies = ""
	want := `# HELP node_power_supply_online online value of /sys/class/power_supply/<power_supply>.
# TYPE node_power_supply_online gauge
node_power_supply_online{power_supply="AC"} 1
node_power_supply_online{power_supply="tcpm-source-psy-4-0022"} 0
`
	powerSupplyCompare(t, build(t, "powersupplyclass", cfg), want, "node_power_supply_online")
}

func TestPowerSupplyClassNotUTF8(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, map[string]string{
		"class/power_supply/hidpp_battery_0/type":         "Battery\n",
		"class/power_supply/hidpp_battery_0/scope":        "Device\n",
		"class/power_supply/hidpp_battery_0/model_name":   "MX Master \xb3\n",
		"class/power_supply/hidpp_battery_0/voltage_now":  "3890000\n",
		"class/power_supply/hidpp_battery_0/manufacturer": "Logitech\n",
	})
	want := `# HELP node_power_supply_info info of /sys/class/power_supply/<power_supply>.
# TYPE node_power_supply_info gauge
node_power_supply_info{manufacturer="Logitech",model_name="MX Master ` + "\uFFFD" + `",power_supply="hidpp_battery_0",scope="Device",type="Battery"} 1
# HELP node_power_supply_voltage_volt voltage_volt value of /sys/class/power_supply/<power_supply>.
# TYPE node_power_supply_voltage_volt gauge
node_power_supply_voltage_volt{power_supply="hidpp_battery_0"} 3.89
`
	powerSupplyCompare(t, build(t, "powersupplyclass", cfg), want)
}

func TestPowerSupplyClassNoData(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dirs    []string
		ignored string
	}{
		{"no power_supply class", nil, "^$"},
		{"no supply", []string{"class/power_supply"}, "^$"},
		{"every supply ignored", []string{"class/power_supply/AC"}, "^AC$"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.SysPath = t.TempDir()
			cfg.PowerSupply.IgnoredSupplies = tc.ignored
			for _, dir := range tc.dirs {
				if err := os.MkdirAll(filepath.Join(cfg.SysPath, dir), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			metrics, err := drainCollector(build(t, "powersupplyclass", cfg))
			if !errors.Is(err, ErrNoData) || len(metrics) != 0 {
				t.Fatalf("Update = %v with %d metrics, want ErrNoData and none", err, len(metrics))
			}
		})
	}
}

func TestPowerSupplyClassMalformed(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, map[string]string{
		"class/power_supply/BAT0/type":     "Battery\n",
		"class/power_supply/BAT0/capacity": "81%\n",
	})
	if _, err := drainCollector(build(t, "powersupplyclass", cfg)); err == nil || errors.Is(err, ErrNoData) {
		t.Fatalf("Update = %v, want an error", err)
	}
}

func TestPowerSupplyClassBadPattern(t *testing.T) {
	cfg := fixtureConfig()
	cfg.PowerSupply.IgnoredSupplies = "(BAT"
	if _, err := factories["powersupplyclass"].build(cfg); err == nil {
		t.Fatal("built with an invalid pattern")
	}
}
