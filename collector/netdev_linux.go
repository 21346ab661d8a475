package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

func init() {
	register("netdev", true, newNetdevCollector)
}

// netdevCollector reports interface counters from /proc/net/dev.
//
// node_exporter reads them over rtnetlink by default. The counters of
// /proc/net/dev are the same kernel sums under the same legacy names
// (drop includes missed, frame includes length/over/crc errors, carrier
// includes aborted/window/heartbeat errors), so the families match; the one
// counter /proc/net/dev lacks, rx_nohandler, is read from
// /sys/class/net/<device>/statistics instead.
type netdevCollector struct {
	fs      procfs.FS
	sysPath string
	filter  deviceFilter
	logger  *slog.Logger

	stats     []netdevStat
	nohandler typedDesc

	addressInfo bool
	addressDesc typedDesc
	// interfaceAddrs lists the addresses of the host's interfaces; tests
	// replace it, as the addresses come from netlink, not from a file.
	interfaceAddrs func() ([]interfaceAddrs, error)
}

// netdevStat is one column of /proc/net/dev under node_exporter's name.
type netdevStat struct {
	desc  typedDesc
	value func(*procfs.NetDevLine) uint64
}

// interfaceAddrs is one network interface and its addresses.
type interfaceAddrs struct {
	name  string
	addrs []net.Addr
}

func newNetdevCollector(cfg Config) (Collector, error) {
	procFS, err := procfs.NewFS(cfg.ProcPath)
	if err != nil {
		return nil, fmt.Errorf("open procfs: %w", err)
	}
	filter, err := newDeviceFilter("netdev device", cfg.NetDev.DeviceInclude, cfg.NetDev.DeviceExclude)
	if err != nil {
		return nil, err
	}
	counter := func(key string) typedDesc {
		return typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "network", key+"_total"),
			fmt.Sprintf("Network device statistic %s.", key),
			[]string{"device"}, nil,
		), prometheus.CounterValue}
	}
	column := func(key string, value func(*procfs.NetDevLine) uint64) netdevStat {
		return netdevStat{counter(key), value}
	}
	return &netdevCollector{
		fs:      procFS,
		sysPath: cfg.SysPath,
		filter:  filter,
		logger:  cfg.Logger,
		stats: []netdevStat{
			column("receive_bytes", func(l *procfs.NetDevLine) uint64 { return l.RxBytes }),
			column("receive_packets", func(l *procfs.NetDevLine) uint64 { return l.RxPackets }),
			column("receive_errs", func(l *procfs.NetDevLine) uint64 { return l.RxErrors }),
			column("receive_drop", func(l *procfs.NetDevLine) uint64 { return l.RxDropped }),
			column("receive_fifo", func(l *procfs.NetDevLine) uint64 { return l.RxFIFO }),
			column("receive_frame", func(l *procfs.NetDevLine) uint64 { return l.RxFrame }),
			column("receive_compressed", func(l *procfs.NetDevLine) uint64 { return l.RxCompressed }),
			column("receive_multicast", func(l *procfs.NetDevLine) uint64 { return l.RxMulticast }),
			column("transmit_bytes", func(l *procfs.NetDevLine) uint64 { return l.TxBytes }),
			column("transmit_packets", func(l *procfs.NetDevLine) uint64 { return l.TxPackets }),
			column("transmit_errs", func(l *procfs.NetDevLine) uint64 { return l.TxErrors }),
			column("transmit_drop", func(l *procfs.NetDevLine) uint64 { return l.TxDropped }),
			column("transmit_fifo", func(l *procfs.NetDevLine) uint64 { return l.TxFIFO }),
			column("transmit_colls", func(l *procfs.NetDevLine) uint64 { return l.TxCollisions }),
			column("transmit_carrier", func(l *procfs.NetDevLine) uint64 { return l.TxCarrier }),
			column("transmit_compressed", func(l *procfs.NetDevLine) uint64 { return l.TxCompressed }),
		},
		nohandler:   counter("receive_nohandler"),
		addressInfo: cfg.NetDev.AddressInfo,
		addressDesc: typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "network_address", "info"),
			"node network address by device",
			[]string{"device", "address", "netmask", "scope"}, nil,
		), prometheus.GaugeValue},
		interfaceAddrs: hostInterfaceAddrs,
	}, nil
}

