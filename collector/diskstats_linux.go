package collector

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs/blockdevice"
)

func init() {
	register("diskstats", true, newDiskstatsCollector)
}

const (
	// diskSectorSize is the unit of the sector counts in /proc/diskstats:
	// always 512 bytes, whatever the device's block size
	// (Documentation/block/stat.rst).
	diskSectorSize = 512.0
	// diskSecondsPerTick converts the millisecond counters.
	diskSecondsPerTick = 1.0 / 1000.0
)

// Udev properties that label the disk metrics, see udevadm(8).
const (
	udevDMLVLayer              = "DM_LV_LAYER"
	udevDMLVName               = "DM_LV_NAME"
	udevDMName                 = "DM_NAME"
	udevDMUUID                 = "DM_UUID"
	udevDMVGName               = "DM_VG_NAME"
	udevIDATA                  = "ID_ATA"
	udevIDATARotationRateRPM   = "ID_ATA_ROTATION_RATE_RPM"
	udevIDATAWriteCache        = "ID_ATA_WRITE_CACHE"
	udevIDATAWriteCacheEnabled = "ID_ATA_WRITE_CACHE_ENABLED"
	udevIDFSType               = "ID_FS_TYPE"
	udevIDFSUsage              = "ID_FS_USAGE"
	udevIDFSUUID               = "ID_FS_UUID"
	udevIDFSVersion            = "ID_FS_VERSION"
	udevIDModel                = "ID_MODEL"
	udevIDPath                 = "ID_PATH"
	udevIDRevision             = "ID_REVISION"
	udevIDSerial               = "ID_SERIAL"
	udevIDSerialShort          = "ID_SERIAL_SHORT"
	udevIDWWN                  = "ID_WWN"
	udevSCSIIdentSerial        = "SCSI_IDENT_SERIAL"
)

// diskATAMetric is a numeric udev property of ATA disks exposed as a gauge.
type diskATAMetric struct {
	property string
	desc     typedDesc
}

// diskstatsCollector reports the I/O counters of block devices from
// /proc/diskstats, labelled with what udev knows about each device.
type diskstatsCollector struct {
	fs      blockdevice.FS
	devices deviceFilter
	// udevDataPath is empty when the udev database is not readable.
	udevDataPath string
	logger       *slog.Logger

	info, filesystemInfo, deviceMapperInfo typedDesc
	// stats follows the field order of /proc/diskstats after the device name.
	stats []typedDesc
	ata   []diskATAMetric
}

func newDiskstatsCollector(cfg Config) (Collector, error) {
	fs, err := blockdevice.NewFS(cfg.ProcPath, cfg.SysPath)
	if err != nil {
		return nil, fmt.Errorf("open procfs and sysfs: %w", err)
	}
	o := cfg.DiskStats
	// As in node_exporter, an include replaces the default exclude rather
	// than conflicting with it.
	if o.DeviceInclude != "" && o.DeviceExclude == DefaultDiskStatsExclude {
		o.DeviceExclude = ""
	}
	devices, err := newDeviceFilter("diskstats devices", o.DeviceInclude, o.DeviceExclude)
	if err != nil {
		return nil, err
	}

	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "disk", name), help, labels, nil)
	}
	counter := func(name, help string) typedDesc {
		return typedDesc{desc(name, help, "device"), prometheus.CounterValue}
	}
	gauge := func(name, help string, labels ...string) typedDesc {
		return typedDesc{desc(name, help, labels...), prometheus.GaugeValue}
	}
	c := &diskstatsCollector{
		fs:      fs,
		devices: devices,
		logger:  cfg.Logger,
		info: gauge("info", "Info of /sys/block/<block_device>.",
			"device", "major", "minor", "path", "wwn", "model", "serial", "revision", "rotational"),
		filesystemInfo: gauge("filesystem_info", "Info about disk filesystem.",
			"device", "type", "usage", "uuid", "version"),
		deviceMapperInfo: gauge("device_mapper_info", "Info about disk device mapper.",
			"device", "name", "uuid", "vg_name", "lv_name", "lv_layer"),
		stats: []typedDesc{
			counter("reads_completed_total", "The total number of reads completed successfully."),
			counter("reads_merged_total", "The total number of reads merged."),
			counter("read_bytes_total", "The total number of bytes read successfully."),
			counter("read_time_seconds_total", "The total number of seconds spent by all reads."),
			counter("writes_completed_total", "The total number of writes completed successfully."),
			counter("writes_merged_total", "The number of writes merged."),
			counter("written_bytes_total", "The total number of bytes written successfully."),
			counter("write_time_seconds_total", "This is the total number of seconds spent by all writes."),
			gauge("io_now", "The number of I/Os currently in progress.", "device"),
			counter("io_time_seconds_total", "Total seconds spent doing I/Os."),
			counter("io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os."),
			counter("discards_completed_total", "The total number of discards completed successfully."),
			counter("discards_merged_total", "The total number of discards merged."),
			counter("discarded_sectors_total", "The total number of sectors discarded successfully."),
			counter("discard_time_seconds_total", "This is the total number of seconds spent by all discards."),
			counter("flush_requests_total", "The total number of flush requests completed successfully"),
			counter("flush_requests_time_seconds_total", "This is the total number of seconds spent by all flush requests."),
		},
		ata: []diskATAMetric{
			{udevIDATAWriteCache, gauge("ata_write_cache", "ATA disk has a write cache.", "device")},
			{udevIDATAWriteCacheEnabled, gauge("ata_write_cache_enabled", "ATA disk has its write cache enabled.", "device")},
			{udevIDATARotationRateRPM, gauge("ata_rotation_rate_rpm", "ATA disk rotation rate in RPMs (0 for SSDs).", "device")},
		},
	}

	// Without a udev database (containers, systems without udev) the disks
	// are still reported, with empty labels, as node_exporter does.
	if st, err := os.Stat(cfg.UdevDataPath); err != nil || !st.IsDir() {
		cfg.Logger.Info("udev data directory not readable, disk labels from udev disabled", "path", cfg.UdevDataPath)
	} else {
		c.udevDataPath = cfg.UdevDataPath
	}
	return c, nil
}

