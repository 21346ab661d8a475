package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/procfs"
)

func init() {
	register("sockstat", true, newSockstatCollector)
}

// sockstatCollector reports /proc/net/sockstat and /proc/net/sockstat6.
// Its metric names come from the file, node_sockstat_<PROTO>_<field>, as in
// node_exporter, so the descriptors are made while reading.
type sockstatCollector struct {
	fs     procfs.FS
	logger *slog.Logger
	// pageSize converts the mem fields, counted in pages, to bytes; tests
	// set it so that the golden file does not depend on the machine.
	pageSize int
	used     typedDesc
	descs    descCache
}

func newSockstatCollector(cfg Config) (Collector, error) {
	procFS, err := procfs.NewFS(cfg.ProcPath)
	if err != nil {
		return nil, fmt.Errorf("open procfs: %w", err)
	}
	return &sockstatCollector{
		fs:       procFS,
		logger:   cfg.Logger,
		pageSize: os.Getpagesize(),
		used: typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "sockstat", "sockets_used"),
			"Number of IPv4 sockets in use.",
			nil, nil,
		), prometheus.GaugeValue},
	}, nil
}

// Update skips a missing file, as node_exporter does: a kernel may be built
// without IPv4 or IPv6. Without either it sends nothing and succeeds.
func (c *sockstatCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	for _, f := range []struct {
		name string
		read func() (*procfs.NetSockstat, error)
	}{
		{"net/sockstat", c.fs.NetSockstat},
		{"net/sockstat6", c.fs.NetSockstat6},
	} {
		stat, err := f.read()
		if errors.Is(err, fs.ErrNotExist) {
			c.logger.Debug("sockstat statistics not found, skipping", "file", f.name)
			continue
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", f.name, err)
		}
		c.send(ch, stat)
	}
	return nil
}

// sockstatField is a key of a sockstat line; value is nil where the
// protocol's line does not have it.
type sockstatField struct {
	name  string
	value *int
}

func (c *sockstatCollector) send(ch chan<- prometheus.Metric, stat *procfs.NetSockstat) {
	// Only sockstat (IPv4) has the "sockets: used" line.
	if stat.Used != nil {
		ch <- c.used.mustNewConstMetric(float64(*stat.Used))
	}
	for _, p := range stat.Protocols {
		fields := []sockstatField{
			{"inuse", &p.InUse},
			{"orphan", p.Orphan},
			{"tw", p.TW},
			{"alloc", p.Alloc},
			{"mem", p.Mem},
			{"memory", p.Memory},
		}
		// mem counts pages; node_exporter adds it in bytes. (memory, of
		// FRAG, is in bytes already.)
		if p.Mem != nil {
			bytes := *p.Mem * c.pageSize
			fields = append(fields, sockstatField{"mem_bytes", &bytes})
		}
		for _, f := range fields {
			if f.value == nil {
				continue
			}
			desc, _ := c.descs.get(p.Protocol, f.name, func() *prometheus.Desc {
				name := prometheus.BuildFQName(Namespace, "sockstat", p.Protocol+"_"+f.name)
				if !model.LegacyValidation.IsValidMetricName(name) {
					return nil // a protocol name no metric can carry
				}
				return prometheus.NewDesc(
					name,
					fmt.Sprintf("Number of %s sockets in state %s.", p.Protocol, f.name),
					nil, nil,
				)
			})
			if desc != nil { // a valid name: no error
				ch <- mustNewConstMetric(desc, prometheus.GaugeValue, float64(*f.value))
			}
		}
	}
}
