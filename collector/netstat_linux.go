package collector

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"regexp"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

func init() {
	register("netstat", true, newNetstatCollector)
}

// netstatCollector reports the protocol counters of /proc/net/netstat,
// /proc/net/snmp and /proc/net/snmp6 as node_netstat_<Proto>_<Field>.
//
// It parses the files itself: procfs only offers per-process parsers into
// fixed structs, which drop any field a newer kernel adds, while the fields
// regexp may select any field the kernel prints.
type netstatCollector struct {
	netstatPath, snmpPath, snmp6Path string
	fields                           *regexp.Regexp

	// descs keeps, for each protocol and field seen, the descriptor of
	// its metric, or nil where the fields regexp does not select it: the
	// kernel prints the same few hundred fields every time, and matching
	// and building them on each scrape was most of this collector's work.
	descs descCache
}

func newNetstatCollector(cfg Config) (Collector, error) {
	fields, err := regexp.Compile(cfg.NetStat.Fields)
	if err != nil {
		return nil, fmt.Errorf("netstat fields %q: %w", cfg.NetStat.Fields, err)
	}
	return &netstatCollector{
		netstatPath: cfg.procFilePath("net/netstat"),
		snmpPath:    cfg.procFilePath("net/snmp"),
		snmp6Path:   cfg.procFilePath("net/snmp6"),
		fields:      fields,
	}, nil
}

// netstatProtocols maps a protocol (TcpExt, Ip6) to its fields and values.
type netstatProtocols map[string]map[string]float64

func (c *netstatCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	protocols := netstatProtocols{}
	// One buffer for the three files, each parsed before the next is
	// read: they are some 4 KiB each.
	buf := make([]byte, 0, 8<<10)
	for _, path := range []string{c.netstatPath, c.snmpPath} {
		data, err := readProcFile(path, buf) // its error names the path
		if err != nil {
			return err
		}
		table, err := parseNetstatTable(data)
		if err != nil {
			return fmt.Errorf("parse %s: %w", path, err)
		}
		maps.Copy(protocols, table)
		buf = data // the parsers copy what they keep
	}
	// Without IPv6 the kernel has no snmp6, which is not an error.
	data, err := readProcFile(c.snmp6Path, buf)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	default:
		table, err := parseNetstatSNMP6(data)
		if err != nil {
			return fmt.Errorf("parse %s: %w", c.snmp6Path, err)
		}
		maps.Copy(protocols, table)
	}

	type sample struct {
		desc  *prometheus.Desc
		err   error
		value float64
	}
	samples := make([]sample, 0, 64)
	for protocol, fields := range protocols {
		for field, value := range fields {
			desc, err := c.descs.get(protocol, field, func() *prometheus.Desc {
				key := protocol + "_" + field
				if !c.fields.MatchString(key) {
					return nil
				}
				// node_exporter exposes these untyped, with the kernel's
				// names run together in the help text.
				return prometheus.NewDesc(
					prometheus.BuildFQName(Namespace, "netstat", key),
					fmt.Sprintf("Statistic %s.", protocol+field),
					nil, nil,
				)
			})
			if desc != nil {
				samples = append(samples, sample{desc, err, value})
			}
		}
	}

	for _, s := range samples {
		// A name that is not a valid metric name (not UTF-8, from a
		// damaged --path.procfs tree) fails the scrape.
		if s.err != nil {
			return fmt.Errorf("netstat: %w", s.err)
		}
		ch <- mustNewConstMetric(s.desc, prometheus.UntypedValue, s.value)
	}
	return nil
}

// parseNetstatTable reads the format of /proc/net/netstat and /proc/net/snmp:
// pairs of lines, "Proto: Field1 Field2 ..." then "Proto: value1 value2 ...".
// Every value must parse, whether or not its field is reported.
func parseNetstatTable(data []byte) (netstatProtocols, error) {
	protocols := netstatProtocols{}
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		names := strings.Fields(s.Text())
		if len(names) == 0 {
			continue
		}
		if !s.Scan() {
			return nil, fmt.Errorf("%s header without a line of values", names[0])
		}
		values := strings.Fields(s.Text())
		protocol, ok := strings.CutSuffix(names[0], ":")
		if !ok || protocol == "" {
			return nil, fmt.Errorf("line %q does not start with a protocol name", s.Text())
		}
		if len(values) == 0 || values[0] != names[0] {
			return nil, fmt.Errorf("%s header followed by %q", protocol, s.Text())
		}
		if len(names) != len(values) {
			return nil, fmt.Errorf("%s has %d fields but %d values", protocol, len(names)-1, len(values)-1)
		}
		fields := make(map[string]float64, len(names)-1)
		for i, name := range names[1:] {
			v, err := strconv.ParseFloat(values[i+1], 64)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", protocol, name, err)
			}
			fields[name] = v
		}
		protocols[protocol] = fields
	}
	return protocols, s.Err()
}

// parseNetstatSNMP6 reads the format of /proc/net/snmp6, one "Ip6InReceives 1"
// per line. The protocol is the name up to and including its first "6";
// lines whose name has no "6" are skipped, as in node_exporter.
func parseNetstatSNMP6(data []byte) (netstatProtocols, error) {
	protocols := netstatProtocols{}
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) < 2 {
			continue
		}
		i := strings.Index(f[0], "6")
		if i < 0 {
			continue
		}
		protocol, field := f[0][:i+1], f[0][i+1:]
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f[0], err)
		}
		if protocols[protocol] == nil {
			protocols[protocol] = map[string]float64{}
		}
		protocols[protocol][field] = v
	}
	return protocols, s.Err()
}
