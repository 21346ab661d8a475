package collector

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestARP(t *testing.T) {
	compareGolden(t, build(t, "arp", fixtureConfig()), "testdata/arp.prom")
}

func TestARPDeviceFilter(t *testing.T) {
	for _, tc := range []struct {
		name             string
		include, exclude string
		want             string
	}{{
		name:    "include",
		include: "^eth",
		want:    `node_arp_entries{device="eth0"} 4`,
	}, {
		name:    "exclude",
		exclude: "^(eth0|bond0)$",
		want:    `node_arp_entries{device="docker0"} 2`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.ARP.DeviceInclude, cfg.ARP.DeviceExclude = tc.include, tc.exclude
			want := "# HELP node_arp_entries ARP entries by device\n# TYPE node_arp_entries gauge\n" + tc.want + "\n"
			if err := testutil.CollectAndCompare(adapter{t: t, c: build(t, "arp", cfg)}, strings.NewReader(want)); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestARPBadFilter(t *testing.T) {
	for name, opts := range map[string]ARPOptions{
		"include and exclude": {DeviceInclude: "^eth", DeviceExclude: "^lo$"},
		"invalid regexp":      {DeviceInclude: "^(eth"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.ARP = opts
			if _, err := newARPCollector(cfg.withDefaults()); err == nil {
				t.Error("built with a bad filter")
			}
		})
	}
}

func TestARPErrors(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"missing file": {},
		"malformed":    {"net/arp": "IP address       HW type     Flags       HW address            Mask     Device\n192.168.1.1 0x1 0x2 3c:a6:2f:4e:11:d0 eth0\n"},
		"bad address":  {"net/arp": "IP address       HW type     Flags       HW address            Mask     Device\n192.168.1.1      0x1         0x2         not-a-mac             *        eth0\n"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.ProcPath = t.TempDir()
			writeFixtureFiles(t, cfg.ProcPath, files)
			if _, err := drainCollector(build(t, "arp", cfg)); err == nil || errors.Is(err, ErrNoData) {
				t.Errorf("Update: %v, want an error", err)
			}
		})
	}
}
