package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
	"github.com/prometheus/procfs/sysfs"
)

func init() {
	register("cpu", true, newCPUCollector)
}

// cpuJumpBackSeconds is how far a CPU's idle time may fall between two
// scrapes before the fall is taken for a hotplug event (the kernel restarts
// the counters of a CPU that comes back online) rather than jitter.
const cpuJumpBackSeconds = 3.0

// cpuMode is one counter of a /proc/stat cpu line: the mode label it is
// exposed with, its name in proc(5) for logs, and where procfs puts it.
type cpuMode struct {
	mode, column string
	field        func(*procfs.CPUStat) *float64
}

// cpuModes are the modes of node_cpu_seconds_total, in node_exporter's order.
var cpuModes = []cpuMode{
	{"user", "user", func(s *procfs.CPUStat) *float64 { return &s.User }},
	{"nice", "nice", func(s *procfs.CPUStat) *float64 { return &s.Nice }},
	{"system", "system", func(s *procfs.CPUStat) *float64 { return &s.System }},
	{"idle", "idle", func(s *procfs.CPUStat) *float64 { return &s.Idle }},
	{"iowait", "iowait", func(s *procfs.CPUStat) *float64 { return &s.Iowait }},
	{"irq", "irq", func(s *procfs.CPUStat) *float64 { return &s.IRQ }},
	{"softirq", "softirq", func(s *procfs.CPUStat) *float64 { return &s.SoftIRQ }},
	{"steal", "steal", func(s *procfs.CPUStat) *float64 { return &s.Steal }},
}

// cpuGuestModes are the modes of node_cpu_guest_seconds_total. The kernel
// also counts this time in user and nice.
var cpuGuestModes = []cpuMode{
	{"user", "guest", func(s *procfs.CPUStat) *float64 { return &s.Guest }},
	{"nice", "guest_nice", func(s *procfs.CPUStat) *float64 { return &s.GuestNice }},
}

// cpuCounters are all the counters of a cpu line that Warden sends.
var cpuCounters = slices.Concat(cpuModes, cpuGuestModes)

type cpuCollector struct {
	procfs procfs.FS
	sysfs  sysfs.FS
	logger *slog.Logger

	guest, info               bool
	flagsInclude, bugsInclude *regexp.Regexp

	seconds, guestSeconds, cpuInfo, frequency, flagInfo, bugInfo typedDesc
	coreThrottles, packageThrottles, isolated, online            typedDesc

	// mu guards last: scrapes may run concurrently.
	mu sync.Mutex
	// last holds the counters last sent for each CPU, so that a counter the
	// kernel reports lower than before is not sent lower.
	last map[int64]procfs.CPUStat
}

func newCPUCollector(cfg Config) (Collector, error) {
	procFS, err := procfs.NewFS(cfg.ProcPath)
	if err != nil {
		return nil, fmt.Errorf("open procfs: %w", err)
	}
	sysFS, err := sysfs.NewFS(cfg.SysPath)
	if err != nil {
		return nil, fmt.Errorf("open sysfs: %w", err)
	}
	c := &cpuCollector{
		procfs: procFS,
		sysfs:  sysFS,
		logger: cfg.Logger,
		guest:  cfg.CPU.Guest,
		info:   cfg.CPU.Info,
		last:   map[int64]procfs.CPUStat{},
	}
	// As in node_exporter, asking for flags or bugs turns the info on.
	if !c.info && (cfg.CPU.FlagsInclude != "" || cfg.CPU.BugsInclude != "") {
		c.info = true
		c.logger.Info("--collector.cpu.info has been set to `true` because you set the following flags, like --collector.cpu.info.flags-include and --collector.cpu.info.bugs-include")
	}
	if cfg.CPU.FlagsInclude != "" {
		if c.flagsInclude, err = regexp.Compile(cfg.CPU.FlagsInclude); err != nil {
			return nil, fmt.Errorf("cpu info flags include %q: %w", cfg.CPU.FlagsInclude, err)
		}
	}
	if cfg.CPU.BugsInclude != "" {
		if c.bugsInclude, err = regexp.Compile(cfg.CPU.BugsInclude); err != nil {
			return nil, fmt.Errorf("cpu info bugs include %q: %w", cfg.CPU.BugsInclude, err)
		}
	}

	desc := func(name, help string, valueType prometheus.ValueType, labels ...string) typedDesc {
		return typedDesc{prometheus.NewDesc(prometheus.BuildFQName(Namespace, "cpu", name), help, labels, nil), valueType}
	}
	c.seconds = desc("seconds_total", "Seconds the CPUs spent in each mode.", prometheus.CounterValue, "cpu", "mode")
	c.guestSeconds = desc("guest_seconds_total", "Seconds the CPUs spent in guests (VMs) for each mode.", prometheus.CounterValue, "cpu", "mode")
	c.cpuInfo = desc("info", "CPU information from /proc/cpuinfo.", prometheus.GaugeValue,
		"package", "core", "cpu", "vendor", "family", "model", "model_name", "microcode", "stepping", "cachesize")
	c.frequency = desc("frequency_hertz", "CPU frequency in hertz from /proc/cpuinfo.", prometheus.GaugeValue, "package", "core", "cpu")
	c.flagInfo = desc("flag_info", "The `flags` field of CPU information from /proc/cpuinfo taken from the first core.", prometheus.GaugeValue, "flag")
	c.bugInfo = desc("bug_info", "The `bugs` field of CPU information from /proc/cpuinfo taken from the first core.", prometheus.GaugeValue, "bug")
	c.coreThrottles = desc("core_throttles_total", "Number of times this CPU core has been throttled.", prometheus.CounterValue, "package", "core")
	c.packageThrottles = desc("package_throttles_total", "Number of times this CPU package has been throttled.", prometheus.CounterValue, "package")
	c.isolated = desc("isolated", "Whether each core is isolated, information from /sys/devices/system/cpu/isolated.", prometheus.GaugeValue, "cpu")
	c.online = desc("online", "CPUs that are online and being scheduled.", prometheus.GaugeValue, "cpu")
	return c, nil
}

