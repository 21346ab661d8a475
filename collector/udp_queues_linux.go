package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

func init() {
	register("udp_queues", true, newUDPQueuesCollector)
}

// udpQueuesCollector reports the bytes queued on all UDP sockets, summed
// over the sockets of /proc/net/udp and /proc/net/udp6.
type udpQueuesCollector struct {
	fs     procfs.FS
	logger *slog.Logger
	queues typedDesc
}

func newUDPQueuesCollector(cfg Config) (Collector, error) {
	procFS, err := procfs.NewFS(cfg.ProcPath)
	if err != nil {
		return nil, fmt.Errorf("open procfs: %w", err)
	}
	return &udpQueuesCollector{
		fs:     procFS,
		logger: cfg.Logger,
		queues: typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "udp", "queues"),
			"Number of allocated memory in the kernel for UDP datagrams in bytes.",
			[]string{"queue", "ip"}, nil,
		), prometheus.GaugeValue},
	}, nil
}

// Update skips a missing file (a kernel without IPv4 or IPv6) and reports
// ErrNoData when both are missing, as node_exporter does.
func (c *udpQueuesCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	missing := 0
	for _, f := range []struct {
		name, ip string
		read     func() (*procfs.NetUDPSummary, error)
	}{
		{"net/udp", "v4", c.fs.NetUDPSummary},
		{"net/udp6", "v6", c.fs.NetUDP6Summary},
	} {
		sum, err := f.read()
		if errors.Is(err, fs.ErrNotExist) {
			c.logger.Debug("udp statistics not found, skipping", "file", f.name)
			missing++
			continue
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", f.name, err)
		}
		ch <- c.queues.mustNewConstMetric(float64(sum.TxQueueLength), "tx", f.ip)
		ch <- c.queues.mustNewConstMetric(float64(sum.RxQueueLength), "rx", f.ip)
	}
	if missing == 2 {
		return ErrNoData
	}
	return nil
}
