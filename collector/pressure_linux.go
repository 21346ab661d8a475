package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

func init() {
	register("pressure", true, newPressureCollector)
}

// pressureResources are the files of /proc/pressure, in node_exporter's order.
var pressureResources = []string{"cpu", "io", "memory", "irq"}

type pressureCollector struct {
	// psi reads /proc/pressure/<resource>; tests replace it to produce
	// errors a fixture file cannot, such as EOPNOTSUPP.
	psi    func(resource string) (procfs.PSIStats, error)
	logger *slog.Logger

	cpuSome, ioSome, ioFull, memorySome, memoryFull, irqFull typedDesc
}

func newPressureCollector(cfg Config) (Collector, error) {
	procFS, err := procfs.NewFS(cfg.ProcPath)
	if err != nil {
		return nil, fmt.Errorf("open procfs: %w", err)
	}
	counter := func(name, help string) typedDesc {
		return typedDesc{prometheus.NewDesc(prometheus.BuildFQName(Namespace, "pressure", name), help, nil, nil), prometheus.CounterValue}
	}
	return &pressureCollector{
		psi:        procFS.PSIStatsForResource,
		logger:     cfg.Logger,
		cpuSome:    counter("cpu_waiting_seconds_total", "Total time in seconds that processes have waited for CPU time"),
		ioSome:     counter("io_waiting_seconds_total", "Total time in seconds that processes have waited due to IO congestion"),
		ioFull:     counter("io_stalled_seconds_total", "Total time in seconds no process could make progress due to IO congestion"),
		memorySome: counter("memory_waiting_seconds_total", "Total time in seconds that processes have waited for memory"),
		memoryFull: counter("memory_stalled_seconds_total", "Total time in seconds no process could make progress due to memory congestion"),
		irqFull:    counter("irq_stalled_seconds_total", "Total time in seconds no process could make progress due to IRQ congestion"),
	}, nil
}

// Update follows node_exporter: a missing resource file is skipped (kernels
// before 4.20 have none, before 6.1 no irq), PSI switched off (psi=0, which
// makes reads fail with EOPNOTSUPP) or a file without the expected lines is
// ErrNoData, and any other failure is an error.
func (c *pressureCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	found := 0
	for _, res := range pressureResources {
		stats, err := c.psi(res)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			c.logger.Debug("pressure information is unavailable, it needs Linux >= 4.20 (>= 6.1 for irq) with CONFIG_PSI", "resource", res)
			continue
		case errors.Is(err, syscall.ENOTSUP):
			c.logger.Debug("pressure information is disabled, add psi=1 to the kernel command line to enable it", "err", err)
			return ErrNoData
		case err != nil:
			return fmt.Errorf("read pressure/%s: %w", res, err)
		}
		// The "some" line has no meaning for irq, and cpu has a "full" line
		// only since Linux 5.13; node_exporter does not report it.
		if stats.Some == nil && res != "irq" {
			c.logger.Debug("pressure information has no 'some' line", "resource", res)
			return ErrNoData
		}
		if stats.Full == nil && res != "cpu" {
			c.logger.Debug("pressure information has no 'full' line", "resource", res)
			return ErrNoData
		}
		switch res {
		case "cpu":
			ch <- c.cpuSome.mustNewConstMetric(psiSeconds(stats.Some))
		case "io":
			ch <- c.ioSome.mustNewConstMetric(psiSeconds(stats.Some))
			ch <- c.ioFull.mustNewConstMetric(psiSeconds(stats.Full))
		case "memory":
			ch <- c.memorySome.mustNewConstMetric(psiSeconds(stats.Some))
			ch <- c.memoryFull.mustNewConstMetric(psiSeconds(stats.Full))
		case "irq":
			ch <- c.irqFull.mustNewConstMetric(psiSeconds(stats.Full))
		}
		found++
	}
	if found == 0 {
		c.logger.Debug("pressure information is unavailable, it needs Linux >= 4.20 with CONFIG_PSI")
		return ErrNoData
	}
	return nil
}

// psiSeconds converts a PSI total, kept by the kernel in microseconds. It
// divides twice by 1000, as node_exporter does, so that values agree with
// it to the last bit (x/1e6 sometimes rounds differently).
func psiSeconds(l *procfs.PSILine) float64 {
	return float64(l.Total) / 1000 / 1000
}
