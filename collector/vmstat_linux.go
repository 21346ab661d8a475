package collector

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

func init() {
	register("vmstat", true, newVMStatCollector)
}

// vmstatCollector sends the /proc/vmstat fields that match a regexp, one
// untyped metric each, as node_exporter does: the file mixes counters and
// gauges and does not say which is which.
type vmstatCollector struct {
	path   string
	fields *regexp.Regexp
}

func newVMStatCollector(cfg Config) (Collector, error) {
	fields, err := regexp.Compile(cfg.VMStat.Fields)
	if err != nil {
		return nil, fmt.Errorf("vmstat fields %q: %w", cfg.VMStat.Fields, err)
	}
	return &vmstatCollector{path: cfg.procFilePath("vmstat"), fields: fields}, nil
}

// Update reads /proc/vmstat, lines of "name value". procfs has no parser for
// it. As in node_exporter, every value must parse, even those not sent.
func (c *vmstatCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	data, err := readFile(c.path)
	if err != nil {
		return fmt.Errorf("read /proc/vmstat: %w", err)
	}
	var metrics []prometheus.Metric
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; scanner.Scan(); line++ {
		parts := strings.Fields(scanner.Text())
		if len(parts) != 2 {
			return fmt.Errorf("parse /proc/vmstat line %d: want name and value, got %q", line, scanner.Text())
		}
		name := parts[0]
		value, err := strconv.ParseFloat(parts[1], 64)
		if err != nil {
			return fmt.Errorf("parse /proc/vmstat line %d: %w", line, err)
		}
		if !c.fields.MatchString(name) {
			continue
		}
		desc := prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "vmstat", name),
			fmt.Sprintf("/proc/vmstat information field %s.", name),
			nil, nil,
		)
		m, err := prometheus.NewConstMetric(desc, prometheus.UntypedValue, value)
		if err != nil {
			return fmt.Errorf("/proc/vmstat field %q: %w", name, err)
		}
		metrics = append(metrics, m)
	}
	if err := scanner.Err(); err != nil {
		return fmt.Errorf("read /proc/vmstat: %w", err)
	}
	for _, m := range metrics {
		ch <- m
	}
	return nil
}
