package collector

import (
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
	descs  descCache
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
	type sample struct {
		desc  *prometheus.Desc
		value float64
	}
	samples := make([]sample, 0, 64)
	line := 0
	for text := range strings.Lines(string(data)) {
		line++
		var parts [2]string
		n := 0
		for f := range strings.FieldsSeq(text) {
			if n < len(parts) {
				parts[n] = f
			}
			n++
		}
		if n != 2 {
			return fmt.Errorf("parse /proc/vmstat line %d: want name and value, got %q", line, strings.TrimRight(text, "\r\n"))
		}
		name := parts[0]
		value, err := strconv.ParseFloat(parts[1], 64)
		if err != nil {
			return fmt.Errorf("parse /proc/vmstat line %d: %w", line, err)
		}
		desc, err := c.descs.get("", name, func() *prometheus.Desc {
			if !c.fields.MatchString(name) {
				return nil
			}
			return prometheus.NewDesc(
				prometheus.BuildFQName(Namespace, "vmstat", name),
				fmt.Sprintf("/proc/vmstat information field %s.", name),
				nil, nil,
			)
		})
		if err != nil {
			return fmt.Errorf("/proc/vmstat field %q: %w", name, err)
		}
		if desc != nil {
			samples = append(samples, sample{desc, value})
		}
	}
	for _, s := range samples {
		ch <- mustNewConstMetric(s.desc, prometheus.UntypedValue, s.value)
	}
	return nil
}
