package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
	"github.com/prometheus/procfs/sysfs"
)

func init() {
	register("mdadm", true, newMdadmCollector)
}

// mdadmStates are the values of node_md_state's state label, each with the
// activity state of /proc/mdstat (as procfs names it) that sets it to 1.
var mdadmStates = []struct{ label, activity string }{
	{"active", "active"},
	{"inactive", "inactive"},
	{"recovering", "recovering"},
	{"resync", "resyncing"},
	{"check", "checking"},
}

// mdadmCollector reports Linux software RAID arrays from /proc/mdstat and
// /sys/block/md*/md.
type mdadmCollector struct {
	procfs procfs.FS
	sysfs  sysfs.FS
	logger *slog.Logger

	state                                      []typedDesc // parallel to mdadmStates
	disks, disksRequired, blocks, blocksSynced typedDesc
	raidDisks, degraded                        typedDesc
}

func newMdadmCollector(cfg Config) (Collector, error) {
	proc, err := procfs.NewFS(cfg.ProcPath)
	if err != nil {
		return nil, fmt.Errorf("open procfs: %w", err)
	}
	sys, err := sysfs.NewFS(cfg.SysPath)
	if err != nil {
		return nil, fmt.Errorf("open sysfs: %w", err)
	}
	gauge := func(name, help string, constLabels prometheus.Labels, labels ...string) typedDesc {
		return typedDesc{prometheus.NewDesc(prometheus.BuildFQName(Namespace, "md", name), help, labels, constLabels), prometheus.GaugeValue}
	}
	c := &mdadmCollector{
		procfs:        proc,
		sysfs:         sys,
		logger:        cfg.Logger,
		disks:         gauge("disks", "Number of active/failed/spare disks of device.", nil, "device", "state"),
		disksRequired: gauge("disks_required", "Total number of disks of device.", nil, "device"),
		blocks:        gauge("blocks", "Total number of blocks on device.", nil, "device"),
		blocksSynced:  gauge("blocks_synced", "Number of blocks synced on device.", nil, "device"),
		raidDisks:     gauge("raid_disks", "Number of raid disks on device.", nil, "device"),
		degraded:      gauge("degraded", "Number of degraded disks on device.", nil, "device"),
	}
	for _, s := range mdadmStates {
		c.state = append(c.state, gauge("state", "Indicates the state of md-device.", prometheus.Labels{"state": s.label}, "device"))
	}
	return c, nil
}

func (c *mdadmCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	arrays, err := c.procfs.MDStat()
	if errors.Is(err, fs.ErrNotExist) {
		// The md driver is not loaded.
		c.logger.Debug("no /proc/mdstat", "err", err)
		return ErrNoData
	}
	if err != nil {
		return fmt.Errorf("read mdstat: %w", err)
	}
	for _, md := range arrays {
		ch <- c.disksRequired.mustNewConstMetric(float64(md.DisksTotal), md.Name)
		ch <- c.disks.mustNewConstMetric(float64(md.DisksActive), md.Name, "active")
		ch <- c.disks.mustNewConstMetric(float64(md.DisksFailed), md.Name, "failed")
		ch <- c.disks.mustNewConstMetric(float64(md.DisksSpare), md.Name, "spare")
		for i, s := range mdadmStates {
			v := 0.0
			if md.ActivityState == s.activity {
				v = 1
			}
			ch <- c.state[i].mustNewConstMetric(v, md.Name)
		}
		ch <- c.blocks.mustNewConstMetric(float64(md.BlocksTotal), md.Name)
		ch <- c.blocksSynced.mustNewConstMetric(float64(md.BlocksSynced), md.Name)
	}

	raids, err := c.sysfs.Mdraids()
	if errors.Is(err, fs.ErrNotExist) {
		// An array being assembled or stopped can lack some of its files;
		// node_exporter reports no data then, keeping what mdstat gave.
		c.logger.Debug("incomplete /sys/block/md*/md", "err", err)
		return ErrNoData
	}
	if err != nil {
		return fmt.Errorf("read /sys/block/md*/md: %w", err)
	}
	for _, md := range raids {
		// Containers (imsm, ddf) and arrays of unknown level have no disk count.
		if md.Disks != nil {
			ch <- c.raidDisks.mustNewConstMetric(float64(*md.Disks), md.Device)
		}
		ch <- c.degraded.mustNewConstMetric(float64(md.DegradedDisks), md.Device)
	}
	return nil
}
