package collector

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

func init() {
	register("stat", true, newStatCollector)
}

// statCollector sends the kernel-wide counters of /proc/stat. node_exporter's
// per-vector softirq counts (--collector.stat.softirq) are off by default
// there and not offered here.
type statCollector struct {
	fs                         procfs.FS
	intr, ctxt, forks, btime   typedDesc
	procsRunning, procsBlocked typedDesc
}

func newStatCollector(cfg Config) (Collector, error) {
	fs, err := procfs.NewFS(cfg.ProcPath)
	if err != nil {
		return nil, fmt.Errorf("open procfs: %w", err)
	}
	desc := func(name, help string, valueType prometheus.ValueType) typedDesc {
		return typedDesc{prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, nil, nil), valueType}
	}
	return &statCollector{
		fs:           fs,
		intr:         desc("intr_total", "Total number of interrupts serviced.", prometheus.CounterValue),
		ctxt:         desc("context_switches_total", "Total number of context switches.", prometheus.CounterValue),
		forks:        desc("forks_total", "Total number of forks.", prometheus.CounterValue),
		btime:        desc("boot_time_seconds", "Node boot time, in unixtime.", prometheus.GaugeValue),
		procsRunning: desc("procs_running", "Number of processes in runnable state.", prometheus.GaugeValue),
		procsBlocked: desc("procs_blocked", "Number of processes blocked waiting for I/O to complete.", prometheus.GaugeValue),
	}, nil
}

func (c *statCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	stat, err := c.fs.Stat()
	if err != nil {
		return fmt.Errorf("read /proc/stat: %w", err)
	}
	ch <- c.intr.mustNewConstMetric(float64(stat.IRQTotal))
	ch <- c.ctxt.mustNewConstMetric(float64(stat.ContextSwitches))
	ch <- c.forks.mustNewConstMetric(float64(stat.ProcessCreated))
	ch <- c.btime.mustNewConstMetric(float64(stat.BootTime))
	ch <- c.procsRunning.mustNewConstMetric(float64(stat.ProcessesRunning))
	ch <- c.procsBlocked.mustNewConstMetric(float64(stat.ProcessesBlocked))
	return nil
}
