package collector

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs/sysfs"
)

func init() {
	register("time", true, newTimeCollector)
}

type timeCollector struct {
	sysPath string
	// now is the wall clock; tests replace it.
	now func() time.Time

	seconds, zoneOffset, clocksourceAvailable, clocksourceCurrent typedDesc
}

func newTimeCollector(cfg Config) (Collector, error) {
	gauge := func(name, help string, labels ...string) typedDesc {
		return typedDesc{prometheus.NewDesc(prometheus.BuildFQName(Namespace, "time", name), help, labels, nil), prometheus.GaugeValue}
	}
	return &timeCollector{
		sysPath:              cfg.SysPath,
		now:                  time.Now,
		seconds:              gauge("seconds", "System time in seconds since epoch (1970)."),
		zoneOffset:           gauge("zone_offset_seconds", "System time zone offset in seconds.", "time_zone"),
		clocksourceAvailable: gauge("clocksource_available_info", "Available clocksources read from '/sys/devices/system/clocksource'.", "device", "clocksource"),
		clocksourceCurrent:   gauge("clocksource_current_info", "Current clocksource read from '/sys/devices/system/clocksource'.", "device", "clocksource"),
	}, nil
}

// Update sends the wall clock, the local time zone's offset and the kernel's
// clock sources. A host without clock source devices in sysfs sends only the
// time.
func (c *timeCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	now := c.now()
	zone, offset := now.Zone()
	ch <- c.seconds.mustNewConstMetric(float64(now.UnixNano()) / 1e9)
	ch <- c.zoneOffset.mustNewConstMetric(float64(offset), zone)

	// sysfs is opened on each scrape, as in node_exporter, so that a missing
	// /sys fails this collector's scrapes rather than Warden's start.
	fs, err := sysfs.NewFS(c.sysPath)
	if err != nil {
		return fmt.Errorf("open sysfs: %w", err)
	}
	sources, err := fs.ClockSources()
	if err != nil {
		return fmt.Errorf("read /sys/devices/system/clocksource: %w", err)
	}
	// The device label is the index in the sorted list of clocksourceN
	// directories, as node_exporter has it, not N itself; they agree on
	// every kernel, which has only clocksource0.
	for i, s := range sources {
		device := strconv.Itoa(i)
		for _, name := range s.Available {
			ch <- c.clocksourceAvailable.mustNewConstMetric(1, device, name)
		}
		ch <- c.clocksourceCurrent.mustNewConstMetric(1, device, s.Current)
	}
	return nil
}
