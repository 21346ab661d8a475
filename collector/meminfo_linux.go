package collector

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

func init() {
	register("meminfo", true, newMeminfoCollector)
}

// meminfoFields maps node_exporter's metric name suffixes to the parsed
// /proc/meminfo fields. The list is node_exporter's, not every field procfs
// parses (FileHugePages, SecPageTables, Unaccepted and Hugetlb are left out
// there too). Fields in kB become _bytes; the HugePages_* counts keep their
// kernel names without a unit.
var meminfoFields = []struct {
	name  string
	value func(*procfs.Meminfo) *uint64
}{
	{"Active_bytes", func(m *procfs.Meminfo) *uint64 { return m.ActiveBytes }},
	{"Active_anon_bytes", func(m *procfs.Meminfo) *uint64 { return m.ActiveAnonBytes }},
	{"Active_file_bytes", func(m *procfs.Meminfo) *uint64 { return m.ActiveFileBytes }},
	{"AnonHugePages_bytes", func(m *procfs.Meminfo) *uint64 { return m.AnonHugePagesBytes }},
	{"AnonPages_bytes", func(m *procfs.Meminfo) *uint64 { return m.AnonPagesBytes }},
	{"Bounce_bytes", func(m *procfs.Meminfo) *uint64 { return m.BounceBytes }},
	{"Buffers_bytes", func(m *procfs.Meminfo) *uint64 { return m.BuffersBytes }},
	{"Cached_bytes", func(m *procfs.Meminfo) *uint64 { return m.CachedBytes }},
	{"CmaFree_bytes", func(m *procfs.Meminfo) *uint64 { return m.CmaFreeBytes }},
	{"CmaTotal_bytes", func(m *procfs.Meminfo) *uint64 { return m.CmaTotalBytes }},
	{"CommitLimit_bytes", func(m *procfs.Meminfo) *uint64 { return m.CommitLimitBytes }},
	{"Committed_AS_bytes", func(m *procfs.Meminfo) *uint64 { return m.CommittedASBytes }},
	{"DirectMap1G_bytes", func(m *procfs.Meminfo) *uint64 { return m.DirectMap1GBytes }},
	{"DirectMap2M_bytes", func(m *procfs.Meminfo) *uint64 { return m.DirectMap2MBytes }},
	{"DirectMap4k_bytes", func(m *procfs.Meminfo) *uint64 { return m.DirectMap4kBytes }},
	{"Dirty_bytes", func(m *procfs.Meminfo) *uint64 { return m.DirtyBytes }},
	{"HardwareCorrupted_bytes", func(m *procfs.Meminfo) *uint64 { return m.HardwareCorruptedBytes }},
	{"Hugepagesize_bytes", func(m *procfs.Meminfo) *uint64 { return m.HugepagesizeBytes }},
	{"Inactive_bytes", func(m *procfs.Meminfo) *uint64 { return m.InactiveBytes }},
	{"Inactive_anon_bytes", func(m *procfs.Meminfo) *uint64 { return m.InactiveAnonBytes }},
	{"Inactive_file_bytes", func(m *procfs.Meminfo) *uint64 { return m.InactiveFileBytes }},
	{"KernelStack_bytes", func(m *procfs.Meminfo) *uint64 { return m.KernelStackBytes }},
	{"Mapped_bytes", func(m *procfs.Meminfo) *uint64 { return m.MappedBytes }},
	{"MemAvailable_bytes", func(m *procfs.Meminfo) *uint64 { return m.MemAvailableBytes }},
	{"MemFree_bytes", func(m *procfs.Meminfo) *uint64 { return m.MemFreeBytes }},
	{"MemTotal_bytes", func(m *procfs.Meminfo) *uint64 { return m.MemTotalBytes }},
	{"Mlocked_bytes", func(m *procfs.Meminfo) *uint64 { return m.MlockedBytes }},
	{"NFS_Unstable_bytes", func(m *procfs.Meminfo) *uint64 { return m.NFSUnstableBytes }},
	{"PageTables_bytes", func(m *procfs.Meminfo) *uint64 { return m.PageTablesBytes }},
	{"Percpu_bytes", func(m *procfs.Meminfo) *uint64 { return m.PercpuBytes }},
	{"SReclaimable_bytes", func(m *procfs.Meminfo) *uint64 { return m.SReclaimableBytes }},
	{"SUnreclaim_bytes", func(m *procfs.Meminfo) *uint64 { return m.SUnreclaimBytes }},
	{"Shmem_bytes", func(m *procfs.Meminfo) *uint64 { return m.ShmemBytes }},
	{"ShmemHugePages_bytes", func(m *procfs.Meminfo) *uint64 { return m.ShmemHugePagesBytes }},
	{"ShmemPmdMapped_bytes", func(m *procfs.Meminfo) *uint64 { return m.ShmemPmdMappedBytes }},
	{"Slab_bytes", func(m *procfs.Meminfo) *uint64 { return m.SlabBytes }},
	{"SwapCached_bytes", func(m *procfs.Meminfo) *uint64 { return m.SwapCachedBytes }},
	{"SwapFree_bytes", func(m *procfs.Meminfo) *uint64 { return m.SwapFreeBytes }},
	{"SwapTotal_bytes", func(m *procfs.Meminfo) *uint64 { return m.SwapTotalBytes }},
	{"Unevictable_bytes", func(m *procfs.Meminfo) *uint64 { return m.UnevictableBytes }},
	{"VmallocChunk_bytes", func(m *procfs.Meminfo) *uint64 { return m.VmallocChunkBytes }},
	{"VmallocTotal_bytes", func(m *procfs.Meminfo) *uint64 { return m.VmallocTotalBytes }},
	{"VmallocUsed_bytes", func(m *procfs.Meminfo) *uint64 { return m.VmallocUsedBytes }},
	{"Writeback_bytes", func(m *procfs.Meminfo) *uint64 { return m.WritebackBytes }},
	{"WritebackTmp_bytes", func(m *procfs.Meminfo) *uint64 { return m.WritebackTmpBytes }},
	{"Zswap_bytes", func(m *procfs.Meminfo) *uint64 { return m.ZswapBytes }},
	{"Zswapped_bytes", func(m *procfs.Meminfo) *uint64 { return m.ZswappedBytes }},
	{"HugePages_Free", func(m *procfs.Meminfo) *uint64 { return m.HugePagesFree }},
	{"HugePages_Rsvd", func(m *procfs.Meminfo) *uint64 { return m.HugePagesRsvd }},
	{"HugePages_Surp", func(m *procfs.Meminfo) *uint64 { return m.HugePagesSurp }},
	{"HugePages_Total", func(m *procfs.Meminfo) *uint64 { return m.HugePagesTotal }},
}

type meminfoCollector struct {
	fs    procfs.FS
	descs []typedDesc // parallel to meminfoFields
}

func newMeminfoCollector(cfg Config) (Collector, error) {
	fs, err := procfs.NewFS(cfg.ProcPath)
	if err != nil {
		return nil, fmt.Errorf("open procfs: %w", err)
	}
	c := &meminfoCollector{fs: fs, descs: make([]typedDesc, len(meminfoFields))}
	for i, f := range meminfoFields {
		// All are gauges: node_exporter makes counters only of names ending
		// in a lower-case "_total", which no meminfo field has.
		c.descs[i] = typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "memory", f.name),
			fmt.Sprintf("Memory information field %s.", f.name),
			nil, nil,
		), prometheus.GaugeValue}
	}
	return c, nil
}

func (c *meminfoCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	info, err := c.fs.Meminfo()
	if err != nil {
		return fmt.Errorf("read meminfo: %w", err)
	}
	for i, f := range meminfoFields {
		// Fields this kernel does not print are left out, not reported as 0.
		if v := f.value(&info); v != nil {
			ch <- c.descs[i].mustNewConstMetric(float64(*v))
		}
	}
	return nil
}
