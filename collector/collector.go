// Package collector reads node metrics from /proc, /sys and the root file
// system and exposes them with node_exporter's metric names, so that
// dashboards and alert rules written for node_exporter work unchanged.
//
// It is a library: every collector is built from a Config value, and
// nothing in this package reads flags or global state. A command line
// binds flags onto a Config with Config.AddFlags and EnabledFlags.
package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warden-exporter/warden/internal/deadline"
	"github.com/warden-exporter/warden/internal/exposition"
	"github.com/warden-exporter/warden/internal/workers"
)

// Namespace is the metric namespace of every node metric, as in node_exporter.
const Namespace = "node"

var (
	scrapeDurationDesc = prometheus.NewDesc(
		prometheus.BuildFQName(Namespace, "scrape", "collector_duration_seconds"),
		"node_exporter: Duration of a collector scrape.",
		[]string{"collector"}, nil,
	)
	scrapeSuccessDesc = prometheus.NewDesc(
		prometheus.BuildFQName(Namespace, "scrape", "collector_success"),
		"node_exporter: Whether a collector succeeded.",
		[]string{"collector"}, nil,
	)
)

// Collector reads one area of the node and sends its metrics.
type Collector interface {
	// Update sends the current metrics on ch. It returns ErrNoData when the
	// node has nothing of this kind (no such hardware), which is not a failure.
	Update(ctx context.Context, ch chan<- prometheus.Metric) error
}

// ErrNoData reports that a collector found nothing to collect on this node.
// It is logged at debug level and still counts as a successful scrape.
var ErrNoData = errors.New("collector returned no data")

// factory describes a collector that can be built from a Config.
type factory struct {
	defaultEnabled bool
	build          func(Config) (Collector, error)
}

// factories is filled by the init functions of the collector files and read
// only afterwards, in the way of node_exporter's registry.
var factories = map[string]factory{}

func register(name string, defaultEnabled bool, build func(Config) (Collector, error)) {
	if _, dup := factories[name]; dup {
		panic("collector registered twice: " + name)
	}
	factories[name] = factory{defaultEnabled: defaultEnabled, build: build}
}

