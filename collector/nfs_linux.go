package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"reflect"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs/nfs"
)

func init() {
	register("nfs", true, newNFSCollector)
}

// nfsCollector reports the NFS client's statistics from /proc/net/rpc/nfs.
type nfsCollector struct {
	fs     nfs.FS
	logger *slog.Logger

	packets, connections, rpcs, retransmissions, authRefreshes, requests typedDesc
}

func newNFSCollector(cfg Config) (Collector, error) {
	nfsFS, err := nfs.NewFS(cfg.ProcPath)
	if err != nil {
		return nil, fmt.Errorf("open procfs: %w", err)
	}
	counter := func(name, help string, labels ...string) typedDesc {
		return typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "nfs", name), help, labels, nil,
		), prometheus.CounterValue}
	}
	return &nfsCollector{
		fs:     nfsFS,
		logger: cfg.Logger,
		// node_exporter's help says "NFSd" for these client series too;
		// it is kept so that the exposition matches.
		packets:         counter("packets_total", "Total NFSd network packets (sent+received) by protocol type.", "protocol"),
		connections:     counter("connections_total", "Total number of NFSd TCP connections."),
		rpcs:            counter("rpcs_total", "Total number of RPCs performed."),
		retransmissions: counter("rpc_retransmissions_total", "Number of RPC transmissions performed."),
		authRefreshes:   counter("rpc_authentication_refreshes_total", "Number of RPC authentication refreshes performed."),
		requests:        counter("requests_total", "Number of NFS procedures invoked.", "proto", "method"),
	}, nil
}

func (c *nfsCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	stats, err := c.fs.ClientRPCStats()
	if errors.Is(err, fs.ErrNotExist) {
		// No NFS client module loaded.
		c.logger.Debug("not collecting NFS client metrics", "err", err)
		return ErrNoData
	}
	if err != nil {
		return fmt.Errorf("read /proc/net/rpc/nfs: %w", err)
	}

	ch <- c.packets.mustNewConstMetric(float64(stats.Network.UDPCount), "udp")
	ch <- c.packets.mustNewConstMetric(float64(stats.Network.TCPCount), "tcp")
	ch <- c.connections.mustNewConstMetric(float64(stats.Network.TCPConnect))
	ch <- c.rpcs.mustNewConstMetric(float64(stats.ClientRPC.RPCCount))
	ch <- c.retransmissions.mustNewConstMetric(float64(stats.ClientRPC.Retransmissions))
	ch <- c.authRefreshes.mustNewConstMetric(float64(stats.ClientRPC.AuthRefreshes))

	// Every procedure procfs knows is reported, named after its field,
	// including those of versions the kernel did not list (as zero).
	sendProcedures(ch, c.requests, "2", &stats.V2Stats, nil)
	sendProcedures(ch, c.requests, "3", &stats.V3Stats, nil)
	sendProcedures(ch, c.requests, "4", &stats.ClientV4Stats, nil)
	return nil
}

// sendProcedures sends one counter per uint64 field of the struct that
// stats points to, labelled with proto and the field's name, leaving out
// the fields named in skip. procfs names its fields after the kernel's
// procedures, and node_exporter uses those names as the method label.
func sendProcedures(ch chan<- prometheus.Metric, d typedDesc, proto string, stats any, skip map[string]bool) {
	v := reflect.ValueOf(stats).Elem()
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		if skip[name] {
			continue
		}
		ch <- d.mustNewConstMetric(float64(v.Field(i).Uint()), proto, name)
	}
}