func (c *netdevCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	devices, err := c.readNetDev()
	if err != nil {
		return fmt.Errorf("read net/dev: %w", err)
	}
	for name, line := range devices {
		if c.skip(name) {
			continue
		}
		for _, s := range c.stats {
			ch <- s.desc.mustNewConstMetric(float64(s.value(&line)), name)
		}
		v, ok, err := c.readNohandler(name)
		if err != nil {
			return err
		}
		if ok {
			ch <- c.nohandler.mustNewConstMetric(float64(v), name)
		}
	}

	if !c.addressInfo {
		return nil
	}
	ifaces, err := c.interfaceAddrs()
	if err != nil {
		return fmt.Errorf("list network interfaces: %w", err)
	}
	for _, iface := range ifaces {
		if c.skip(iface.name) {
			continue
		}
		for _, addr := range iface.addrs {
			ip, ipNet, err := net.ParseCIDR(addr.String())
			if err != nil {
				continue // not an interface address with a prefix
			}
			ones, _ := ipNet.Mask.Size()
			ch <- c.addressDesc.mustNewConstMetric(1, iface.name, ip.String(), strconv.Itoa(ones), addressScope(ip))
		}
	}
	return nil
}

// skip reports whether the device is filtered out or has a name that cannot
// be a label value. Linux allows any bytes but '/', ':' and white space in
// an interface name; one that is not UTF-8 would make the metric
// constructors panic, so it is left out with a warning.
func (c *netdevCollector) skip(device string) bool {
	if c.filter.ignored(device) {
		c.logger.Debug("ignoring device", "device", device)
		return true
	}
	if !utf8.ValidString(device) {
		c.logger.Warn("ignoring device whose name is not UTF-8", "device", strconv.Quote(device))
		return true
	}
	return false
}

// readNetDev reads /proc/net/dev through procfs, whose parser indexes the
// columns of a line without checking how many there are: a short line
// (only possible with a damaged --path.procfs tree) must fail the scrape,
// not crash the exporter.
func (c *netdevCollector) readNetDev() (devices procfs.NetDev, err error) {
	defer func() {
		if r := recover(); r != nil {
			devices, err = nil, fmt.Errorf("malformed line: %v", r)
		}
	}()
	return c.fs.NetDev()
}

// readNohandler reads the count of packets dropped for want of a protocol
// handler. ok is false where sysfs has no such file: kernels before 4.6, or
// a sysfs that belongs to another network namespace than procfs.
func (c *netdevCollector) readNohandler(device string) (value uint64, ok bool, err error) {
	if device == "." || device == ".." || strings.ContainsRune(device, '/') {
		return 0, false, nil
	}
	path := filepath.Join(c.sysPath, "class/net", device, "statistics/rx_nohandler")
	data, err := readSysfsValue(path)
	if errors.Is(err, fs.ErrNotExist) {
		c.logger.Debug("no rx_nohandler counter", "device", device)
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err // names the path
	}
	value, err = strconv.ParseUint(data, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("parse %s: %w", path, err)
	}
	return value, true, nil
}

// hostInterfaceAddrs lists the interfaces of the exporter's network
// namespace. Like node_exporter, it skips an interface whose addresses
// cannot be read (it may have just gone away) rather than failing.
func hostInterfaceAddrs() ([]interfaceAddrs, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	res := make([]interfaceAddrs, 0, len(ifaces))
	for _, iface := range ifaces {
		addrs, err := iface.Addrs()
		if err != nil {
			continue
		}
		res = append(res, interfaceAddrs{name: iface.Name, addrs: addrs})
	}
	return res, nil
}

// addressScope names the scope of ip with node_exporter's label values.
func addressScope(ip net.IP) string {
	switch {
	case ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast():
		return "link-local"
	case ip.IsInterfaceLocalMulticast():
		return "interface-local"
	case ip.IsGlobalUnicast():
		return "global"
	}
	return ""
}
