package collector

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs/sysfs"
)

func init() {
	register("watchdog", true, newWatchdogCollector)
}

// watchdogValue is one numeric file of a watchdog device, sent when the
// driver offers it.
type watchdogValue struct {
	desc  typedDesc
	field func(*sysfs.WatchdogStats) *int64
}

// watchdogCollector reports /sys/class/watchdog.
type watchdogCollector struct {
	fs     sysfs.FS
	values []watchdogValue
	info   typedDesc
}

func newWatchdogCollector(cfg Config) (Collector, error) {
	fs, err := sysfs.NewFS(cfg.SysPath)
	if err != nil {
		return nil, fmt.Errorf("open sysfs: %w", err)
	}
	gauge := func(name, help string, labels ...string) typedDesc {
		return typedDesc{prometheus.NewDesc(prometheus.BuildFQName(Namespace, "watchdog", name), help, labels, nil), prometheus.GaugeValue}
	}
	value := func(name, file string, field func(*sysfs.WatchdogStats) *int64) watchdogValue {
		return watchdogValue{gauge(name, "Value of /sys/class/watchdog/<watchdog>/"+file, "name"), field}
	}
	return &watchdogCollector{
		fs: fs,
		values: []watchdogValue{
			value("bootstatus", "bootstatus", func(w *sysfs.WatchdogStats) *int64 { return w.Bootstatus }),
			value("fw_version", "fw_version", func(w *sysfs.WatchdogStats) *int64 { return w.FwVersion }),
			value("nowayout", "nowayout", func(w *sysfs.WatchdogStats) *int64 { return w.Nowayout }),
			value("timeleft_seconds", "timeleft", func(w *sysfs.WatchdogStats) *int64 { return w.Timeleft }),
			value("timeout_seconds", "timeout", func(w *sysfs.WatchdogStats) *int64 { return w.Timeout }),
			value("pretimeout_seconds", "pretimeout", func(w *sysfs.WatchdogStats) *int64 { return w.Pretimeout }),
			value("access_cs0", "access_cs0", func(w *sysfs.WatchdogStats) *int64 { return w.AccessCs0 }),
		},
		info: gauge("info", "Info of /sys/class/watchdog/<watchdog>",
			"name", "options", "identity", "state", "status", "pretimeout_governor"),
	}, nil
}

func (c *watchdogCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	watchdogs, err := c.fs.WatchdogClass()
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) || errors.Is(err, os.ErrInvalid) {
		// No watchdog class (CONFIG_WATCHDOG_SYSFS off) or none readable.
		return ErrNoData
	}
	if err != nil {
		return fmt.Errorf("read /sys/class/watchdog: %w", err)
	}
	if len(watchdogs) == 0 {
		return ErrNoData
	}
	for _, wd := range watchdogs {
		for _, v := range c.values {
			if n := v.field(&wd); n != nil {
				ch <- v.desc.mustNewConstMetric(float64(*n), wd.Name)
			}
		}
		// The info labels are always there, empty when the driver does not
		// offer the file, so that every watchdog has the same label names.
		ch <- c.info.mustNewConstMetric(1, wd.Name, watchdogLabel(wd.Options), watchdogLabel(wd.Identity),
			watchdogLabel(wd.State), watchdogLabel(wd.Status), watchdogLabel(wd.PretimeoutGovernor))
	}
	return nil
}

func watchdogLabel(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
