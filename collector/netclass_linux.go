package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"regexp"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs/sysfs"
)

func init() {
	register("netclass", true, newNetClassCollector)
}

// netclassCollector reports the attributes of each network interface in
// /sys/class/net, as node_exporter does without --collector.netclass.netlink.
type netclassCollector struct {
	fs                 sysfs.FS
	ignored            *regexp.Regexp
	ignoreInvalidSpeed bool
	logger             *slog.Logger

	up, info, speed typedDesc
	properties      []netclassProperty
}

// netclassProperty is a numeric attribute of /sys/class/net/<iface> under
// node_exporter's name. value is nil where the kernel does not expose it.
type netclassProperty struct {
	desc  typedDesc
	value func(*sysfs.NetClassIface) *int64
}

func newNetClassCollector(cfg Config) (Collector, error) {
	sysFS, err := sysfs.NewFS(cfg.SysPath)
	if err != nil {
		return nil, fmt.Errorf("open sysfs: %w", err)
	}
	ignored, err := regexp.Compile(cfg.NetClass.IgnoredDevices)
	if err != nil {
		return nil, fmt.Errorf("netclass ignored devices %q: %w", cfg.NetClass.IgnoredDevices, err)
	}
	desc := func(name string, valueType prometheus.ValueType) typedDesc {
		return typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "network", name),
			"Network device property: "+name,
			[]string{"device"}, nil,
		), valueType}
	}
	property := func(name string, valueType prometheus.ValueType, value func(*sysfs.NetClassIface) *int64) netclassProperty {
		return netclassProperty{desc(name, valueType), value}
	}
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	return &netclassCollector{
		fs:                 sysFS,
		ignored:            ignored,
		ignoreInvalidSpeed: cfg.NetClass.IgnoreInvalidSpeed,
		logger:             cfg.Logger,
		up: typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "network", "up"),
			"Value is 1 if operstate is 'up', 0 otherwise.",
			[]string{"device"}, nil,
		), gauge},
		info: typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "network", "info"),
			"Non-numeric data from /sys/class/net/<iface>, value is always 1.",
			[]string{"device", "address", "broadcast", "duplex", "operstate", "adminstate", "ifalias"}, nil,
		), gauge},
		speed: desc("speed_bytes", gauge),
		properties: []netclassProperty{
			property("address_assign_type", gauge, func(i *sysfs.NetClassIface) *int64 { return i.AddrAssignType }),
			property("carrier", gauge, func(i *sysfs.NetClassIface) *int64 { return i.Carrier }),
			property("carrier_changes_total", counter, func(i *sysfs.NetClassIface) *int64 { return i.CarrierChanges }),
			property("carrier_up_changes_total", counter, func(i *sysfs.NetClassIface) *int64 { return i.CarrierUpCount }),
			property("carrier_down_changes_total", counter, func(i *sysfs.NetClassIface) *int64 { return i.CarrierDownCount }),
			property("device_id", gauge, func(i *sysfs.NetClassIface) *int64 { return i.DevID }),
			property("dormant", gauge, func(i *sysfs.NetClassIface) *int64 { return i.Dormant }),
			property("flags", gauge, func(i *sysfs.NetClassIface) *int64 { return i.Flags }),
			property("iface_id", gauge, func(i *sysfs.NetClassIface) *int64 { return i.IfIndex }),
			property("iface_link", gauge, func(i *sysfs.NetClassIface) *int64 { return i.IfLink }),
			property("iface_link_mode", gauge, func(i *sysfs.NetClassIface) *int64 { return i.LinkMode }),
			property("mtu_bytes", gauge, func(i *sysfs.NetClassIface) *int64 { return i.MTU }),
			property("name_assign_type", gauge, func(i *sysfs.NetClassIface) *int64 { return i.NameAssignType }),
			property("net_dev_group", gauge, func(i *sysfs.NetClassIface) *int64 { return i.NetDevGroup }),
			property("transmit_queue_length", gauge, func(i *sysfs.NetClassIface) *int64 { return i.TxQueueLen }),
			property("protocol_type", gauge, func(i *sysfs.NetClassIface) *int64 { return i.Type }),
		},
	}, nil
}

// Update reports ErrNoData, as node_exporter does, when /sys/class/net or an
// interface cannot be read for want of permission (in a sandbox) or when
// /sys/class/net is missing.
func (c *netclassCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	devices, err := c.fs.NetClassDevices()
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		c.logger.Debug("could not read netclass directory", "err", err)
		return ErrNoData
	}
	if err != nil {
		return fmt.Errorf("read class/net: %w", err)
	}
	for _, device := range devices {
		if c.ignored.MatchString(device) {
			continue
		}
		iface, err := c.fs.NetClassByIface(device)
		if errors.Is(err, fs.ErrNotExist) {
			// node_exporter gives up the whole scrape with ErrNoData
			// here; an interface removed since the listing is skipped.
			c.logger.Debug("network interface went away", "device", device, "err", err)
			continue
		}
		if errors.Is(err, fs.ErrPermission) {
			c.logger.Debug("could not read network interface", "device", device, "err", err)
			return ErrNoData
		}
		if err != nil {
			return fmt.Errorf("read class/net/%s: %w", device, err)
		}
		c.send(ch, iface)
	}
	return nil
}

func (c *netclassCollector) send(ch chan<- prometheus.Metric, iface *sysfs.NetClassIface) {
	up := 0.0
	if iface.OperState == "up" {
		up = 1
	}
	ch <- c.up.mustNewConstMetric(up, iface.Name)
	ch <- c.info.mustNewConstMetric(1, iface.Name, iface.Address, iface.Broadcast, iface.Duplex,
		iface.OperState, netclassAdminState(iface.Flags), iface.IfAlias)
	for _, p := range c.properties {
		if v := p.value(iface); v != nil {
			ch <- p.desc.mustNewConstMetric(float64(*v), iface.Name)
		}
	}
	// Drivers that cannot tell the speed report -1, which node_exporter
	// passes on as -125000 bytes unless told to ignore it.
	if s := iface.Speed; s != nil && (*s >= 0 || !c.ignoreInvalidSpeed) {
		ch <- c.speed.mustNewConstMetric(float64(*s*1000*1000/8), iface.Name)
	}
}

// netclassAdminState reads IFF_UP from the interface flags.
func netclassAdminState(flags *int64) string {
	switch {
	case flags == nil:
		return "unknown"
	case *flags&int64(net.FlagUp) != 0:
		return "up"
	default:
		return "down"
	}
}
