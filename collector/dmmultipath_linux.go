package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs/blockdevice"
)

func init() {
	register("dmmultipath", true, newDMMultipathCollector)
}

// dmMultipathCollector reports device-mapper multipath devices, those of
// /sys/block/dm-* whose dm/uuid starts with "mpath-", and the state of
// their paths.
type dmMultipathCollector struct {
	fs     blockdevice.FS
	logger *slog.Logger

	info, active, size, paths, pathsActive, pathsFailed, pathState typedDesc
}

func newDMMultipathCollector(cfg Config) (Collector, error) {
	fs, err := blockdevice.NewFS(cfg.ProcPath, cfg.SysPath)
	if err != nil {
		return nil, fmt.Errorf("open procfs and sysfs: %w", err)
	}
	gauge := func(name, help string, labels ...string) typedDesc {
		return typedDesc{prometheus.NewDesc(prometheus.BuildFQName(Namespace, "dmmultipath", name), help, labels, nil), prometheus.GaugeValue}
	}
	return &dmMultipathCollector{
		fs:          fs,
		logger:      cfg.Logger,
		info:        gauge("device_info", "Non-numeric information about a DM-multipath device.", "device", "sysfs_name", "uuid"),
		active:      gauge("device_active", "Whether the multipath device-mapper device is active (1) or suspended (0).", "device", "sysfs_name"),
		size:        gauge("device_size_bytes", "Size of the multipath device in bytes, read from /sys/block/<dm>/size.", "device", "sysfs_name"),
		paths:       gauge("device_paths", "Number of paths for a multipath device.", "device", "sysfs_name"),
		pathsActive: gauge("device_paths_active", "Number of paths in active state (SCSI running or NVMe live) for a multipath device.", "device", "sysfs_name"),
		pathsFailed: gauge("device_paths_failed", "Number of paths not in active state for a multipath device.", "device", "sysfs_name"),
		pathState:   gauge("path_state", "Reports the underlying device state for a multipath path, as read from /sys/block/<dev>/device/state.", "device", "path", "state"),
	}, nil
}

// dmMultipathPathUsable tells whether a path's device state is a healthy
// one: "running" for SCSI devices, "live" for NVMe.
func dmMultipathPathUsable(state string) bool {
	return state == "running" || state == "live"
}

func (c *dmMultipathCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	devices, err := c.fs.DMMultipathDevices()
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		c.logger.Debug("cannot read DM-multipath devices", "err", err)
		return ErrNoData
	}
	if err != nil {
		return fmt.Errorf("read DM-multipath devices: %w", err)
	}
	// No multipath device is not an error: node_exporter sends nothing then.
	for _, dev := range devices {
		ch <- c.info.mustNewConstMetric(1, dev.Name, dev.SysfsName, dev.UUID)
		active := 1.0
		if dev.Suspended {
			active = 0
		}
		ch <- c.active.mustNewConstMetric(active, dev.Name, dev.SysfsName)
		ch <- c.size.mustNewConstMetric(float64(dev.SizeBytes), dev.Name, dev.SysfsName)

		var usable, failed float64
		for _, p := range dev.Paths {
			if dmMultipathPathUsable(p.State) {
				usable++
			} else {
				failed++
			}
			ch <- c.pathState.mustNewConstMetric(1, dev.Name, p.Device, p.State)
		}
		ch <- c.paths.mustNewConstMetric(float64(len(dev.Paths)), dev.Name, dev.SysfsName)
		ch <- c.pathsActive.mustNewConstMetric(usable, dev.Name, dev.SysfsName)
		ch <- c.pathsFailed.mustNewConstMetric(failed, dev.Name, dev.SysfsName)
	}
	return nil
}