func (c *diskstatsCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	disks, err := c.fs.ProcDiskstats()
	if err != nil {
		return fmt.Errorf("read /proc/diskstats: %w", err)
	}
	for _, d := range disks {
		dev := d.DeviceName
		if c.devices.ignored(dev) {
			continue
		}
		udev := c.udevProperties(d.MajorNumber, d.MinorNumber)

		// The serial printed on the disk label, else the short and then the
		// long form udev derives (the latter is all virtio disks have).
		serial := udev[udevSCSIIdentSerial]
		if serial == "" {
			serial = udev[udevIDSerialShort]
		}
		if serial == "" {
			serial = udev[udevIDSerial]
		}
		ch <- c.info.mustNewConstMetric(1, dev,
			strconv.FormatUint(uint64(d.MajorNumber), 10),
			strconv.FormatUint(uint64(d.MinorNumber), 10),
			udev[udevIDPath], udev[udevIDWWN], udev[udevIDModel], serial, udev[udevIDRevision],
			c.rotational(dev))

		values := []float64{
			float64(d.ReadIOs),
			float64(d.ReadMerges),
			float64(d.ReadSectors) * diskSectorSize,
			float64(d.ReadTicks) * diskSecondsPerTick,
			float64(d.WriteIOs),
			float64(d.WriteMerges),
			float64(d.WriteSectors) * diskSectorSize,
			float64(d.WriteTicks) * diskSecondsPerTick,
			float64(d.IOsInProgress),
			float64(d.IOsTotalTicks) * diskSecondsPerTick,
			float64(d.WeightedIOTicks) * diskSecondsPerTick,
			float64(d.DiscardIOs),
			float64(d.DiscardMerges),
			float64(d.DiscardSectors),
			float64(d.DiscardTicks) * diskSecondsPerTick,
			float64(d.FlushRequestsCompleted),
			float64(d.TimeSpentFlushing) * diskSecondsPerTick,
		}
		// Older kernels have fewer fields: no discards before 4.18, no
		// flushes before 5.5. IoStatsCount includes major, minor and name.
		for i, v := range values[:min(len(values), max(d.IoStatsCount-3, 0))] {
			ch <- c.stats[i].mustNewConstMetric(v, dev)
		}

		if fsType := udev[udevIDFSType]; fsType != "" {
			ch <- c.filesystemInfo.mustNewConstMetric(1, dev,
				fsType, udev[udevIDFSUsage], udev[udevIDFSUUID], udev[udevIDFSVersion])
		}
		if name := udev[udevDMName]; name != "" {
			ch <- c.deviceMapperInfo.mustNewConstMetric(1, dev,
				name, udev[udevDMUUID], udev[udevDMVGName], udev[udevDMLVName], udev[udevDMLVLayer])
		}
		if udev[udevIDATA] != "" {
			for _, a := range c.ata {
				s, ok := udev[a.property]
				if !ok {
					continue
				}
				v, err := strconv.ParseFloat(s, 64)
				if err != nil {
					c.logger.Error("failed to parse ATA udev property", "device", dev, "property", a.property, "err", err)
					continue
				}
				ch <- a.desc.mustNewConstMetric(v, dev)
			}
		}
	}
	return nil
}

// rotational reads /sys/block/<dev>/queue/rotational as the label value
// "1" or "0"; a device without one (device mapper, md) counts as "0".
func (c *diskstatsCollector) rotational(dev string) string {
	if rot, err := c.fs.SysBlockDeviceRotational(dev); err == nil && rot == 1 {
		return "1"
	}
	return "0"
}

// udevProperties reads the E: (property) lines of the udev database entry
// of a block device. A missing or unreadable entry gives no properties; it
// is logged at debug only, since many devices have none.
func (c *diskstatsCollector) udevProperties(major, minor uint32) map[string]string {
	if c.udevDataPath == "" {
		return nil
	}
	path := filepath.Join(c.udevDataPath, fmt.Sprintf("b%d:%d", major, minor))
	props, err := readUdevProperties(path)
	if err != nil {
		c.logger.Debug("failed to read udev properties", "path", path, "err", err)
	}
	return props
}

func readUdevProperties(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	props := map[string]string{}
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		line, ok := strings.CutPrefix(scanner.Text(), "E:")
		if !ok {
			continue
		}
		if name, value, ok := strings.Cut(line, "="); ok {
			props[name] = value
		}
	}
	if err := scanner.Err(); err != nil {
		return props, fmt.Errorf("read %s: %w", path, err)
	}
	return props, nil
}
