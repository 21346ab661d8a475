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
	register("kernel_hung", true, newKernelHungCollector)
}

type kernelHungCollector struct {
	fs     procfs.FS
	logger *slog.Logger
	tasks  typedDesc
}

func newKernelHungCollector(cfg Config) (Collector, error) {
	pfs, err := procfs.NewFS(cfg.ProcPath)
	if err != nil {
		return nil, fmt.Errorf("open procfs: %w", err)
	}
	return &kernelHungCollector{
		fs:     pfs,
		logger: cfg.Logger,
		tasks: typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "kernel_hung", "tasks_total"),
			"Total number of tasks that have been detected as hung since the system booted.",
			nil, nil,
		), prometheus.CounterValue},
	}, nil
}

func (c *kernelHungCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	hung, err := c.fs.KernelHung()
	if errors.Is(err, fs.ErrNotExist) {
		// Only recent kernels built with CONFIG_DETECT_HUNG_TASK count
		// hung tasks; elsewhere there is nothing to report.
		c.logger.Debug("no hung_task_detect_count", "err", err)
		return ErrNoData
	}
	if err != nil {
		return fmt.Errorf("read /proc/sys/kernel/hung_task_detect_count: %w", err)
	}
	ch <- c.tasks.mustNewConstMetric(float64(*hung.HungTaskDetectCount))
	return nil
}
