package collector

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs/bcache"
)

func init() {
	register("bcache", true, newBcacheCollector)
}

// bcacheMetric is one node_bcache_* family: its descriptor and where its
// value comes from in what procfs parses. Exactly one of the value functions
// is set, and it decides which device label the family carries.
type bcacheMetric struct {
	name, help string
	valueType  prometheus.ValueType
	set        func(*bcache.Stats) float64       // /sys/fs/bcache/<uuid>/
	bdev       func(*bcache.BdevStats) float64   // <uuid>/bdev*/
	cache      func(*bcache.CacheStats) float64  // <uuid>/cache*/
	period     func(*bcache.PeriodStats) float64 // <uuid>/bdev*/stats_total/
}

// bcacheMetrics are node_exporter's, in its order.
var bcacheMetrics = []bcacheMetric{
	{name: "average_key_size_sectors", help: "Average data per key in the btree (sectors).", valueType: prometheus.GaugeValue,
		set: func(s *bcache.Stats) float64 { return float64(s.Bcache.AverageKeySize) }},
	{name: "btree_cache_size_bytes", help: "Amount of memory currently used by the btree cache.", valueType: prometheus.GaugeValue,
		set: func(s *bcache.Stats) float64 { return float64(s.Bcache.BtreeCacheSize) }},
	{name: "cache_available_percent", help: "Percentage of cache device without dirty data, usable for writeback (may contain clean cached data).", valueType: prometheus.GaugeValue,
		set: func(s *bcache.Stats) float64 { return float64(s.Bcache.CacheAvailablePercent) }},
	{name: "congested", help: "Congestion.", valueType: prometheus.GaugeValue,
		set: func(s *bcache.Stats) float64 { return float64(s.Bcache.Congested) }},
	{name: "root_usage_percent", help: "Percentage of the root btree node in use (tree depth increases if too high).", valueType: prometheus.GaugeValue,
		set: func(s *bcache.Stats) float64 { return float64(s.Bcache.RootUsagePercent) }},
	{name: "tree_depth", help: "Depth of the btree.", valueType: prometheus.GaugeValue,
		set: func(s *bcache.Stats) float64 { return float64(s.Bcache.TreeDepth) }},
	{name: "active_journal_entries", help: "Number of journal entries that are newer than the index.", valueType: prometheus.GaugeValue,
		set: func(s *bcache.Stats) float64 { return float64(s.Bcache.Internal.ActiveJournalEntries) }},
	{name: "btree_nodes", help: "Total nodes in the btree.", valueType: prometheus.GaugeValue,
		set: func(s *bcache.Stats) float64 { return float64(s.Bcache.Internal.BtreeNodes) }},
	// The kernel file is btree_read_average_duration_us. node_exporter
	// v1.12.1 scales it by 1e-9 as if it were nanoseconds; this is the
	// value in seconds that the name promises.
	{name: "btree_read_average_duration_seconds", help: "Average btree read duration.", valueType: prometheus.GaugeValue,
		set: func(s *bcache.Stats) float64 {
			return float64(s.Bcache.Internal.BtreeReadAverageDurationMicroSeconds) * 1e-6
		}},
	{name: "cache_read_races_total", help: "Counts instances where while data was being read from the cache, the bucket was reused and invalidated - i.e. where the pointer was stale after the read completed.", valueType: prometheus.CounterValue,
		set: func(s *bcache.Stats) float64 { return float64(s.Bcache.Internal.CacheReadRaces) }},

	{name: "dirty_data_bytes", help: "Amount of dirty data for this backing device in the cache.", valueType: prometheus.GaugeValue,
		bdev: func(b *bcache.BdevStats) float64 { return float64(b.DirtyData) }},
	{name: "dirty_target_bytes", help: "Current dirty data target threshold for this backing device in bytes.", valueType: prometheus.GaugeValue,
		bdev: func(b *bcache.BdevStats) float64 { return float64(b.WritebackRateDebug.Target) }},
	{name: "writeback_rate", help: "Current writeback rate for this backing device in bytes.", valueType: prometheus.GaugeValue,
		bdev: func(b *bcache.BdevStats) float64 { return float64(b.WritebackRateDebug.Rate) }},
	{name: "writeback_rate_proportional_term", help: "Current result of proportional controller, part of writeback rate", valueType: prometheus.GaugeValue,
		bdev: func(b *bcache.BdevStats) float64 { return float64(b.WritebackRateDebug.Proportional) }},
	{name: "writeback_rate_integral_term", help: "Current result of integral controller, part of writeback rate", valueType: prometheus.GaugeValue,
		bdev: func(b *bcache.BdevStats) float64 { return float64(b.WritebackRateDebug.Integral) }},
	{name: "writeback_change", help: "Last writeback rate change step for this backing device.", valueType: prometheus.GaugeValue,
		bdev: func(b *bcache.BdevStats) float64 { return float64(b.WritebackRateDebug.Change) }},

	{name: "bypassed_bytes_total", help: "Amount of IO (both reads and writes) that has bypassed the cache.", valueType: prometheus.CounterValue,
		period: func(p *bcache.PeriodStats) float64 { return float64(p.Bypassed) }},
	{name: "cache_hits_total", help: "Hits counted per individual IO as bcache sees them.", valueType: prometheus.CounterValue,
		period: func(p *bcache.PeriodStats) float64 { return float64(p.CacheHits) }},
	{name: "cache_misses_total", help: "Misses counted per individual IO as bcache sees them.", valueType: prometheus.CounterValue,
		period: func(p *bcache.PeriodStats) float64 { return float64(p.CacheMisses) }},
	{name: "cache_bypass_hits_total", help: "Hits for IO intended to skip the cache.", valueType: prometheus.CounterValue,
		period: func(p *bcache.PeriodStats) float64 { return float64(p.CacheBypassHits) }},
	{name: "cache_bypass_misses_total", help: "Misses for IO intended to skip the cache.", valueType: prometheus.CounterValue,
		period: func(p *bcache.PeriodStats) float64 { return float64(p.CacheBypassMisses) }},
	{name: "cache_miss_collisions_total", help: "Instances where data insertion from cache miss raced with write (data already present).", valueType: prometheus.CounterValue,
		period: func(p *bcache.PeriodStats) float64 { return float64(p.CacheMissCollisions) }},

	{name: "io_errors", help: "Number of errors that have occurred, decayed by io_error_halflife.", valueType: prometheus.GaugeValue,
		cache: func(c *bcache.CacheStats) float64 { return float64(c.IOErrors) }},
	{name: "metadata_written_bytes_total", help: "Sum of all non data writes (btree writes and all other metadata).", valueType: prometheus.CounterValue,
		cache: func(c *bcache.CacheStats) float64 { return float64(c.MetadataWritten) }},
	{name: "written_bytes_total", help: "Sum of all data that has been written to the cache.", valueType: prometheus.CounterValue,
		cache: func(c *bcache.CacheStats) float64 { return float64(c.Written) }},
}

