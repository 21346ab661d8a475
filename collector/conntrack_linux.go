package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

func init() {
	register("conntrack", true, newConntrackCollector)
}

// conntrackCollector reports the netfilter connection tracking table: its
// size and limit from the nf_conntrack sysctls, and the per-CPU statistics
// of /proc/net/stat/nf_conntrack summed over all CPUs.
type conntrackCollector struct {
	fs     procfs.FS
	logger *slog.Logger

	entries, limit typedDesc
	stats          []conntrackStat
}

// conntrackStat is one column of /proc/net/stat/nf_conntrack under
// node_exporter's name. node_exporter exposes these running totals as
// gauges; so does Warden, for its dashboards.
type conntrackStat struct {
	desc  typedDesc
	value func(procfs.ConntrackStatEntry) uint64
}

func newConntrackCollector(cfg Config) (Collector, error) {
	procFS, err := procfs.NewFS(cfg.ProcPath)
	if err != nil {
		return nil, fmt.Errorf("open procfs: %w", err)
	}
	gauge := func(name, help string) typedDesc {
		return typedDesc{prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, nil, nil), prometheus.GaugeValue}
	}
	stat := func(name, help string, value func(procfs.ConntrackStatEntry) uint64) conntrackStat {
		return conntrackStat{gauge("nf_conntrack_stat_"+name, help), value}
	}
	return &conntrackCollector{
		fs:      procFS,
		logger:  cfg.Logger,
		entries: gauge("nf_conntrack_entries", "Number of currently allocated flow entries for connection tracking."),
		limit:   gauge("nf_conntrack_entries_limit", "Maximum size of connection tracking table."),
		stats: []conntrackStat{
			stat("found", "Number of searched entries which were successful.",
				func(e procfs.ConntrackStatEntry) uint64 { return e.Found }),
			stat("invalid", "Number of packets seen which can not be tracked.",
				func(e procfs.ConntrackStatEntry) uint64 { return e.Invalid }),
			stat("ignore", "Number of packets seen which are already connected to a conntrack entry.",
				func(e procfs.ConntrackStatEntry) uint64 { return e.Ignore }),
			stat("insert", "Number of entries inserted into the list.",
				func(e procfs.ConntrackStatEntry) uint64 { return e.Insert }),
			stat("insert_failed", "Number of entries for which list insertion was attempted but failed.",
				func(e procfs.ConntrackStatEntry) uint64 { return e.InsertFailed }),
			stat("drop", "Number of packets dropped due to conntrack failure.",
				func(e procfs.ConntrackStatEntry) uint64 { return e.Drop }),
			stat("early_drop", "Number of dropped conntrack entries to make room for new ones, if maximum table size was reached.",
				func(e procfs.ConntrackStatEntry) uint64 { return e.EarlyDrop }),
			stat("search_restart", "Number of conntrack table lookups which had to be restarted due to hashtable resizes.",
				func(e procfs.ConntrackStatEntry) uint64 { return e.SearchRestart }),
		},
	}, nil
}

// Update reports ErrNoData when a file is missing (nf_conntrack not loaded).
// Like node_exporter, it sends what it read before the missing file.
func (c *conntrackCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	for _, v := range []struct {
		sysctl string
		desc   typedDesc
	}{
		{"net.netfilter.nf_conntrack_count", c.entries},
		{"net.netfilter.nf_conntrack_max", c.limit},
	} {
		value, err := c.readSysctl(v.sysctl)
		if err != nil {
			return c.handleErr(err)
		}
		ch <- v.desc.mustNewConstMetric(float64(value))
	}

	perCPU, err := c.fs.ConntrackStat()
	if err != nil {
		return c.handleErr(fmt.Errorf("read net/stat/nf_conntrack: %w", err))
	}
	for _, s := range c.stats {
		var sum uint64
		for _, e := range perCPU {
			sum += s.value(e)
		}
		ch <- s.desc.mustNewConstMetric(float64(sum))
	}
	return nil
}

func (c *conntrackCollector) readSysctl(name string) (int, error) {
	values, err := c.fs.SysctlInts(name)
	if err != nil {
		return 0, fmt.Errorf("read sysctl %s: %w", name, err)
	}
	if len(values) != 1 {
		return 0, fmt.Errorf("read sysctl %s: %d values, want 1", name, len(values))
	}
	return values[0], nil
}

func (c *conntrackCollector) handleErr(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		c.logger.Debug("conntrack probably not loaded", "err", err)
		return ErrNoData
	}
	return err
}
