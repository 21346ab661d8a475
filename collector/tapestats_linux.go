package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs/sysfs"
)

func init() {
	register("tapestats", true, newTapestatsCollector)
}

// tapestatsNanosecond converts the kernel's *_ns counters to seconds.
const tapestatsNanosecond = 1e-9

// tapestatsMetrics are the node_tape_* families, each with its value in
// /sys/class/scsi_tape/st*/stats (Documentation/scsi/st.rst).
var tapestatsMetrics = []struct {
	name, help string
	valueType  prometheus.ValueType
	value      func(*sysfs.SCSITapeCounters) float64
}{
	{"io_now", "The number of I/Os currently outstanding to this device.", prometheus.GaugeValue,
		func(s *sysfs.SCSITapeCounters) float64 { return float64(s.InFlight) }},
	{"io_time_seconds_total", "The amount of time spent waiting for all I/O to complete (including read and write). This includes tape movement commands such as seeking between file or set marks and implicit tape movement such as when rewind on close tape devices are used.", prometheus.CounterValue,
		func(s *sysfs.SCSITapeCounters) float64 { return float64(s.IoNs) * tapestatsNanosecond }},
	{"io_others_total", "The number of I/Os issued to the tape drive other than read or write commands. The time taken to complete these commands uses the following calculation io_time_seconds_total-read_time_seconds_total-write_time_seconds_total", prometheus.CounterValue,
		func(s *sysfs.SCSITapeCounters) float64 { return float64(s.OtherCnt) }},
	{"read_bytes_total", "The number of bytes read from the tape drive.", prometheus.CounterValue,
		func(s *sysfs.SCSITapeCounters) float64 { return float64(s.ReadByteCnt) }},
	{"reads_completed_total", "The number of read requests issued to the tape drive.", prometheus.CounterValue,
		func(s *sysfs.SCSITapeCounters) float64 { return float64(s.ReadCnt) }},
	{"read_time_seconds_total", "The amount of time spent waiting for read requests to complete.", prometheus.CounterValue,
		func(s *sysfs.SCSITapeCounters) float64 { return float64(s.ReadNs) * tapestatsNanosecond }},
	{"residual_total", "The number of times during a read or write we found the residual amount to be non-zero. This should mean that a program is issuing a read larger thean the block size on tape. For write not all data made it to tape.", prometheus.CounterValue,
		func(s *sysfs.SCSITapeCounters) float64 { return float64(s.ResidCnt) }},
	{"written_bytes_total", "The number of bytes written to the tape drive.", prometheus.CounterValue,
		func(s *sysfs.SCSITapeCounters) float64 { return float64(s.WriteByteCnt) }},
	{"writes_completed_total", "The number of write requests issued to the tape drive.", prometheus.CounterValue,
		func(s *sysfs.SCSITapeCounters) float64 { return float64(s.WriteCnt) }},
	{"write_time_seconds_total", "The amount of time spent waiting for write requests to complete.", prometheus.CounterValue,
		func(s *sysfs.SCSITapeCounters) float64 { return float64(s.WriteNs) * tapestatsNanosecond }},
}

// tapestatsCollector reports the I/O statistics of SCSI tape drives.
//
// node_exporter's --collector.tapestats.ignored-devices (default "^$",
// which ignores nothing) has no counterpart in Config yet; every st*
// device is reported.
type tapestatsCollector struct {
	fs     sysfs.FS
	logger *slog.Logger
	descs  []typedDesc // parallel to tapestatsMetrics
}

func newTapestatsCollector(cfg Config) (Collector, error) {
	fs, err := sysfs.NewFS(cfg.SysPath)
	if err != nil {
		return nil, fmt.Errorf("open sysfs: %w", err)
	}
	c := &tapestatsCollector{fs: fs, logger: cfg.Logger}
	for _, m := range tapestatsMetrics {
		c.descs = append(c.descs, typedDesc{
			prometheus.NewDesc(prometheus.BuildFQName(Namespace, "tape", m.name), m.help, []string{"device"}, nil),
			m.valueType,
		})
	}
	return c, nil
}

func (c *tapestatsCollector) Update(_ context.Context, ch chan<- prometheus.Metric) (err error) {
	// procfs v0.23.0 dereferences a nil pointer when a stats file does not
	// hold a number; that must fail this collector, not the exporter.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("parse SCSI tape stats: %v", r)
		}
	}()
	tapes, err := c.fs.SCSITapeClass()
	if errors.Is(err, fs.ErrNotExist) {
		c.logger.Debug("no SCSI tape devices", "err", err)
		return ErrNoData
	}
	if err != nil {
		return fmt.Errorf("read SCSI tape class: %w", err)
	}
	for _, tape := range tapes {
		for i, m := range tapestatsMetrics {
			ch <- c.descs[i].mustNewConstMetric(m.value(&tape.Counters), tape.Name)
		}
	}
	return nil
}
