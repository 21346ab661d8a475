package collector

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

func init() {
	register("arp", true, newARPCollector)
}

// arpCollector counts the IPv4 neighbour entries of each device.
//
// node_exporter asks rtnetlink by default (--collector.arp.netlink) and
// skips NUD_NOARP entries. /proc/net/arp lists the same table with those
// entries already left out (the kernel walks it with NEIGH_SEQ_SKIP_NOARP),
// so node_arp_entries is the same family either way. The file also lists
// proxy ARP entries, which a netlink neighbour dump leaves out; the kernel
// marks them, and only them, with ATF_PUBL, so they are skipped here.
type arpCollector struct {
	fs      procfs.FS
	filter  deviceFilter
	entries typedDesc
}

func newARPCollector(cfg Config) (Collector, error) {
	procFS, err := procfs.NewFS(cfg.ProcPath)
	if err != nil {
		return nil, fmt.Errorf("open procfs: %w", err)
	}
	filter, err := newDeviceFilter("arp device", cfg.ARP.DeviceInclude, cfg.ARP.DeviceExclude)
	if err != nil {
		return nil, err
	}
	return &arpCollector{
		fs:     procFS,
		filter: filter,
		entries: typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "arp", "entries"),
			"ARP entries by device",
			[]string{"device"}, nil,
		), prometheus.GaugeValue},
	}, nil
}

// Update fails when /proc/net/arp cannot be read, as node_exporter does:
// every kernel with IPv4 has it.
func (c *arpCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	entries, err := c.fs.GatherARPEntries()
	if err != nil {
		return fmt.Errorf("read net/arp: %w", err)
	}
	counts := map[string]int{}
	for _, e := range entries {
		if e.Flags&procfs.ATFPublish != 0 {
			continue
		}
		counts[e.Device]++
	}
	for device, n := range counts {
		if c.filter.ignored(device) {
			continue
		}
		ch <- c.entries.mustNewConstMetric(float64(n), device)
	}
	return nil
}
