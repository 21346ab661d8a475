package collector

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestNetClass(t *testing.T) {
	compareGolden(t, build(t, "netclass", fixtureConfig()), "testdata/netclass.prom")
}

func TestNetClassOptions(t *testing.T) {
	cfg := fixtureConfig()
	cfg.NetClass.IgnoredDevices = `^(lo|wg\d+|eth[12])$`
	cfg.NetClass.IgnoreInvalidSpeed = true
	// docker0's speed of -1 (unknown) is left out.
	want := `# HELP node_network_speed_bytes Network device property: speed_bytes
# TYPE node_network_speed_bytes gauge
node_network_speed_bytes{device="bond0"} 1.25e+09
node_network_speed_bytes{device="eth0"} 1.25e+08
# HELP node_network_up Value is 1 if operstate is 'up', 0 otherwise.
# TYPE node_network_up gauge
node_network_up{device="bond0"} 1
node_network_up{device="docker0"} 0
node_network_up{device="eth0"} 1
`
	c := build(t, "netclass", cfg)
	if err := testutil.CollectAndCompare(adapter{t: t, c: c}, strings.NewReader(want),
		"node_network_speed_bytes", "node_network_up"); err != nil {
		t.Error(err)
	}
}

func TestNetClassBadRegexp(t *testing.T) {
	cfg := fixtureConfig()
	cfg.NetClass.IgnoredDevices = "^(lo"
	if _, err := newNetClassCollector(cfg.withDefaults()); err == nil {
		t.Error("built with an invalid regexp")
	}
}

func TestNetClassNoData(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	if _, err := drainCollector(build(t, "netclass", cfg)); !errors.Is(err, ErrNoData) {
		t.Errorf("Update: %v, want ErrNoData", err)
	}
}

// An interface removed between listing /sys/class/net and reading it (its
// link then points nowhere) is skipped; the others are still reported.
func TestNetClassInterfaceGone(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, map[string]string{
		"devices/virtual/net/lo/operstate": "unknown\n",
		"devices/virtual/net/lo/flags":     "0x9\n",
	})
	for name, target := range map[string]string{"lo": "lo", "veth9": "veth9"} {
		if err := os.MkdirAll(filepath.Join(cfg.SysPath, "class/net"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join("../../devices/virtual/net", target), filepath.Join(cfg.SysPath, "class/net", name)); err != nil {
			t.Fatal(err)
		}
	}
	want := `# HELP node_network_info Non-numeric data from /sys/class/net/<iface>, value is always 1.
# TYPE node_network_info gauge
node_network_info{address="",adminstate="up",broadcast="",device="lo",duplex="",ifalias="",operstate="unknown"} 1
# HELP node_network_up Value is 1 if operstate is 'up', 0 otherwise.
# TYPE node_network_up gauge
node_network_up{device="lo"} 0
`
	c := build(t, "netclass", cfg)
	if err := testutil.CollectAndCompare(adapter{t: t, c: c}, strings.NewReader(want), "node_network_info", "node_network_up"); err != nil {
		t.Error(err)
	}
}

func TestNetClassAdminState(t *testing.T) {
	for _, tc := range []struct {
		flags *int64
		want  string
	}{
		{nil, "unknown"},
		{new(int64(0x1003)), "up"},
		{new(int64(0x1002)), "down"},
	} {
		if got := netclassAdminState(tc.flags); got != tc.want {
			t.Errorf("netclassAdminState(%v) = %q, want %q", tc.flags, got, tc.want)
		}
	}
}
