package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs/bcachefs"
)

func init() {
	register("bcachefs", true, newBcachefsCollector)
}

// bcachefsCounterNameRE matches what a kernel counter name may hold that a
// metric name may not, with the underscores around it, as node_exporter's
// SanitizeMetricName does.
var bcachefsCounterNameRE = regexp.MustCompile(`_*[^0-9A-Za-z_]+_*`)

// bcachefsCollector reports the statistics of mounted bcachefs file systems
// from /sys/fs/bcachefs/<uuid>.
type bcachefsCollector struct {
	fs     bcachefs.FS
	logger *slog.Logger

	info, btreeCacheSize                  typedDesc
	compressed, uncompressed              typedDesc
	errors                                typedDesc
	btreeWrites, btreeWriteAverageSize    typedDesc
	deviceInfo, deviceBucketSize          typedDesc
	deviceBuckets, deviceDurability       typedDesc
	deviceIODoneBytes, deviceIOErrorTotal typedDesc
}

func newBcachefsCollector(cfg Config) (Collector, error) {
	fs, err := bcachefs.NewFS(cfg.SysPath)
	if err != nil {
		return nil, fmt.Errorf("open sysfs: %w", err)
	}
	desc := func(name, help string, vt prometheus.ValueType, labels ...string) typedDesc {
		return typedDesc{prometheus.NewDesc(prometheus.BuildFQName(Namespace, "bcachefs", name), help, labels, nil), vt}
	}
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	return &bcachefsCollector{
		fs:                    fs,
		logger:                cfg.Logger,
		info:                  desc("info", "Filesystem information.", gauge, "uuid"),
		btreeCacheSize:        desc("btree_cache_size_bytes", "Btree cache memory usage in bytes.", gauge, "uuid"),
		compressed:            desc("compression_compressed_bytes", "Compressed size by algorithm.", gauge, "uuid", "algorithm"),
		uncompressed:          desc("compression_uncompressed_bytes", "Uncompressed size by algorithm.", gauge, "uuid", "algorithm"),
		errors:                desc("errors_total", "Error count by error type.", counter, "uuid", "error_type"),
		btreeWrites:           desc("btree_writes_total", "Number of btree writes by type.", counter, "uuid", "type"),
		btreeWriteAverageSize: desc("btree_write_average_size_bytes", "Average btree write size by type.", gauge, "uuid", "type"),
		deviceInfo:            desc("device_info", "Device information.", gauge, "uuid", "device", "label", "state"),
		deviceBucketSize:      desc("device_bucket_size_bytes", "Bucket size in bytes.", gauge, "uuid", "device"),
		deviceBuckets:         desc("device_buckets", "Total number of buckets.", gauge, "uuid", "device"),
		deviceDurability:      desc("device_durability", "Device durability setting.", gauge, "uuid", "device"),
		deviceIODoneBytes:     desc("device_io_done_bytes_total", "IO bytes by operation type and data type.", counter, "uuid", "device", "operation", "data_type"),
		deviceIOErrorTotal:    desc("device_io_errors_total", "IO errors by error type.", counter, "uuid", "device", "type"),
	}, nil
}

func (c *bcachefsCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	stats, err := c.fs.Stats()
	if errors.Is(err, fs.ErrNotExist) {
		c.logger.Debug("bcachefs is not loaded", "err", err)
		return ErrNoData
	}
	if err != nil {
		return fmt.Errorf("read bcachefs stats: %w", err)
	}
	if len(stats) == 0 {
		return ErrNoData
	}
	for _, s := range stats {
		uuid := s.UUID
		ch <- c.info.mustNewConstMetric(1, uuid)
		ch <- c.btreeCacheSize.mustNewConstMetric(float64(s.BtreeCacheSizeBytes), uuid)
		for algorithm, comp := range s.Compression {
			ch <- c.compressed.mustNewConstMetric(float64(comp.CompressedBytes), uuid, algorithm)
			ch <- c.uncompressed.mustNewConstMetric(float64(comp.UncompressedBytes), uuid, algorithm)
		}
		for errorType, e := range s.Errors {
			ch <- c.errors.mustNewConstMetric(float64(e.Count), uuid, errorType)
		}
		// Every file in counters/ is a family of its own, as in node_exporter.
		for name, counter := range s.Counters {
			desc := prometheus.NewDesc(
				prometheus.BuildFQName(Namespace, "bcachefs", bcachefsCounterNameRE.ReplaceAllString(name, "_")+"_total"),
				fmt.Sprintf("Bcachefs counter %s since filesystem creation.", name),
				[]string{"uuid"}, nil,
			)
			ch <- mustNewConstMetric(desc, prometheus.CounterValue, float64(counter.SinceFilesystemCreation), uuid)
		}
		for writeType, w := range s.BtreeWrites {
			ch <- c.btreeWrites.mustNewConstMetric(float64(w.Count), uuid, writeType)
			ch <- c.btreeWriteAverageSize.mustNewConstMetric(float64(w.SizeBytes), uuid, writeType)
		}
		for device, dev := range s.Devices {
			if dev == nil {
				continue
			}
			ch <- c.deviceInfo.mustNewConstMetric(1, uuid, device, dev.Label, dev.State)
			ch <- c.deviceBucketSize.mustNewConstMetric(float64(dev.BucketSizeBytes), uuid, device)
			ch <- c.deviceBuckets.mustNewConstMetric(float64(dev.Buckets), uuid, device)
			ch <- c.deviceDurability.mustNewConstMetric(float64(dev.Durability), uuid, device)
			for op, dataTypes := range dev.IODone {
				for dataType, v := range dataTypes {
					ch <- c.deviceIODoneBytes.mustNewConstMetric(float64(v), uuid, device, op, dataType)
				}
			}
			for errorType, v := range dev.IOErrors {
				ch <- c.deviceIOErrorTotal.mustNewConstMetric(float64(v), uuid, device, errorType)
			}
		}
	}
	return nil
}
