package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs/sysfs"
)

func init() {
	register("nvme", true, newNVMeCollector)
}

// nvmeCollector reports NVMe controllers and their namespaces from
// /sys/class/nvme.
type nvmeCollector struct {
	fs     sysfs.FS
	logger *slog.Logger

	info, namespaceInfo, capacity, size, used, logicalBlockSize typedDesc
}

func newNVMeCollector(cfg Config) (Collector, error) {
	fs, err := sysfs.NewFS(cfg.SysPath)
	if err != nil {
		return nil, fmt.Errorf("open sysfs: %w", err)
	}
	gauge := func(name, help string, labels ...string) typedDesc {
		return typedDesc{prometheus.NewDesc(prometheus.BuildFQName(Namespace, "nvme", name), help, labels, nil), prometheus.GaugeValue}
	}
	return &nvmeCollector{
		fs:     fs,
		logger: cfg.Logger,
		info: gauge("info", "Non-numeric data from /sys/class/nvme/<device>, value is always 1.",
			"device", "firmware_revision", "model", "serial", "state", "cntlid"),
		namespaceInfo: gauge("namespace_info", "Information about NVMe namespaces. Value is always 1", "device", "nsid", "ana_state"),
		capacity: gauge("namespace_capacity_bytes",
			"Capacity of the NVMe namespace in bytes. Computed as namespace_size * namespace_logical_block_size", "device", "nsid"),
		size: gauge("namespace_size_bytes",
			"Size of the NVMe namespace in bytes. Available in /sys/class/nvme/<device>/<namespace>/size", "device", "nsid"),
		used: gauge("namespace_used_bytes",
			"Used space of the NVMe namespace in bytes. Available in /sys/class/nvme/<device>/<namespace>/nuse", "device", "nsid"),
		logicalBlockSize: gauge("namespace_logical_block_size_bytes",
			"Logical block size of the NVMe namespace in bytes. Usually 4Kb. Available in /sys/class/nvme/<device>/<namespace>/queue/logical_block_size",
			"device", "nsid"),
	}, nil
}

func (c *nvmeCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	devices, err := c.fs.NVMeClass()
	if errors.Is(err, fs.ErrNotExist) {
		c.logger.Debug("no NVMe devices", "err", err)
		return ErrNoData
	}
	if err != nil {
		return fmt.Errorf("read NVMe class: %w", err)
	}
	for _, dev := range devices {
		ch <- c.info.mustNewConstMetric(1, dev.Name, dev.FirmwareRevision, dev.Model, dev.Serial, dev.State, dev.ControllerID)
		for _, ns := range dev.Namespaces {
			ch <- c.namespaceInfo.mustNewConstMetric(1, dev.Name, ns.ID, ns.ANAState)
			// The kernel gives size in 512-byte sectors whatever the
			// logical block size; procfs turns it into bytes.
			ch <- c.capacity.mustNewConstMetric(float64(ns.CapacityBytes), dev.Name, ns.ID)
			ch <- c.size.mustNewConstMetric(float64(ns.SizeBytes), dev.Name, ns.ID)
			// nuse counts logical blocks. Kernels before 6.8 have no nuse:
			// the series is left out rather than reported as 0.
			usedBlocks, err := ns.UsedBlocks()
			if err != nil {
				return fmt.Errorf("read used blocks of %s: %w", ns.Name, err)
			}
			if usedBlocks != nil {
				ch <- c.used.mustNewConstMetric(float64(*usedBlocks*ns.LogicalBlockSize), dev.Name, ns.ID)
			}
			ch <- c.logicalBlockSize.mustNewConstMetric(float64(ns.LogicalBlockSize), dev.Name, ns.ID)
		}
	}
	return nil
}