// Update sends, in node_exporter's order, the CPU information (when
// enabled), the time spent in each mode, isolation, thermal throttling and
// online state.
func (c *cpuCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	if c.info {
		if err := c.updateInfo(ch); err != nil {
			return err
		}
	}
	if err := c.updateStat(ch); err != nil {
		return err
	}
	if err := c.updateIsolated(ch); err != nil {
		return err
	}
	cpus, err := c.sysfs.CPUs()
	if err != nil {
		return fmt.Errorf("list cpus in sysfs: %w", err)
	}
	c.updateThermalThrottle(ch, cpus)
	c.updateOnline(ch, cpus)
	return nil
}

func (c *cpuCollector) updateInfo(ch chan<- prometheus.Metric) error {
	infos, err := c.procfs.CPUInfo()
	if err != nil {
		return fmt.Errorf("read /proc/cpuinfo: %w", err)
	}
	for _, i := range infos {
		ch <- c.cpuInfo.mustNewConstMetric(1, i.PhysicalID, i.CoreID, strconv.Itoa(int(i.Processor)),
			i.VendorID, i.CPUFamily, i.Model, i.ModelName, i.Microcode, i.Stepping, i.CacheSize)
	}
	// node_exporter sends the frequency only while its cpufreq collector is
	// enabled, which it is by default. Warden has no such switch and keeps
	// node_exporter's default.
	for _, i := range infos {
		ch <- c.frequency.mustNewConstMetric(i.CPUMHz*1e6, i.PhysicalID, i.CoreID, strconv.Itoa(int(i.Processor)))
	}
	if len(infos) == 0 {
		return nil
	}
	// Flags and bugs are the same on every core in practice; the first
	// core's stand for all, and only those the regexp asks for are sent.
	for _, f := range []struct {
		values []string
		filter *regexp.Regexp
		desc   typedDesc
	}{
		{infos[0].Flags, c.flagsInclude, c.flagInfo},
		{infos[0].Bugs, c.bugsInclude, c.bugInfo},
	} {
		if f.filter == nil {
			continue
		}
		for _, v := range f.values {
			if f.filter.MatchString(v) {
				ch <- f.desc.mustNewConstMetric(1, v)
			}
		}
	}
	return nil
}

func (c *cpuCollector) updateStat(ch chan<- prometheus.Metric) error {
	stat, err := c.procfs.Stat()
	if err != nil {
		return fmt.Errorf("read /proc/stat: %w", err)
	}
	stats := c.monotonic(stat.CPU)
	for _, id := range slices.Sorted(maps.Keys(stats)) {
		s := stats[id]
		cpu := strconv.FormatInt(id, 10)
		for _, m := range cpuModes {
			ch <- c.seconds.mustNewConstMetric(*m.field(&s), cpu, m.mode)
		}
		if c.guest {
			for _, m := range cpuGuestModes {
				ch <- c.guestSeconds.mustNewConstMetric(*m.field(&s), cpu, m.mode)
			}
		}
	}
	return nil
}

