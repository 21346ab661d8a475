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
	register("schedstat", true, newSchedstatCollector)
}

type schedstatCollector struct {
	fs                           procfs.FS
	logger                       *slog.Logger
	running, waiting, timeslices typedDesc
}

func newSchedstatCollector(cfg Config) (Collector, error) {
	pfs, err := procfs.NewFS(cfg.ProcPath)
	if err != nil {
		return nil, fmt.Errorf("open procfs: %w", err)
	}
	counter := func(name, help string) typedDesc {
		return typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "schedstat", name), help, []string{"cpu"}, nil,
		), prometheus.CounterValue}
	}
	return &schedstatCollector{
		fs:         pfs,
		logger:     cfg.Logger,
		running:    counter("running_seconds_total", "Number of seconds CPU spent running a process."),
		waiting:    counter("waiting_seconds_total", "Number of seconds spent by processing waiting for this CPU."),
		timeslices: counter("timeslices_total", "Number of timeslices executed by CPU."),
	}, nil
}

func (c *schedstatCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	stats, err := c.fs.Schedstat()
	if errors.Is(err, fs.ErrNotExist) {
		// Kernels built without CONFIG_SCHEDSTATS have no /proc/schedstat.
		c.logger.Debug("no /proc/schedstat", "err", err)
		return ErrNoData
	}
	if err != nil {
		return fmt.Errorf("read /proc/schedstat: %w", err)
	}
	for _, cpu := range stats.CPUs {
		ch <- c.running.mustNewConstMetric(float64(cpu.RunningNanoseconds)/1e9, cpu.CPUNum)
		ch <- c.waiting.mustNewConstMetric(float64(cpu.WaitingNanoseconds)/1e9, cpu.CPUNum)
		ch <- c.timeslices.mustNewConstMetric(float64(cpu.RunTimeslices), cpu.CPUNum)
	}
	return nil
}
