package collector

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestNetdev(t *testing.T) {
	compareGolden(t, build(t, "netdev", fixtureConfig()), "testdata/netdev.prom")
}

func TestNetdevDeviceFilter(t *testing.T) {
	for _, tc := range []struct {
		name             string
		include, exclude string
		want             string
	}{{
		name:    "include",
		include: "^eth",
		want: `# HELP node_network_receive_bytes_total Network device statistic receive_bytes.
# TYPE node_network_receive_bytes_total counter
node_network_receive_bytes_total{device="eth0"} 98127364512
# HELP node_network_receive_nohandler_total Network device statistic receive_nohandler.
# TYPE node_network_receive_nohandler_total counter
node_network_receive_nohandler_total{device="eth0"} 17
`,
	}, {
		name:    "exclude",
		exclude: "^(lo|eth0|wg.*)$",
		want: `# HELP node_network_receive_bytes_total Network device statistic receive_bytes.
# TYPE node_network_receive_bytes_total counter
node_network_receive_bytes_total{device="docker0"} 0
node_network_receive_bytes_total{device="veth1a2b3c4"} 81234
# HELP node_network_receive_nohandler_total Network device statistic receive_nohandler.
# TYPE node_network_receive_nohandler_total counter
node_network_receive_nohandler_total{device="docker0"} 0
`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.NetDev.DeviceInclude, cfg.NetDev.DeviceExclude = tc.include, tc.exclude
			c := build(t, "netdev", cfg)
			if err := testutil.CollectAndCompare(adapter{t: t, c: c}, strings.NewReader(tc.want),
				"node_network_receive_bytes_total", "node_network_receive_nohandler_total"); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestNetdevBadFilter(t *testing.T) {
	for name, opts := range map[string]NetDevOptions{
		"include and exclude": {DeviceInclude: "^eth", DeviceExclude: "^lo$"},
		"invalid regexp":      {DeviceExclude: "^(lo"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.NetDev = opts
			if _, err := factories["netdev"].build(cfg.withDefaults()); err == nil {
				t.Fatal("built with a bad device filter")
			}
		})
	}
}

// The addresses come from netlink, so the test replaces the lookup.
func TestNetdevAddressInfo(t *testing.T) {
	cfg := fixtureConfig()
	cfg.NetDev.AddressInfo = true
	cfg.NetDev.DeviceExclude = "^veth"
	c := build(t, "netdev", cfg).(*netdevCollector)
	cidr := func(s string) net.Addr {
		ip, ipNet, err := net.ParseCIDR(s)
		if err != nil {
			t.Fatal(err)
		}
		ipNet.IP = ip
		return ipNet
	}
	c.interfaceAddrs = func() ([]interfaceAddrs, error) {
		return []interfaceAddrs{
			{name: "lo", addrs: []net.Addr{cidr("127.0.0.1/8"), cidr("::1/128")}},
			{name: "eth0", addrs: []net.Addr{
				cidr("192.0.2.10/24"), cidr("2001:db8::10/64"), cidr("fe80::fc:ff:fe00:1/64"),
				&net.IPAddr{IP: net.ParseIP("192.0.2.11")}, // no prefix: skipped
			}},
			{name: "veth1a2b3c4", addrs: []net.Addr{cidr("169.254.7.1/16")}},
			{name: "wg0"},
		}, nil
	}
	want := `# HELP node_network_address_info node network address by device
# TYPE node_network_address_info gauge
node_network_address_info{address="127.0.0.1",device="lo",netmask="8",scope="link-local"} 1
node_network_address_info{address="192.0.2.10",device="eth0",netmask="24",scope="global"} 1
node_network_address_info{address="2001:db8::10",device="eth0",netmask="64",scope="global"} 1
node_network_address_info{address="::1",device="lo",netmask="128",scope="link-local"} 1
node_network_address_info{address="fe80::fc:ff:fe00:1",device="eth0",netmask="64",scope="link-local"} 1
`
	if err := testutil.CollectAndCompare(adapter{t: t, c: c}, strings.NewReader(want), "node_network_address_info"); err != nil {
		t.Error(err)
	}

	c.interfaceAddrs = func() ([]interfaceAddrs, error) { return nil, errors.New("netlink: permission denied") }
	if _, err := drainCollector(c); err == nil {
		t.Error("Update succeeded although the interfaces could not be listed")
	}
}

func TestNetdevAddressScope(t *testing.T) {
	for ip, want := range map[string]string{
		"127.0.0.1":   "link-local",
		"169.254.1.1": "link-local",
		"fe80::1":     "link-local",
		"ff02::1":     "link-local",
		"ff01::1":     "interface-local",
		"10.1.2.3":    "global",
		"fd00::2":     "global",
		"0.0.0.0":     "",
		"224.0.0.251": "link-local",
		"239.1.1.1":   "",
	} {
		if got := addressScope(net.ParseIP(ip)); got != want {
			t.Errorf("addressScope(%s) = %q, want %q", ip, got, want)
		}
	}
}

// Linux accepts interface names that are not UTF-8, which no label value may be.
func TestNetdevNameNotUTF8(t *testing.T) {
	cfg := fixtureConfig()
	cfg.ProcPath, cfg.SysPath = t.TempDir(), t.TempDir()
	writeFixtureFiles(t, cfg.ProcPath, map[string]string{"net/dev": "Inter-|   Receive                                                |  Transmit\n" +
		" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n" +
		"eth\xff0: 9812736 9873312   12  344    3     7          0      1842 912873461 6231987    1   27    0     5       2          0\n" +
		"    lo: 2834114   21837    0    0    0     0          0         0  2834114   21837    0    0    0     0       0          0\n"})
	want := `# HELP node_network_receive_bytes_total Network device statistic receive_bytes.
# TYPE node_network_receive_bytes_total counter
node_network_receive_bytes_total{device="lo"} 2834114
`
	if err := testutil.CollectAndCompare(adapter{t: t, c: build(t, "netdev", cfg)}, strings.NewReader(want), "node_network_receive_bytes_total"); err != nil {
		t.Error(err)
	}
}

func TestNetdevMissingFile(t *testing.T) {
	cfg := fixtureConfig()
	cfg.ProcPath = t.TempDir()
	if _, err := drainCollector(build(t, "netdev", cfg)); err == nil {
		t.Fatal("Update succeeded without /proc/net/dev")
	}
}

func TestNetdevMalformed(t *testing.T) {
	const header = "Inter-|   Receive                                                |  Transmit\n" +
		" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
	const eth0 = "  eth0: 9812736 9873312   12  344    3     7          0      1842 912873461 6231987    1   27    0     5       2          0\n"
	for _, tc := range []struct {
		name, dev, nohandler string
	}{
		{"short line", header + "  eth0: 9812736 9873312   12  344\n", "0\n"},
		{"not a number", header + strings.Replace(eth0, "344", "3x4", 1), "0\n"},
		{"no colon", header + strings.Replace(eth0, ":", " ", 1), "0\n"},
		{"nohandler not a number", header + eth0, "none\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.ProcPath, cfg.SysPath = t.TempDir(), t.TempDir()
			writeFixtureFiles(t, cfg.ProcPath, map[string]string{"net/dev": tc.dev})
			writeFixtureFiles(t, cfg.SysPath, map[string]string{"class/net/eth0/statistics/rx_nohandler": tc.nohandler})
			if _, err := drainCollector(build(t, "netdev", cfg)); err == nil {
				t.Fatal("Update succeeded")
			}
		})
	}
}
