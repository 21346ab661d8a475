package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs/sysfs"
)

func init() {
	register("fibrechannel", true, newFibreChannelCollector)
}

// fibrechannelCollector reports the Fibre Channel host adapters of
// /sys/class/fc_host.
type fibrechannelCollector struct {
	fs       sysfs.FS
	logger   *slog.Logger
	info     typedDesc
	counters []fibrechannelCounter
}

// fibrechannelCounter is one file of /sys/class/fc_host/<host>/statistics
// under node_exporter's name.
type fibrechannelCounter struct {
	desc  typedDesc
	value func(*sysfs.FibreChannelCounters) *uint64
}

func newFibreChannelCollector(cfg Config) (Collector, error) {
	sysFS, err := sysfs.NewFS(cfg.SysPath)
	if err != nil {
		return nil, fmt.Errorf("open sysfs: %w", err)
	}
	counter := func(name, help string, value func(*sysfs.FibreChannelCounters) *uint64) fibrechannelCounter {
		return fibrechannelCounter{typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "fibrechannel", name), help, []string{"fc_host"}, nil,
		), prometheus.CounterValue}, value}
	}
	return &fibrechannelCollector{
		fs:     sysFS,
		logger: cfg.Logger,
		info: typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "fibrechannel", "info"),
			"Non-numeric data from /sys/class/fc_host/<host>, value is always 1.",
			[]string{"fc_host", "speed", "port_state", "port_type", "port_id", "port_name", "fabric_name", "symbolic_name", "supported_classes", "supported_speeds", "dev_loss_tmo"},
			nil,
		), prometheus.GaugeValue},
		counters: []fibrechannelCounter{
			counter("dumped_frames_total", "Number of dumped frames",
				func(c *sysfs.FibreChannelCounters) *uint64 { return c.DumpedFrames }),
			counter("error_frames_total", "Number of errors in frames",
				func(c *sysfs.FibreChannelCounters) *uint64 { return c.ErrorFrames }),
			counter("invalid_crc_total", "Invalid Cyclic Redundancy Check count",
				func(c *sysfs.FibreChannelCounters) *uint64 { return c.InvalidCRCCount }),
			counter("rx_frames_total", "Number of frames received",
				func(c *sysfs.FibreChannelCounters) *uint64 { return c.RXFrames }),
			counter("rx_words_total", "Number of words received by host port",
				func(c *sysfs.FibreChannelCounters) *uint64 { return c.RXWords }),
			counter("tx_frames_total", "Number of frames transmitted by host port",
				func(c *sysfs.FibreChannelCounters) *uint64 { return c.TXFrames }),
			counter("tx_words_total", "Number of words transmitted by host port",
				func(c *sysfs.FibreChannelCounters) *uint64 { return c.TXWords }),
			counter("seconds_since_last_reset_total", "Number of seconds since last host port reset",
				func(c *sysfs.FibreChannelCounters) *uint64 { return c.SecondsSinceLastReset }),
			counter("invalid_tx_words_total", "Number of invalid words transmitted by host port",
				func(c *sysfs.FibreChannelCounters) *uint64 { return c.InvalidTXWordCount }),
			counter("link_failure_total", "Number of times the host port link has failed",
				func(c *sysfs.FibreChannelCounters) *uint64 { return c.LinkFailureCount }),
			counter("loss_of_sync_total", "Number of failures on either bit or transmission word boundaries",
				func(c *sysfs.FibreChannelCounters) *uint64 { return c.LossOfSyncCount }),
			counter("loss_of_signal_total", "Number of times signal has been lost",
				func(c *sysfs.FibreChannelCounters) *uint64 { return c.LossOfSignalCount }),
			counter("nos_total", "Number Not_Operational Primitive Sequence received by host port",
				func(c *sysfs.FibreChannelCounters) *uint64 { return c.NosCount }),
			counter("fcp_packet_aborts_total", "Number of aborted packets",
				func(c *sysfs.FibreChannelCounters) *uint64 { return c.FCPPacketAborts }),
		},
	}, nil
}

// Update reports ErrNoData without /sys/class/fc_host (no FC adapter).
func (c *fibrechannelCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	hosts, err := c.fs.FibreChannelClass()
	if errors.Is(err, fs.ErrNotExist) {
		c.logger.Debug("fibrechannel statistics not found, skipping", "err", err)
		return ErrNoData
	}
	if err != nil {
		return fmt.Errorf("read class/fc_host: %w", err)
	}
	str := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	for name, host := range hosts {
		ch <- c.info.mustNewConstMetric(1, name,
			str(host.Speed), str(host.PortState), str(host.PortType), str(host.PortID),
			str(host.PortName), str(host.FabricName), str(host.SymbolicName),
			str(host.SupportedClasses), str(host.SupportedSpeeds), str(host.DevLossTMO))
		if host.Counters == nil {
			continue
		}
		for _, counter := range c.counters {
			v := counter.value(host.Counters)
			// A file the driver lacks is nil; one the HBA firmware does not
			// implement reads as all ones (0xffffffffffffffff).
			if v == nil || *v == math.MaxUint64 {
				continue
			}
			ch <- counter.desc.mustNewConstMetric(float64(*v), name)
		}
	}
	return nil
}