// Names returns the names of all collectors this package provides, sorted.
func Names() []string {
	names := make([]string, 0, len(factories))
	for name := range factories {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// DefaultEnabled reports whether the named collector runs when no flag says otherwise.
func DefaultEnabled(name string) bool {
	return factories[name].defaultEnabled
}

// NodeCollector runs a set of collectors concurrently and reports for each
// whether it succeeded and how long it took. Under a scrape's deadline, a
// collector that has not finished in time is left behind and reported
// failed, and not started again until its late run returns (see
// internal/deadline).
type NodeCollector struct {
	collectors map[string]Collector
	logger     *slog.Logger
	runner     *deadline.Runner
}

// New builds the named collectors from cfg. An unknown name is an error.
func New(cfg Config, names []string) (*NodeCollector, error) {
	cfg = cfg.withDefaults()
	n := &NodeCollector{collectors: make(map[string]Collector, len(names)), logger: cfg.Logger, runner: deadline.NewRunner(cfg.Logger)}
	for _, name := range names {
		f, ok := factories[name]
		if !ok {
			return nil, fmt.Errorf("unknown collector %q (known: %v)", name, Names())
		}
		c, err := f.build(cfg.forCollector(name))
		if err != nil {
			return nil, fmt.Errorf("collector %s: %w", name, err)
		}
		n.collectors[name] = c
	}
	return n, nil
}

// Enabled returns the names of the collectors n runs, sorted.
func (n *NodeCollector) Enabled() []string {
	names := make([]string, 0, len(n.collectors))
	for name := range n.collectors {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Filter returns the subset of collectors to run for one scrape: those in
// include (all when include is empty) less those in exclude. It is an error
// to name a collector that is not enabled, and to give both lists, as
// node_exporter's collect[] and exclude[] parameters do.
func (n *NodeCollector) Filter(include, exclude []string) ([]string, error) {
	if len(include) > 0 && len(exclude) > 0 {
		return nil, errors.New("collect[] and exclude[] cannot be combined")
	}
	for _, name := range slices.Concat(include, exclude) {
		if _, ok := n.collectors[name]; !ok {
			if _, known := factories[name]; known {
				return nil, fmt.Errorf("disabled collector: %s", name)
			}
			return nil, fmt.Errorf("missing collector: %s", name)
		}
	}
	if len(include) > 0 {
		names := slices.Clone(include)
		sort.Strings(names)
		return slices.Compact(names), nil
	}
	names := n.Enabled()
	return slices.DeleteFunc(names, func(s string) bool { return slices.Contains(exclude, s) }), nil
}

// Scrape returns a prometheus.Collector that runs the named collectors (all
// enabled ones when names is nil) under ctx. Build one per scrape: ctx
// carries that scrape's deadline, at which a collector still running is
// left behind and reported with node_scrape_collector_success 0.
func (n *NodeCollector) Scrape(ctx context.Context, names []string) prometheus.Collector {
	if names == nil {
		names = n.Enabled()
	}
	return &scrape{node: n, ctx: ctx, names: names}
}

// Describe implements prometheus.Collector for a scrape of every enabled collector.
func (n *NodeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- scrapeDurationDesc
	ch <- scrapeSuccessDesc
}

// Collect implements prometheus.Collector for a scrape of every enabled
// collector, without a deadline.
func (n *NodeCollector) Collect(ch chan<- prometheus.Metric) {
	n.Scrape(context.Background(), nil).Collect(ch)
}

// ExporterMetrics returns warden_collector_timeouts_total, which counts
// the scrapes that got no result from a collector by their deadline. It
// belongs with the exporter's own metrics, which is where the framework
// (webconf/exporter) exposes it.
func (n *NodeCollector) ExporterMetrics() prometheus.Collector { return n.runner }

type scrape struct {
	node  *NodeCollector
	ctx   context.Context
	names []string
}

func (s *scrape) Describe(ch chan<- *prometheus.Desc) { s.node.Describe(ch) }

func (s *scrape) Collect(ch chan<- prometheus.Metric) {
	var wg sync.WaitGroup
	for _, name := range s.names {
		c, ok := s.node.collectors[name]
		if !ok {
			continue
		}
		workers.GoIn(&wg, func() { s.node.execute(s.ctx, name, c, ch) })
	}
	wg.Wait()
}

func (n *NodeCollector) execute(ctx context.Context, name string, c Collector, ch chan<- prometheus.Metric) {
	begin := time.Now()
	err := n.runner.Run(ctx, name, ch, c.Update)
	duration := time.Since(begin)
	success := 1.0
	switch {
	case errors.Is(err, ErrNoData):
		n.logger.Debug("collector returned no data", "collector", name, "duration_seconds", duration.Seconds(), "err", err)
	case err != nil:
		success = 0
		n.logger.Error("collector failed", "collector", name, "duration_seconds", duration.Seconds(), "err", err)
	default:
		n.logger.Debug("collector succeeded", "collector", name, "duration_seconds", duration.Seconds())
	}
	ch <- exposition.MustNewConstMetric(scrapeDurationDesc, prometheus.GaugeValue, duration.Seconds(), name)
	ch <- exposition.MustNewConstMetric(scrapeSuccessDesc, prometheus.GaugeValue, success, name)
}

// typedDesc pairs a descriptor with its value type.
type typedDesc struct {
	desc      *prometheus.Desc
	valueType prometheus.ValueType
}

// mustNewConstMetric is prometheus.MustNewConstMetric in the form that the
// framework's text exposition writes without a protobuf round trip (see
// exposition.MustNewConstMetric); it is the same metric to a registry.
func (d typedDesc) mustNewConstMetric(value float64, labels ...string) prometheus.Metric {
	return mustNewConstMetric(d.desc, d.valueType, value, labels...)
}

// mustNewConstMetric is exposition.MustNewConstMetric with label values
// made UTF-8 (see validLabels).
func mustNewConstMetric(desc *prometheus.Desc, valueType prometheus.ValueType, value float64, labels ...string) prometheus.Metric {
	return exposition.MustNewConstMetric(desc, valueType, value, validLabels(labels)...)
}

// validLabels returns labels with every byte that is not UTF-8 replaced by
// U+FFFD. Label values come from files (a device name, an address, a
// sensor label, a directory name) that may hold any bytes, and a metric
// with a value that is not UTF-8 panics.
func validLabels(labels []string) []string {
	for i, v := range labels {
		if utf8.ValidString(v) {
			continue
		}
		out := slices.Clone(labels)
		for j := i; j < len(out); j++ {
			out[j] = strings.ToValidUTF8(out[j], "\uFFFD")
		}
		return out
	}
	return labels
}
