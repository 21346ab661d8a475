package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs/sysfs"
	"golang.org/x/sys/unix"
)

func init() {
	register("netclass", true, newNetClassCollector)
}

// netclassCollector reports the attributes of each network interface in
// /sys/class/net, as node_exporter does without --collector.netclass.netlink.
//
// It lists the interfaces with procfs but reads their attributes itself:
// procfs's NetClassByIface reads every file of the interface's directory
// (some thirty, of which twenty-two are reported) through os.Open,
// which costs up to eight system calls a file, and was most of the CPU of a
// scrape. The values are those procfs gives: see readIface.
type netclassCollector struct {
	fs                 sysfs.FS
	netPath            string // <sysfs>/class/net
	ignored            *regexp.Regexp
	ignoreInvalidSpeed bool
	logger             *slog.Logger

	up, info, speed typedDesc
	properties      []netclassProperty
	flags           int // index of the flags attribute in properties
}

// netclassProperty is a numeric attribute of /sys/class/net/<iface> under
// node_exporter's name.
type netclassProperty struct {
	desc typedDesc
	attr string // file name in /sys/class/net/<iface>
}

// netclassValue is a numeric attribute as read; ok is false where the
// kernel does not expose it.
type netclassValue struct {
	v  int64
	ok bool
}

// netclassIface is what is reported of one interface.
type netclassIface struct {
	name                                           string
	address, broadcast, duplex, operState, ifAlias string
	speed                                          netclassValue
	values                                         []netclassValue // as c.properties
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
	property := func(name string, valueType prometheus.ValueType, attr string) netclassProperty {
		return netclassProperty{desc(name, valueType), attr}
	}
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	c := &netclassCollector{
		fs:                 sysFS,
		netPath:            filepath.Join(cfg.SysPath, "class/net"),
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
			property("address_assign_type", gauge, "addr_assign_type"),
			property("carrier", gauge, "carrier"),
			property("carrier_changes_total", counter, "carrier_changes"),
			property("carrier_up_changes_total", counter, "carrier_up_count"),
			property("carrier_down_changes_total", counter, "carrier_down_count"),
			property("device_id", gauge, "dev_id"),
			property("dormant", gauge, "dormant"),
			property("flags", gauge, "flags"),
			property("iface_id", gauge, "ifindex"),
			property("iface_link", gauge, "iflink"),
			property("iface_link_mode", gauge, "link_mode"),
			property("mtu_bytes", gauge, "mtu"),
			property("name_assign_type", gauge, "name_assign_type"),
			property("net_dev_group", gauge, "netdev_group"),
			property("transmit_queue_length", gauge, "tx_queue_len"),
			property("protocol_type", gauge, "type"),
		},
	}
	c.flags = slices.IndexFunc(c.properties, func(p netclassProperty) bool { return p.attr == "flags" })
	return c, nil
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
	iface := netclassIface{values: make([]netclassValue, len(c.properties))}
	for _, device := range devices {
		if c.ignored.MatchString(device) {
			continue
		}
		if !utf8.ValidString(device) {
			// A label value must be UTF-8; node_exporter panics here.
			c.logger.Warn("network interface name is not valid UTF-8, skipped", "device", strconv.Quote(device))
			continue
		}
		err := c.readIface(device, &iface)
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
		c.send(ch, &iface)
	}
	return nil
}

