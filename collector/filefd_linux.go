package collector

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

func init() {
	register("filefd", true, newFileFDCollector)
}

type fileFDCollector struct {
	path               string
	allocated, maximum typedDesc
}

func newFileFDCollector(cfg Config) (Collector, error) {
	gauge := func(name string) typedDesc {
		return typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "filefd", name),
			fmt.Sprintf("File descriptor statistics: %s.", name),
			nil, nil,
		), prometheus.GaugeValue}
	}
	return &fileFDCollector{
		path:      cfg.procFilePath("sys/fs/file-nr"),
		allocated: gauge("allocated"),
		maximum:   gauge("maximum"),
	}, nil
}

func (c *fileFDCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	data, err := readFile(c.path)
	if err != nil {
		return fmt.Errorf("read file-nr: %w", err)
	}
	// The file holds one line: allocated handles, free allocated handles
	// (always 0 since Linux 2.6) and the maximum (fs.file-max).
	fields := strings.Fields(string(data))
	if len(fields) < 3 {
		return fmt.Errorf("parse %s: want 3 fields, got %q", c.path, data)
	}
	allocated, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return fmt.Errorf("parse %s: allocated: %w", c.path, err)
	}
	maximum, err := strconv.ParseFloat(fields[2], 64)
	if err != nil {
		return fmt.Errorf("parse %s: maximum: %w", c.path, err)
	}
	ch <- c.allocated.mustNewConstMetric(allocated)
	ch <- c.maximum.mustNewConstMetric(maximum)
	return nil
}
