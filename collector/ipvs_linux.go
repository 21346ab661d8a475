package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

func init() {
	register("ipvs", true, newIPVSCollector)
}

// ipvsBackendLabel is a label a node_ipvs_backend_* series may carry, with
// how its value is read from a backend.
type ipvsBackendLabel struct {
	name  string
	value func(procfs.IPVSBackendStatus) string
}

// ipvsBackendLabels are all backend labels, in node_exporter's order.
var ipvsBackendLabels = []ipvsBackendLabel{
	{"local_address", func(b procfs.IPVSBackendStatus) string {
		if b.LocalAddress == nil { // a firewall-mark service has none
			return ""
		}
		return b.LocalAddress.String()
	}},
	{"local_port", func(b procfs.IPVSBackendStatus) string { return strconv.FormatUint(uint64(b.LocalPort), 10) }},
	{"remote_address", func(b procfs.IPVSBackendStatus) string { return b.RemoteAddress.String() }},
	{"remote_port", func(b procfs.IPVSBackendStatus) string { return strconv.FormatUint(uint64(b.RemotePort), 10) }},
	{"proto", func(b procfs.IPVSBackendStatus) string { return b.Proto }},
	{"local_mark", func(b procfs.IPVSBackendStatus) string { return b.LocalMark }},
}

// ipvsCollector reports the IP Virtual Server totals of /proc/net/ip_vs_stats
// and the connections and weight of each backend of /proc/net/ip_vs.
type ipvsCollector struct {
	fs     procfs.FS
	logger *slog.Logger
	// labels are indexes into ipvsBackendLabels of the labels configured.
	labels []int

	connections, incomingPackets, outgoingPackets, incomingBytes, outgoingBytes typedDesc
	backendActive, backendInactive, backendWeight                               typedDesc
}

func newIPVSCollector(cfg Config) (Collector, error) {
	procFS, err := procfs.NewFS(cfg.ProcPath)
	if err != nil {
		return nil, fmt.Errorf("open procfs: %w", err)
	}
	labels, names, err := ipvsParseLabels(cfg.IPVS.BackendLabels)
	if err != nil {
		return nil, err
	}
	counter := func(name, help string) typedDesc {
		return typedDesc{prometheus.NewDesc(prometheus.BuildFQName(Namespace, "ipvs", name), help, nil, nil), prometheus.CounterValue}
	}
	backend := func(name, help string) typedDesc {
		return typedDesc{prometheus.NewDesc(prometheus.BuildFQName(Namespace, "ipvs", name), help, names, nil), prometheus.GaugeValue}
	}
	return &ipvsCollector{
		fs:              procFS,
		logger:          cfg.Logger,
		labels:          labels,
		connections:     counter("connections_total", "The total number of connections made."),
		incomingPackets: counter("incoming_packets_total", "The total number of incoming packets."),
		outgoingPackets: counter("outgoing_packets_total", "The total number of outgoing packets."),
		incomingBytes:   counter("incoming_bytes_total", "The total amount of incoming data."),
		outgoingBytes:   counter("outgoing_bytes_total", "The total amount of outgoing data."),
		backendActive:   backend("backend_connections_active", "The current active connections by local and remote address."),
		backendInactive: backend("backend_connections_inactive", "The current inactive connections by local and remote address."),
		backendWeight:   backend("backend_weight", "The current backend weight by local and remote address."),
	}, nil
}

// ipvsParseLabels checks the configured backend labels and puts them in
// node_exporter's order, whatever order they were given in. Empty names are
// ignored; an unknown name is an error.
func ipvsParseLabels(configured []string) (indexes []int, names []string, err error) {
	var unknown []string
	for _, l := range configured {
		known := slices.ContainsFunc(ipvsBackendLabels, func(b ipvsBackendLabel) bool { return b.name == l })
		if l != "" && !known {
			unknown = append(unknown, l)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, nil, fmt.Errorf("unknown IPVS backend labels: %q", strings.Join(slices.Compact(unknown), ", "))
	}
	for i, l := range ipvsBackendLabels {
		if slices.Contains(configured, l.name) {
			indexes = append(indexes, i)
			names = append(names, l.name)
		}
	}
	return indexes, names, nil
}

// Update reports ErrNoData without /proc/net/ip_vs_stats (ip_vs not loaded).
func (c *ipvsCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	stats, err := c.fs.IPVSStats()
	if errors.Is(err, fs.ErrNotExist) {
		c.logger.Debug("ipvs collector metrics are not available for this system", "err", err)
		return ErrNoData
	}
	if err != nil {
		return fmt.Errorf("read net/ip_vs_stats: %w", err)
	}
	ch <- c.connections.mustNewConstMetric(float64(stats.Connections))
	ch <- c.incomingPackets.mustNewConstMetric(float64(stats.IncomingPackets))
	ch <- c.outgoingPackets.mustNewConstMetric(float64(stats.OutgoingPackets))
	ch <- c.incomingBytes.mustNewConstMetric(float64(stats.IncomingBytes))
	ch <- c.outgoingBytes.mustNewConstMetric(float64(stats.OutgoingBytes))

	backends, err := c.fs.IPVSBackendStatus()
	if err != nil {
		return fmt.Errorf("read net/ip_vs: %w", err)
	}
	// Backends that share the configured label values are summed, so that
	// leaving out, say, remote_port gives one series per remote address.
	type sum struct {
		labels                   []string
		active, inactive, weight uint64
	}
	sums := map[string]*sum{}
	var order []string
	for _, b := range backends {
		values := make([]string, len(c.labels))
		for i, l := range c.labels {
			values[i] = ipvsBackendLabels[l].value(b)
		}
		// NUL cannot occur in a label value read from the file, so the
		// joined values identify the series.
		key := strings.Join(values, "\x00")
		s, ok := sums[key]
		if !ok {
			s = &sum{labels: values}
			sums[key] = s
			order = append(order, key)
		}
		s.active += b.ActiveConn
		s.inactive += b.InactConn
		s.weight += b.Weight
	}
	for _, key := range order {
		s := sums[key]
		ch <- c.backendActive.mustNewConstMetric(float64(s.active), s.labels...)
		ch <- c.backendInactive.mustNewConstMetric(float64(s.inactive), s.labels...)
		ch <- c.backendWeight.mustNewConstMetric(float64(s.weight), s.labels...)
	}
	return nil
}