// readIface reads the attributes of /sys/class/net/<device> into iface as
// procfs's NetClassByIface would: an error opening the directory is the
// error of the whole interface; an attribute that is missing, not a
// regular file, or that the kernel refuses to give (unreadable, EINVAL for
// the speed of a link that is down, EOPNOTSUPP, ENODATA) is left out; any
// other error fails the interface. A value is what a single read of up to
// 128 bytes gives, trimmed; a numeric one is parsed with its base prefix
// (flags are hexadecimal), and one that does not parse counts as 0.
// Unlike procfs, it reads only the attributes reported, so that one which
// is not reported can no longer fail the scrape.
func (c *netclassCollector) readIface(device string, iface *netclassIface) error {
	dir := filepath.Join(c.netPath, device)
	const flags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC
	dirfd, err := unix.Open(dir, flags, 0)
	for err == unix.EINTR {
		dirfd, err = unix.Open(dir, flags, 0)
	}
	if err != nil {
		return &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	defer func() { _ = unix.Close(dirfd) }() // read-only: nothing to lose

	iface.name = device
	var buf [sysfsValueSize]byte
	for _, a := range [...]struct {
		attr string
		dst  *string
	}{
		{"address", &iface.address},
		{"broadcast", &iface.broadcast},
		{"duplex", &iface.duplex},
		{"operstate", &iface.operState},
		{"ifalias", &iface.ifAlias},
	} {
		b, _, err := netclassRead(dirfd, a.attr, buf[:])
		if err != nil {
			return err
		}
		*a.dst = string(b)
	}
	if err := netclassReadInt(dirfd, "speed", buf[:], &iface.speed); err != nil {
		return err
	}
	for i, p := range c.properties {
		if err := netclassReadInt(dirfd, p.attr, buf[:], &iface.values[i]); err != nil {
			return err
		}
	}
	return nil
}

// netclassRead reads one attribute of the interface directory open as
// dirfd. ok is false, without an error, where procfs leaves the attribute
// out.
func netclassRead(dirfd int, attr string, buf []byte) (value []byte, ok bool, err error) {
	value, err = readSysfsAt(dirfd, attr, buf, unix.O_NOFOLLOW)
	switch {
	case err == nil:
		return value, true, nil
	case netclassAttrUnavailable(err):
		return nil, false, nil
	default:
		return nil, false, err
	}
}

// netclassReadInt reads a numeric attribute into v. As procfs's
// ValueParser.PInt64 does, it parses the value with its base prefix (flags
// are hexadecimal) and takes one that does not parse as 0.
func netclassReadInt(dirfd int, attr string, buf []byte, v *netclassValue) error {
	b, ok, err := netclassRead(dirfd, attr, buf)
	*v = netclassValue{ok: ok}
	if ok {
		v.v, _ = strconv.ParseInt(string(b), 0, 64)
	}
	return err
}

// netclassAttrUnavailable reports whether err, from reading an attribute,
// is one that procfs's NetClassByIface ignores: some kernels and drivers do
// not have an attribute or refuse to read it, such as the speed or duplex
// of a link that is down (EINVAL), and the attribute is then left out.
func netclassAttrUnavailable(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) ||
		errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENODATA) ||
		sysfsNotRegular(err)
}

func (c *netclassCollector) send(ch chan<- prometheus.Metric, iface *netclassIface) {
	up := 0.0
	if iface.operState == "up" {
		up = 1
	}
	var flags *int64
	if f := iface.values[c.flags]; f.ok {
		flags = &f.v
	}
	ch <- c.up.mustNewConstMetric(up, iface.name)
	// An alias cut at 128 bytes may end inside a character: a label value
	// must be UTF-8, where node_exporter panics.
	ch <- c.info.mustNewConstMetric(1, iface.name, iface.address, iface.broadcast, iface.duplex,
		iface.operState, netclassAdminState(flags), strings.ToValidUTF8(iface.ifAlias, "\uFFFD"))
	for i, p := range c.properties {
		if v := iface.values[i]; v.ok {
			ch <- p.desc.mustNewConstMetric(float64(v.v), iface.name)
		}
	}
	// Drivers that cannot tell the speed report -1, which node_exporter
	// passes on as -125000 bytes unless told to ignore it.
	if s := iface.speed; s.ok && (s.v >= 0 || !c.ignoreInvalidSpeed) {
		ch <- c.speed.mustNewConstMetric(float64(s.v*1000*1000/8), iface.name)
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
