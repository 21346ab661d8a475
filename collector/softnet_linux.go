package collector

import (
	"context"
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

func init() {
	register("softnet", true, newSoftnetCollector)
}

// softnetCollector reports the per-CPU packet processing statistics of
// /proc/net/softnet_stat.
type softnetCollector struct {
	fs    procfs.FS
	stats []softnetStat
}

// softnetStat is one column of /proc/net/softnet_stat under node_exporter's name.
type softnetStat struct {
	desc  typedDesc
	value func(procfs.SoftnetStat) uint32
}

func newSoftnetCollector(cfg Config) (Collector, error) {
	procFS, err := procfs.NewFS(cfg.ProcPath)
	if err != nil {
		return nil, fmt.Errorf("open procfs: %w", err)
	}
	stat := func(name, help string, valueType prometheus.ValueType, value func(procfs.SoftnetStat) uint32) softnetStat {
		return softnetStat{typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "softnet", name), help, []string{"cpu"}, nil,
		), valueType}, value}
	}
	counter := prometheus.CounterValue
	return &softnetCollector{
		fs: procFS,
		stats: []softnetStat{
			stat("processed_total", "Number of processed packets", counter,
				func(s procfs.SoftnetStat) uint32 { return s.Processed }),
			stat("dropped_total", "Number of dropped packets", counter,
				func(s procfs.SoftnetStat) uint32 { return s.Dropped }),
			stat("times_squeezed_total", "Number of times processing packets ran out of quota", counter,
				func(s procfs.SoftnetStat) uint32 { return s.TimeSqueezed }),
			stat("cpu_collision_total", "Number of collision occur while obtaining device lock while transmitting", counter,
				func(s procfs.SoftnetStat) uint32 { return s.CPUCollision }),
			stat("received_rps_total", "Number of times cpu woken up received_rps", counter,
				func(s procfs.SoftnetStat) uint32 { return s.ReceivedRps }),
			stat("flow_limit_count_total", "Number of times flow limit has been reached", counter,
				func(s procfs.SoftnetStat) uint32 { return s.FlowLimitCount }),
			stat("backlog_len", "Softnet backlog status", prometheus.GaugeValue,
				func(s procfs.SoftnetStat) uint32 { return s.SoftnetBacklogLen }),
		},
	}, nil
}

// Update fails without /proc/net/softnet_stat, as node_exporter does: every
// kernel with networking has it.
func (c *softnetCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	perCPU, err := c.fs.NetSoftnetStat()
	if err != nil {
		return fmt.Errorf("read net/softnet_stat: %w", err)
	}
	for _, cpu := range perCPU {
		// Since Linux 5.14 the CPU number is a column of the file; for
		// older kernels procfs numbers the lines instead.
		label := strconv.FormatUint(uint64(cpu.Index), 10)
		for _, s := range c.stats {
			ch <- s.desc.mustNewConstMetric(float64(s.value(cpu)), label)
		}
	}
	return nil
}
