package collector

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/procfs/sysfs"
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

// readIface must give what procfs's NetClassByIface, which node_exporter
// uses, gives: on the fixture tree, on a tree of odd attributes, and on
// the host, whose down links refuse some attributes (EINVAL).
func TestNetClassReadIfaceMatchesProcfs(t *testing.T) {
	odd := t.TempDir()
	writeFixtureFiles(t, odd, map[string]string{
		"class/net/odd0/operstate":        " up\n",
		"class/net/odd0/flags":            "0x1002\n",
		"class/net/odd0/mtu":              "",                       // does not parse: 0
		"class/net/odd0/iflink":           "many\n",                 // does not parse: 0
		"class/net/odd0/ifindex":          "010\n",                  // octal, as procfs parses it
		"class/net/odd0/speed":            "-1\n",                   // unknown
		"class/net/odd0/ifalias":          strings.Repeat("a", 200), // cut at 128 bytes
		"class/net/odd0/tx_queue_len/sub": "1000\n",                 // a directory: skipped
		"class/net/odd0/carrier_target":   "1\n",
		"class/net/odd0/uevent":           "INTERFACE=odd0\n",
	})
	if err := os.Symlink("carrier_target", filepath.Join(odd, "class/net/odd0/carrier")); err != nil {
		t.Fatal(err) // a symbolic link: skipped
	}
	trees := []struct{ name, sysPath string }{{"fixture", "../testdata/sys"}, {"odd", odd}}
	if _, err := os.Stat("/sys/class/net"); err == nil {
		trees = append(trees, struct{ name, sysPath string }{"host", "/sys"})
	}
	for _, tree := range trees {
		t.Run(tree.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.SysPath = tree.sysPath
			c := build(t, "netclass", cfg).(*netclassCollector)
			devices, err := c.fs.NetClassDevices()
			if err != nil {
				t.Fatal(err)
			}
			for _, device := range devices {
				want, err := c.fs.NetClassByIface(device)
				if err != nil {
					t.Fatalf("procfs %s: %v", device, err)
				}
				got := netclassIface{values: make([]netclassValue, len(c.properties))}
				if err := c.readIface(device, &got); err != nil {
					t.Fatalf("readIface %s: %v", device, err)
				}
				compareNetclassIface(t, c, want, &got)
			}
		})
	}
}

func compareNetclassIface(t *testing.T, c *netclassCollector, want *sysfs.NetClassIface, got *netclassIface) {
	t.Helper()
	for _, s := range []struct{ attr, want, got string }{
		{"name", want.Name, got.name},
		{"address", want.Address, got.address},
		{"broadcast", want.Broadcast, got.broadcast},
		{"duplex", want.Duplex, got.duplex},
		{"operstate", want.OperState, got.operState},
		{"ifalias", want.IfAlias, got.ifAlias},
	} {
		if s.got != s.want {
			t.Errorf("%s %s = %q, procfs %q", want.Name, s.attr, s.got, s.want)
		}
	}
	procfsValue := map[string]*int64{
		"addr_assign_type":   want.AddrAssignType,
		"carrier":            want.Carrier,
		"carrier_changes":    want.CarrierChanges,
		"carrier_up_count":   want.CarrierUpCount,
		"carrier_down_count": want.CarrierDownCount,
		"dev_id":             want.DevID,
		"dormant":            want.Dormant,
		"flags":              want.Flags,
		"ifindex":            want.IfIndex,
		"iflink":             want.IfLink,
		"link_mode":          want.LinkMode,
		"mtu":                want.MTU,
		"name_assign_type":   want.NameAssignType,
		"netdev_group":       want.NetDevGroup,
		"tx_queue_len":       want.TxQueueLen,
		"type":               want.Type,
	}
	if len(procfsValue) != len(c.properties) {
		t.Fatalf("%d properties, %d compared", len(c.properties), len(procfsValue))
	}
	check := func(attr string, w *int64, g netclassValue) {
		switch {
		case w == nil && g.ok:
			t.Errorf("%s %s = %d, procfs has none", want.Name, attr, g.v)
		case w != nil && !g.ok:
			t.Errorf("%s %s missing, procfs %d", want.Name, attr, *w)
		case w != nil && *w != g.v:
			t.Errorf("%s %s = %d, procfs %d", want.Name, attr, g.v, *w)
		}
	}
	for i, p := range c.properties {
		w, ok := procfsValue[p.attr]
		if !ok {
			t.Fatalf("no procfs field for %s", p.attr)
		}
		check(p.attr, w, got.values[i])
	}
	check("speed", want.Speed, got.speed)
}

// Names and aliases that are not UTF-8 must not panic the scrape.
func TestNetClassInvalidUTF8(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	alias := strings.Repeat("é", 63) + "\xc3" // cut inside a character
	writeFixtureFiles(t, cfg.SysPath, map[string]string{
		"class/net/ok0/ifalias":      alias + "\n",
		"class/net/ok0/operstate":    "up\n",
		"class/net/bad\xff0/mtu":     "1500\n",
		"class/net/bad\xff0/ifindex": "3\n",
	})
	ms, err := drainCollector(build(t, "netclass", cfg))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if strings.Contains(m.Desc().String(), "bad") {
			t.Errorf("invalid device name reported: %v", m.Desc())
		}
	}
	if len(ms) == 0 {
		t.Error("the valid device was not reported")
	}
}