// monotonic returns the counters to send for the CPUs in fresh and
// remembers them. The kernel's counters can go backwards: slightly, through
// rounding of per-CPU idle and iowait time on some kernels, and entirely,
// when a CPU is unplugged and plugged back. A counter lower than the one
// last sent is held at the last value, unless idle fell by
// cpuJumpBackSeconds or more, which restarts all of that CPU's counters from
// the fresh values. CPUs missing from fresh (offline) are forgotten.
func (c *cpuCollector) monotonic(fresh map[int64]procfs.CPUStat) map[int64]procfs.CPUStat {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := make(map[int64]procfs.CPUStat, len(fresh))
	for id, s := range fresh {
		prev, seen := c.last[id]
		if seen && prev.Idle-s.Idle >= cpuJumpBackSeconds {
			c.logger.Debug("CPU idle counter jumped backwards, possible hotplug event, resetting CPU stats",
				"cpu", id, "old_value", prev.Idle, "new_value", s.Idle, "limit_seconds", cpuJumpBackSeconds)
			seen = false
		}
		if seen {
			for _, m := range cpuCounters {
				if old, now := *m.field(&prev), m.field(&s); *now < old {
					c.logger.Debug("CPU counter jumped backwards", "cpu", id, "counter", m.column, "old_value", old, "new_value", *now)
					*now = old
				}
			}
		}
		next[id] = s
	}
	// next is never written again, so it can be handed out and kept.
	c.last = next
	return next
}

// updateIsolated reads the CPUs isolated from scheduling (isolcpus=) on
// every scrape; a kernel without the file has no such feature.
func (c *cpuCollector) updateIsolated(ch chan<- prometheus.Metric) error {
	isolated, err := c.sysfs.IsolatedCPUs()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.logger.Debug("couldn't open isolated file", "err", err)
		return nil
	case err != nil:
		return fmt.Errorf("read /sys/devices/system/cpu/isolated: %w", err)
	}
	for _, cpu := range isolated {
		ch <- c.isolated.mustNewConstMetric(1, strconv.Itoa(int(cpu)))
	}
	return nil
}

// updateThermalThrottle sends the throttle counts of each core and package.
// Every thread of a core and every core of a package shows the same count,
// so each is read once. The core count is read apart from the package
// count, as some CPU and kernel combinations have only the former. A CPU
// without topology (offline) or count is skipped.
func (c *cpuCollector) updateThermalThrottle(ch chan<- prometheus.Metric, cpus []sysfs.CPU) {
	type core struct{ pkg, id uint64 }
	var packages []uint64
	var cores []core
	packageCounts := map[uint64]uint64{}
	coreCounts := map[core]uint64{}
	seenCores := map[core]bool{}
	for _, cpu := range cpus {
		dir := string(cpu)
		pkg, err := cpuReadUint(filepath.Join(dir, "topology", "physical_package_id"))
		if err != nil {
			c.logger.Debug("CPU is missing physical_package_id", "cpu", dir)
			continue
		}
		id, err := cpuReadUint(filepath.Join(dir, "topology", "core_id"))
		if err != nil {
			c.logger.Debug("CPU is missing core_id", "cpu", dir)
			continue
		}
		k := core{pkg, id}
		if !seenCores[k] {
			seenCores[k] = true
			if n, err := cpuReadUint(filepath.Join(dir, "thermal_throttle", "core_throttle_count")); err == nil {
				coreCounts[k] = n
				cores = append(cores, k)
			} else {
				c.logger.Debug("CPU is missing core_throttle_count", "cpu", dir)
			}
		}
		if _, ok := packageCounts[pkg]; !ok {
			if n, err := cpuReadUint(filepath.Join(dir, "thermal_throttle", "package_throttle_count")); err == nil {
				packageCounts[pkg] = n
				packages = append(packages, pkg)
			} else {
				c.logger.Debug("CPU is missing package_throttle_count", "cpu", dir)
			}
		}
	}
	for _, pkg := range packages {
		ch <- c.packageThrottles.mustNewConstMetric(float64(packageCounts[pkg]), strconv.FormatUint(pkg, 10))
	}
	for _, k := range cores {
		ch <- c.coreThrottles.mustNewConstMetric(float64(coreCounts[k]), strconv.FormatUint(k.pkg, 10), strconv.FormatUint(k.id, 10))
	}
}

// updateOnline sends whether each CPU is online. A kernel that cannot take
// the first CPU offline has no online file for it; node_exporter then sends
// nothing, and so does Warden.
func (c *cpuCollector) updateOnline(ch chan<- prometheus.Metric, cpus []sysfs.CPU) {
	if len(cpus) == 0 {
		return
	}
	if _, err := cpus[0].Online(); errors.Is(err, fs.ErrNotExist) {
		return
	}
	for _, cpu := range cpus {
		value := 0.0
		if online, _ := cpu.Online(); online {
			value = 1
		}
		ch <- c.online.mustNewConstMetric(value, cpu.Number())
	}
}

// cpuReadUint reads a sysfs file holding one unsigned decimal number.
func cpuReadUint(path string) (uint64, error) {
	data, err := readSysfsValue(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(data, 10, 64)
}
