package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs/nfs"
)

func init() {
	register("nfsd", true, newNFSdCollector)
}

// nfsdCollector reports the NFS server's statistics from /proc/net/rpc/nfsd.
type nfsdCollector struct {
	fs     nfs.FS
	logger *slog.Logger

	replyCacheHits, replyCacheMisses, replyCacheNoCache typedDesc
	fileHandlesStale                                    typedDesc
	diskBytesRead, diskBytesWritten                     typedDesc
	serverThreads                                       typedDesc
	readAheadCacheSize, readAheadCacheNotFound          typedDesc
	packets, connections                                typedDesc
	rpcErrors, serverRPCs                               typedDesc
	requests                                            typedDesc
}

// nfsdUnreported are the procfs fields that node_exporter leaves out of
// node_nfsd_requests_total: the NULL procedure and the NFSv4 operations
// that are unused or never counted on their own.
var nfsdUnreported = map[string]bool{
	"Null":      true,
	"Op0Unused": true,
	"Op1Unused": true,
	"Op2Future": true,
	"PutPubFH":  true,
	"PutRootFH": true,
}

func newNFSdCollector(cfg Config) (Collector, error) {
	nfsFS, err := nfs.NewFS(cfg.ProcPath)
	if err != nil {
		return nil, fmt.Errorf("open procfs: %w", err)
	}
	desc := func(t prometheus.ValueType, name, help string, labels ...string) typedDesc {
		return typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "nfsd", name), help, labels, nil,
		), t}
	}
	counter := func(name, help string, labels ...string) typedDesc {
		return desc(prometheus.CounterValue, name, help, labels...)
	}
	gauge := func(name, help string) typedDesc {
		return desc(prometheus.GaugeValue, name, help)
	}
	return &nfsdCollector{
		fs:                     nfsFS,
		logger:                 cfg.Logger,
		replyCacheHits:         counter("reply_cache_hits_total", "Total number of NFSd Reply Cache hits (client lost server response)."),
		replyCacheMisses:       counter("reply_cache_misses_total", "Total number of NFSd Reply Cache an operation that requires caching (idempotent)."),
		replyCacheNoCache:      counter("reply_cache_nocache_total", "Total number of NFSd Reply Cache non-idempotent operations (rename/delete/…)."),
		fileHandlesStale:       counter("file_handles_stale_total", "Total number of NFSd stale file handles"),
		diskBytesRead:          counter("disk_bytes_read_total", "Total NFSd bytes read."),
		diskBytesWritten:       counter("disk_bytes_written_total", "Total NFSd bytes written."),
		serverThreads:          gauge("server_threads", "Total number of NFSd kernel threads that are running."),
		readAheadCacheSize:     gauge("read_ahead_cache_size_blocks", "How large the read ahead cache is in blocks."),
		readAheadCacheNotFound: counter("read_ahead_cache_not_found_total", "Total number of NFSd read ahead cache not found."),
		packets:                counter("packets_total", "Total NFSd network packets (sent+received) by protocol type.", "proto"),
		connections:            counter("connections_total", "Total number of NFSd TCP connections."),
		rpcErrors:              counter("rpc_errors_total", "Total number of NFSd RPC errors by error type.", "error"),
		serverRPCs:             counter("server_rpcs_total", "Total number of NFSd RPCs."),
		requests:               counter("requests_total", "Total number NFSd Requests by method and protocol.", "proto", "method"),
	}, nil
}

func (c *nfsdCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	stats, err := c.fs.ServerRPCStats()
	if errors.Is(err, fs.ErrNotExist) {
		// No NFS server module loaded.
		c.logger.Debug("not collecting NFS server metrics", "err", err)
		return ErrNoData
	}
	if err != nil {
		return fmt.Errorf("read /proc/net/rpc/nfsd: %w", err)
	}

	ch <- c.replyCacheHits.mustNewConstMetric(float64(stats.ReplyCache.Hits))
	ch <- c.replyCacheMisses.mustNewConstMetric(float64(stats.ReplyCache.Misses))
	ch <- c.replyCacheNoCache.mustNewConstMetric(float64(stats.ReplyCache.NoCache))
	// The kernel no longer fills the other file handle counters.
	ch <- c.fileHandlesStale.mustNewConstMetric(float64(stats.FileHandles.Stale))
	ch <- c.diskBytesRead.mustNewConstMetric(float64(stats.InputOutput.Read))
	ch <- c.diskBytesWritten.mustNewConstMetric(float64(stats.InputOutput.Write))
	ch <- c.serverThreads.mustNewConstMetric(float64(stats.Threads.Threads))
	ch <- c.readAheadCacheSize.mustNewConstMetric(float64(stats.ReadAheadCache.CacheSize))
	ch <- c.readAheadCacheNotFound.mustNewConstMetric(float64(stats.ReadAheadCache.NotFound))
	ch <- c.packets.mustNewConstMetric(float64(stats.Network.UDPCount), "udp")
	ch <- c.packets.mustNewConstMetric(float64(stats.Network.TCPCount), "tcp")
	ch <- c.connections.mustNewConstMetric(float64(stats.Network.TCPConnect))
	ch <- c.rpcErrors.mustNewConstMetric(float64(stats.ServerRPC.BadFmt), "fmt")
	ch <- c.rpcErrors.mustNewConstMetric(float64(stats.ServerRPC.BadAuth), "auth")
	ch <- c.rpcErrors.mustNewConstMetric(float64(stats.ServerRPC.BadcInt), "cInt")
	ch <- c.serverRPCs.mustNewConstMetric(float64(stats.ServerRPC.RPCCount))

	sendProcedures(ch, c.requests, "2", &stats.V2Stats, nfsdUnreported)
	sendProcedures(ch, c.requests, "3", &stats.V3Stats, nfsdUnreported)
	sendProcedures(ch, c.requests, "4", &stats.V4Ops, nfsdUnreported)
	ch <- c.requests.mustNewConstMetric(float64(stats.WdelegGetattr), "4", "WdelegGetattr")
	return nil
}
