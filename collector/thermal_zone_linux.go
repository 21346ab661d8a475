package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs/sysfs"
)

func init() {
	register("thermal_zone", true, newThermalZoneCollector)
}

// thermalZoneCollector reports the thermal zones and cooling devices of
// /sys/class/thermal.
type thermalZoneCollector struct {
	fs     sysfs.FS
	logger *slog.Logger

	zoneTemp, coolingCurState, coolingMaxState typedDesc
}

func newThermalZoneCollector(cfg Config) (Collector, error) {
	fs, err := sysfs.NewFS(cfg.SysPath)
	if err != nil {
		return nil, fmt.Errorf("open sysfs: %w", err)
	}
	gauge := func(subsystem, name, help string, labels ...string) typedDesc {
		return typedDesc{prometheus.NewDesc(prometheus.BuildFQName(Namespace, subsystem, name), help, labels, nil), prometheus.GaugeValue}
	}
	return &thermalZoneCollector{
		fs:              fs,
		logger:          cfg.Logger,
		zoneTemp:        gauge("thermal_zone", "temp", "Zone temperature in Celsius", "zone", "type"),
		coolingCurState: gauge("cooling_device", "cur_state", "Current throttle state of the cooling device", "name", "type"),
		coolingMaxState: gauge("cooling_device", "max_state", "Maximum throttle state of the cooling device", "name", "type"),
	}, nil
}

func (c *thermalZoneCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	zones, err := c.fs.ClassThermalZoneStats()
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) || errors.Is(err, os.ErrInvalid) || errors.Is(err, syscall.EINVAL) {
		return ErrNoData
	}
	if err != nil {
		return fmt.Errorf("read /sys/class/thermal thermal zones: %w", err)
	}
	for _, zone := range zones {
		// As node_exporter, a zone is sent even when one of its files could
		// not be read (a sensor that is switched off reads EINVAL); its
		// temperature is then 0.
		if zone.ReadErrors != nil {
			c.logger.Debug("thermal zone incompletely read", "zone", zone.Name, "err", zone.ReadErrors)
		}
		ch <- c.zoneTemp.mustNewConstMetric(float64(zone.Temp)/1000, zone.Name, zone.Type)
	}

	devices, err := c.fs.ClassCoolingDeviceStats()
	if err != nil {
		return fmt.Errorf("read /sys/class/thermal cooling devices: %w", err)
	}
	for _, dev := range devices {
		ch <- c.coolingCurState.mustNewConstMetric(float64(dev.CurState), dev.Name, dev.Type)
		ch <- c.coolingMaxState.mustNewConstMetric(float64(dev.MaxState), dev.Name, dev.Type)
	}
	if len(zones) == 0 && len(devices) == 0 {
		return ErrNoData
	}
	return nil
}
