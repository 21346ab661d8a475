// Package processmetrics exposes the process_* metrics of client_golang's
// process collector, with the same names, help and values, for less: the
// process start time cannot change, so it is read once, where
// client_golang reads all of /proc/stat for it on every scrape (on a
// 384-CPU host, 400 lines for one number).
package processmetrics

import (
	"os"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/procfs"
)

// New returns the collector: this package's where /proc can be read,
// client_golang's otherwise.
func New() prometheus.Collector {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})
	}
	return &collector{fs: fs, pid: os.Getpid()}
}

// The descriptors of client_golang's process collector without a
// namespace.
var (
	cpuTotal  = prometheus.NewDesc("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", nil, nil)
	openFDs   = prometheus.NewDesc("process_open_fds", "Number of open file descriptors.", nil, nil)
	maxFDs    = prometheus.NewDesc("process_max_fds", "Maximum number of open file descriptors.", nil, nil)
	vsize     = prometheus.NewDesc("process_virtual_memory_bytes", "Virtual memory size in bytes.", nil, nil)
	maxVsize  = prometheus.NewDesc("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.", nil, nil)
	rss       = prometheus.NewDesc("process_resident_memory_bytes", "Resident memory size in bytes.", nil, nil)
	startTime = prometheus.NewDesc("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", nil, nil)
	inBytes   = prometheus.NewDesc("process_network_receive_bytes_total", "Number of bytes received by the process over the network.", nil, nil)
	outBytes  = prometheus.NewDesc("process_network_transmit_bytes_total", "Number of bytes sent by the process over the network.", nil, nil)
)

type collector struct {
	fs  procfs.FS
	pid int

	mu      sync.Mutex
	started float64 // 0 until read
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{cpuTotal, openFDs, maxFDs, vsize, maxVsize, rss, startTime, inBytes, outBytes} {
		ch <- d
	}
}

// Collect sends what client_golang's sends, in its order, and as it does
// without ReportErrors, nothing for what cannot be read.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	p, err := c.fs.Proc(c.pid)
	if err != nil {
		return
	}
	if stat, err := p.Stat(); err == nil {
		ch <- prometheus.MustNewConstMetric(cpuTotal, prometheus.CounterValue, stat.CPUTime())
		ch <- prometheus.MustNewConstMetric(vsize, prometheus.GaugeValue, float64(stat.VirtualMemory()))
		ch <- prometheus.MustNewConstMetric(rss, prometheus.GaugeValue, float64(stat.ResidentMemory()))
		if started, ok := c.startTime(stat); ok {
			ch <- prometheus.MustNewConstMetric(startTime, prometheus.GaugeValue, started)
		}
	}
	if fds, err := p.FileDescriptorsLen(); err == nil {
		ch <- prometheus.MustNewConstMetric(openFDs, prometheus.GaugeValue, float64(fds))
	}
	if limits, err := p.Limits(); err == nil {
		ch <- prometheus.MustNewConstMetric(maxFDs, prometheus.GaugeValue, float64(limits.OpenFiles))
		ch <- prometheus.MustNewConstMetric(maxVsize, prometheus.GaugeValue, float64(limits.AddressSpace))
	}
	if netstat, err := p.Netstat(); err == nil {
		var in, out float64
		if netstat.InOctets != nil {
			in = *netstat.InOctets
		}
		if netstat.OutOctets != nil {
			out = *netstat.OutOctets
		}
		ch <- prometheus.MustNewConstMetric(inBytes, prometheus.CounterValue, in)
		ch <- prometheus.MustNewConstMetric(outBytes, prometheus.CounterValue, out)
	}
}

// startTime returns the process's start time, read on first success.
func (c *collector) startTime(stat procfs.ProcStat) (float64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started == 0 {
		started, err := stat.StartTime()
		if err != nil {
			return 0, false
		}
		c.started = started
	}
	return c.started, true
}
