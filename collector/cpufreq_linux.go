package collector

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs/sysfs"
)

func init() {
	register("cpufreq", true, newCPUFreqCollector)
}

// cpuFreqValue is one frequency of a CPU's cpufreq directory: the
// descriptor it is sent with and where procfs puts it (nil when the kernel
// does not offer it).
type cpuFreqValue struct {
	desc  typedDesc
	field func(*sysfs.SystemCPUCpufreqStats) *uint64
}

// cpuFreqCollector reports the frequencies and governors of
// /sys/devices/system/cpu/cpu*/cpufreq.
type cpuFreqCollector struct {
	fs       sysfs.FS
	sysPath  string
	values   []cpuFreqValue
	governor typedDesc
}

func newCPUFreqCollector(cfg Config) (Collector, error) {
	fs, err := sysfs.NewFS(cfg.SysPath)
	if err != nil {
		return nil, fmt.Errorf("open sysfs: %w", err)
	}
	gauge := func(name, help string, labels ...string) typedDesc {
		return typedDesc{prometheus.NewDesc(prometheus.BuildFQName(Namespace, "cpu", name), help, labels, nil), prometheus.GaugeValue}
	}
	value := func(name, help string, field func(*sysfs.SystemCPUCpufreqStats) *uint64) cpuFreqValue {
		return cpuFreqValue{gauge(name, help, "cpu"), field}
	}
	return &cpuFreqCollector{
		fs:      fs,
		sysPath: cfg.SysPath,
		values: []cpuFreqValue{
			value("frequency_hertz", "Current CPU thread frequency in hertz.",
				func(s *sysfs.SystemCPUCpufreqStats) *uint64 { return s.CpuinfoCurrentFrequency }),
			value("frequency_avg_hertz", "Average CPU thread frequency in hertz.",
				func(s *sysfs.SystemCPUCpufreqStats) *uint64 { return s.CpuinfoAverageFrequency }),
			value("frequency_min_hertz", "Minimum CPU thread frequency in hertz.",
				func(s *sysfs.SystemCPUCpufreqStats) *uint64 { return s.CpuinfoMinimumFrequency }),
			value("frequency_max_hertz", "Maximum CPU thread frequency in hertz.",
				func(s *sysfs.SystemCPUCpufreqStats) *uint64 { return s.CpuinfoMaximumFrequency }),
			value("scaling_frequency_hertz", "Current scaled CPU thread frequency in hertz.",
				func(s *sysfs.SystemCPUCpufreqStats) *uint64 { return s.ScalingCurrentFrequency }),
			value("scaling_frequency_min_hertz", "Minimum scaled CPU thread frequency in hertz.",
				func(s *sysfs.SystemCPUCpufreqStats) *uint64 { return s.ScalingMinimumFrequency }),
			value("scaling_frequency_max_hertz", "Maximum scaled CPU thread frequency in hertz.",
				func(s *sysfs.SystemCPUCpufreqStats) *uint64 { return s.ScalingMaximumFrequency }),
		},
		governor: gauge("scaling_governor", "Current enabled CPU frequency governor.", "cpu", "governor"),
	}, nil
}

func (c *cpuFreqCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	// Virtual machines have no cpufreq directory. procfs (and so
	// node_exporter) fails when there is no CPU directory at all; either
	// way it is a node without cpufreq, not a broken one.
	dirs, err := filepath.Glob(filepath.Join(c.sysPath, "devices/system/cpu/cpu[0-9]*/cpufreq"))
	if err != nil {
		return fmt.Errorf("list cpufreq directories: %w", err)
	}
	if len(dirs) == 0 {
		return ErrNoData
	}
	cpus, err := c.fs.SystemCpufreq()
	if err != nil {
		return fmt.Errorf("read /sys/devices/system/cpu/cpu*/cpufreq: %w", err)
	}
	sent := false
	for _, cpu := range cpus {
		// procfs leaves a zero entry, without a name, for a CPU that has
		// no cpufreq directory.
		if cpu.Name == "" {
			continue
		}
		for _, v := range c.values {
			// sysfs gives kHz; the metrics are in hertz.
			if kHz := v.field(&cpu); kHz != nil {
				ch <- v.desc.mustNewConstMetric(float64(*kHz)*1000, cpu.Name)
				sent = true
			}
		}
		if cpu.Governor == "" {
			continue
		}
		for _, governor := range strings.Split(cpu.AvailableGovernors, " ") {
			enabled := 0.0
			if governor == cpu.Governor {
				enabled = 1
			}
			ch <- c.governor.mustNewConstMetric(enabled, cpu.Name, governor)
			sent = true
		}
	}
	if !sent {
		return ErrNoData
	}
	return nil
}