// bcachePriorityMetrics come from priority_stats, which is expensive for the
// kernel to produce, so they are read only when asked for.
var bcachePriorityMetrics = []bcacheMetric{
	{name: "priority_stats_unused_percent", help: "The percentage of the cache that doesn't contain any data.", valueType: prometheus.GaugeValue,
		cache: func(c *bcache.CacheStats) float64 { return float64(c.Priority.UnusedPercent) }},
	{name: "priority_stats_metadata_percent", help: "Bcache's metadata overhead.", valueType: prometheus.GaugeValue,
		cache: func(c *bcache.CacheStats) float64 { return float64(c.Priority.MetadataPercent) }},
}

// bcacheReadaheads is sent only when the kernel counted readaheads, as
// node_exporter does: kernels since 4.18 no longer do.
var bcacheReadaheads = bcacheMetric{name: "cache_readaheads_total", help: "Count of times readahead occurred.", valueType: prometheus.CounterValue,
	period: func(p *bcache.PeriodStats) float64 { return float64(p.CacheReadaheads) }}

type bcacheDescribed struct {
	bcacheMetric
	desc typedDesc
}

// bcacheCollector reports the statistics of bcache cache sets from
// /sys/fs/bcache/<uuid>.
type bcacheCollector struct {
	fs            bcache.FS
	priorityStats bool
	metrics       []bcacheDescribed
	readaheads    bcacheDescribed
}

func newBcacheCollector(cfg Config) (Collector, error) {
	fs, err := bcache.NewFS(cfg.SysPath)
	if err != nil {
		return nil, fmt.Errorf("open sysfs: %w", err)
	}
	c := &bcacheCollector{fs: fs, priorityStats: cfg.Bcache.PriorityStats}
	all := bcacheMetrics
	if c.priorityStats {
		all = append(all[:len(all):len(all)], bcachePriorityMetrics...)
	}
	for _, m := range all {
		c.metrics = append(c.metrics, bcacheDescribe(m))
	}
	c.readaheads = bcacheDescribe(bcacheReadaheads)
	return c, nil
}

func bcacheDescribe(m bcacheMetric) bcacheDescribed {
	labels := []string{"uuid"}
	switch {
	case m.bdev != nil, m.period != nil:
		labels = append(labels, "backing_device")
	case m.cache != nil:
		labels = append(labels, "cache_device")
	}
	return bcacheDescribed{m, typedDesc{
		prometheus.NewDesc(prometheus.BuildFQName(Namespace, "bcache", m.name), m.help, labels, nil),
		m.valueType,
	}}
}

func (c *bcacheCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	var (
		sets []*bcache.Stats
		err  error
	)
	if c.priorityStats {
		sets, err = c.fs.Stats()
	} else {
		sets, err = c.fs.StatsWithoutPriority()
	}
	if err != nil {
		return fmt.Errorf("read bcache stats: %w", err)
	}
	// No cache set is not an error: node_exporter sends nothing then.
	for _, s := range sets {
		for _, m := range c.metrics {
			switch {
			case m.set != nil:
				ch <- m.desc.mustNewConstMetric(m.set(s), s.Name)
			case m.bdev != nil:
				for i := range s.Bdevs {
					ch <- m.desc.mustNewConstMetric(m.bdev(&s.Bdevs[i]), s.Name, s.Bdevs[i].Name)
				}
			case m.period != nil:
				for i := range s.Bdevs {
					ch <- m.desc.mustNewConstMetric(m.period(&s.Bdevs[i].Total), s.Name, s.Bdevs[i].Name)
				}
			case m.cache != nil:
				for i := range s.Caches {
					ch <- m.desc.mustNewConstMetric(m.cache(&s.Caches[i]), s.Name, s.Caches[i].Name)
				}
			}
		}
		for i := range s.Bdevs {
			if v := c.readaheads.period(&s.Bdevs[i].Total); v != 0 {
				ch <- c.readaheads.desc.mustNewConstMetric(v, s.Name, s.Bdevs[i].Name)
			}
		}
	}
	return nil
}
