package collector

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

func init() {
	register("loadavg", true, newLoadavgCollector)
}

type loadavgCollector struct {
	fs                   procfs.FS
	load1, load5, load15 typedDesc
}

func newLoadavgCollector(cfg Config) (Collector, error) {
	fs, err := procfs.NewFS(cfg.ProcPath)
	if err != nil {
		return nil, fmt.Errorf("open procfs: %w", err)
	}
	gauge := func(name, help string) typedDesc {
		return typedDesc{prometheus.NewDesc(Namespace+"_"+name, help, nil, nil), prometheus.GaugeValue}
	}
	return &loadavgCollector{
		fs:     fs,
		load1:  gauge("load1", "1m load average."),
		load5:  gauge("load5", "5m load average."),
		load15: gauge("load15", "15m load average."),
	}, nil
}

func (c *loadavgCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	load, err := c.fs.LoadAvg()
	if err != nil {
		return fmt.Errorf("read loadavg: %w", err)
	}
	ch <- c.load1.mustNewConstMetric(load.Load1)
	ch <- c.load5.mustNewConstMetric(load.Load5)
	ch <- c.load15.mustNewConstMetric(load.Load15)
	return nil
}
