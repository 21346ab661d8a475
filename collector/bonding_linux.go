package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

func init() {
	register("bonding", true, newBondingCollector)
}

// bondingCollector counts the configured and the active (MII status up)
// slaves of each bonding master. procfs has no parser for the bonding
// driver's sysfs files, so they are read here.
type bondingCollector struct {
	netPath        string
	logger         *slog.Logger
	slaves, active typedDesc
}

// bondingStatus is the number of configured and of active slaves of a master.
type bondingStatus struct {
	slaves, active int
}

func newBondingCollector(cfg Config) (Collector, error) {
	gauge := func(name, help string) typedDesc {
		return typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "bonding", name), help, []string{"master"}, nil,
		), prometheus.GaugeValue}
	}
	return &bondingCollector{
		netPath: filepath.Join(cfg.SysPath, "class/net"),
		logger:  cfg.Logger,
		slaves:  gauge("slaves", "Number of configured slaves per bonding interface."),
		active:  gauge("active", "Number of active slaves per bonding interface."),
	}, nil
}

// Update reports ErrNoData, as node_exporter does, when any of the files is
// missing: without the bonding module there is no bonding_masters, and a
// master or slave may go away while it is read.
func (c *bondingCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	masters, err := c.readBonding()
	if errors.Is(err, fs.ErrNotExist) {
		c.logger.Debug("no bonding information", "err", err)
		return ErrNoData
	}
	if err != nil {
		return err
	}
	for master, status := range masters {
		ch <- c.slaves.mustNewConstMetric(float64(status.slaves), master)
		ch <- c.active.mustNewConstMetric(float64(status.active), master)
	}
	return nil
}

func (c *bondingCollector) readBonding() (map[string]bondingStatus, error) {
	data, err := readFile(filepath.Join(c.netPath, "bonding_masters"))
	if err != nil {
		return nil, err // names the path
	}
	masters := map[string]bondingStatus{}
	for _, master := range strings.Fields(string(data)) {
		slaves, err := readFile(filepath.Join(c.netPath, master, "bonding/slaves"))
		if err != nil {
			return nil, err
		}
		var status bondingStatus
		for _, slave := range strings.Fields(string(slaves)) {
			up, err := c.slaveUp(master, slave)
			if err != nil {
				return nil, err
			}
			status.slaves++
			if up {
				status.active++
			}
		}
		masters[master] = status
	}
	return masters, nil
}

// slaveUp reads the MII status of a slave, linked from the master as
// lower_<slave>, or as slave_<slave> on older kernels.
func (c *bondingCollector) slaveUp(master, slave string) (bool, error) {
	state, err := readFile(filepath.Join(c.netPath, master, "lower_"+slave, "bonding_slave/mii_status"))
	if errors.Is(err, fs.ErrNotExist) {
		state, err = readFile(filepath.Join(c.netPath, master, "slave_"+slave, "bonding_slave/mii_status"))
	}
	if err != nil {
		return false, fmt.Errorf("read MII status of %s in %s: %w", slave, master, err)
	}
	return strings.TrimSpace(string(state)) == "up", nil
}
