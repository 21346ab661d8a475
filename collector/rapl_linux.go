package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs/sysfs"
)

func init() {
	register("rapl", true, newRAPLCollector)
}

// raplInvalidNameChars are the runs node_exporter replaces by "_" when a
// zone name becomes part of a metric name.
var raplInvalidNameChars = regexp.MustCompile(`_*[^0-9A-Za-z_]+_*`)

// raplCollector reports the energy counters of the RAPL zones in
// /sys/class/powercap: one family per zone name (node_rapl_package_joules_total)
// or, with the zone label, one node_rapl_joules_total.
type raplCollector struct {
	fs        sysfs.FS
	logger    *slog.Logger
	zoneLabel bool
	joules    *prometheus.Desc
}

func newRAPLCollector(cfg Config) (Collector, error) {
	fs, err := sysfs.NewFS(cfg.SysPath)
	if err != nil {
		return nil, fmt.Errorf("open sysfs: %w", err)
	}
	return &raplCollector{
		fs:        fs,
		logger:    cfg.Logger,
		zoneLabel: cfg.RAPL.ZoneLabel,
		joules: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "rapl", "joules_total"),
			"Current RAPL value in joules", []string{"index", "path", "rapl_zone"}, nil),
	}, nil
}

func (c *raplCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	zones, err := sysfs.GetRaplZones(c.fs)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
		// No powercap driver (virtual machines, non-Intel/AMD platforms).
		return ErrNoData
	}
	if err != nil {
		return fmt.Errorf("read /sys/class/powercap: %w", err)
	}
	if len(zones) == 0 {
		return ErrNoData
	}
	for _, zone := range zones {
		microjoules, err := zone.GetEnergyMicrojoules()
		if errors.Is(err, os.ErrPermission) {
			// Since Linux 5.10 energy_uj is readable by root only
			// (CVE-2020-8694); node_exporter then reports no data.
			c.logger.Debug("cannot read RAPL energy", "zone", zone.Name, "path", zone.Path, "err", err)
			return ErrNoData
		}
		if err != nil {
			return fmt.Errorf("read RAPL zone %s energy: %w", zone.Path, err)
		}
		joules := float64(microjoules) / 1e6
		index := strconv.Itoa(zone.Index)
		if c.zoneLabel {
			ch <- mustNewConstMetric(c.joules, prometheus.CounterValue, joules, index, zone.Path, zone.Name)
			continue
		}
		desc := prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "rapl", raplInvalidNameChars.ReplaceAllString(zone.Name, "_")+"_joules_total"),
			fmt.Sprintf("Current RAPL %s value in joules", zone.Name),
			[]string{"index", "path"}, nil)
		ch <- mustNewConstMetric(desc, prometheus.CounterValue, joules, index, zone.Path)
	}
	return nil
}
