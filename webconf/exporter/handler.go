package exporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/warden-exporter/warden/webconf"
)

// Metrics is what an exporter's telemetry path exposes: Collectors (the
// same collectors on every scrape), Func (collectors chosen per scrape),
// or Named (collectors known by name, selectable with collect[] and
// exclude[] and limited per identity by the auth file's collectors:).
//
// Only Named metrics can honour a rule's collectors: limit, so an
// exporter built on Collectors or Func refuses, at start and on reload,
// an auth file that uses one.
type Metrics interface {
	// named returns the set behind Named, or nil.
	named() NamedSet
	collect(ctx context.Context, r *http.Request) ([]prometheus.Collector, error)
}

// ScrapeFunc returns what one scrape collects. ctx ends at the scrape's
// deadline (X-Prometheus-Scrape-Timeout-Seconds); the request carries the
// caller's identity (webconf.IdentityFrom). An error is the client's fault
// (a bad query parameter, say) and is answered with 400 and its text.
type ScrapeFunc func(ctx context.Context, r *http.Request) ([]prometheus.Collector, error)

// NamedSet is a set of collectors known by name, such as
// collector.NodeCollector.
type NamedSet interface {
	// Filter returns the names to collect for include (all when empty)
	// less exclude; naming a collector the set does not have is an error.
	Filter(include, exclude []string) ([]string, error)
	// Scrape returns the collector that runs the named collectors under ctx.
	Scrape(ctx context.Context, names []string) prometheus.Collector
}

// Collectors exposes the same collectors on every scrape.
func Collectors(cs ...prometheus.Collector) Metrics {
	return unnamed(func(context.Context, *http.Request) ([]prometheus.Collector, error) { return cs, nil })
}

// Func exposes what f returns for each scrape.
func Func(f ScrapeFunc) Metrics { return unnamed(f) }

// Named exposes a set of named collectors. A scrape collects those that
// collect[] names (all when it names none) less those exclude[] names, and
// only those the identity's rule allows.
func Named(set NamedSet) Metrics { return named{set} }

// NamedCollectors is a NamedSet of plain collectors, each under its name.
func NamedCollectors(cs map[string]prometheus.Collector) NamedSet { return collectorMap(cs) }

type unnamed ScrapeFunc

func (unnamed) named() NamedSet { return nil }
func (f unnamed) collect(ctx context.Context, r *http.Request) ([]prometheus.Collector, error) {
	return f(ctx, r)
}

type named struct{ set NamedSet }

func (n named) named() NamedSet { return n.set }

func (n named) collect(ctx context.Context, r *http.Request) ([]prometheus.Collector, error) {
	q := r.URL.Query()
	names, err := n.set.Filter(q["collect[]"], q["exclude[]"])
	if err != nil {
		return nil, err
	}
	if id, ok := webconf.IdentityFrom(r.Context()); ok && id.Collectors != nil {
		// The auth file limits this identity, whatever collect[] says.
		names = slices.DeleteFunc(names, func(name string) bool { return !slices.Contains(id.Collectors, name) })
		if names == nil {
			names = []string{} // nil would mean every collector
		}
	}
	return []prometheus.Collector{n.set.Scrape(ctx, names)}, nil
}

type collectorMap map[string]prometheus.Collector

func (m collectorMap) Filter(include, exclude []string) ([]string, error) {
	if len(include) > 0 && len(exclude) > 0 {
		return nil, errors.New("collect[] and exclude[] cannot be combined")
	}
	for _, name := range slices.Concat(include, exclude) {
		if _, ok := m[name]; !ok {
			return nil, fmt.Errorf("missing collector: %s", name)
		}
	}
	var names []string
	for name := range m {
		if (len(include) == 0 || slices.Contains(include, name)) && !slices.Contains(exclude, name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names, nil
}

func (m collectorMap) Scrape(_ context.Context, names []string) prometheus.Collector {
	cs := make(multi, 0, len(names))
	for _, name := range names {
		cs = append(cs, m[name])
	}
	return cs
}

// multi is several collectors registered as one.
type multi []prometheus.Collector

func (m multi) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m {
		c.Describe(ch)
	}
}

func (m multi) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m {
		c.Collect(ch)
	}
}

// HandlerOptions configures MetricsHandler.
type HandlerOptions struct {
	// Metrics is what the exporter exposes.
	Metrics Metrics
	// Always, if set, returns collectors every scrape adds (build info,
	// the security layer's metrics).
	Always func() []prometheus.Collector
	// ExporterMetrics adds go_*, process_* and promhttp_* metrics about the
	// exporter itself (--web.disable-exporter-metrics turns them off).
	ExporterMetrics bool
	// MaxRequests bounds concurrent scrapes; more get 503. Zero is no limit.
	MaxRequests int
	// Logger receives collection errors.
	Logger *slog.Logger
}

// scrapeTimeoutMargin is kept from Prometheus's scrape timeout so that the
// response is written before Prometheus gives up on it.
const scrapeTimeoutMargin = 500 * time.Millisecond

// MetricsHandler returns the handler for the telemetry path. Each scrape
// gathers into a registry of its own, so concurrent scrapes with different
// filters never share state, and gets a context that ends at the deadline
// Prometheus sends in X-Prometheus-Scrape-Timeout-Seconds.
func MetricsHandler(opts HandlerOptions) http.Handler {
	exporterReg := prometheus.NewRegistry()
	if opts.ExporterMetrics {
		exporterReg.MustRegister(
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
			collectors.NewGoCollector(),
		)
	}
	var slots chan struct{}
	if opts.MaxRequests > 0 {
		slots = make(chan struct{}, opts.MaxRequests)
	}
	errorLog := slog.NewLogLogger(opts.Logger.Handler(), slog.LevelError)

	scrape := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slots != nil {
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
			default:
				http.Error(w, "Limit of concurrent requests reached, try again later.", http.StatusServiceUnavailable)
				return
			}
		}
		ctx, cancel := scrapeContext(r)
		defer cancel()
		cs, err := opts.Metrics.collect(ctx, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		own := ownMetricsAllowed(r)
		if opts.Always != nil && own {
			cs = append(cs, opts.Always()...)
		}
		reg := prometheus.NewRegistry()
		for _, c := range cs {
			if err := reg.Register(c); err != nil {
				opts.Logger.Error("register collector for scrape", "err", err)
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
		}
		gatherers := prometheus.Gatherers{reg}
		if own {
			gatherers = append(gatherers, exporterReg)
		}
		promhttp.HandlerFor(gatherers, promhttp.HandlerOpts{
			ErrorLog:      errorLog,
			ErrorHandling: promhttp.ContinueOnError,
		}).ServeHTTP(w, r)
	})
	if !opts.ExporterMetrics {
		return scrape
	}
	return promhttp.InstrumentMetricHandler(exporterReg, scrape)
}

// OwnMetrics is the name an auth rule's collectors: gives to the
// exporter's own metrics (warden_*, build info, go_*, process_*,
// promhttp_*), which an identity with a collector limit sees only when
// its limit names it: they tell about the exporter, its clients and its
// certificates, not about what the limit allows.
const OwnMetrics = "exporter"

func ownMetricsAllowed(r *http.Request) bool {
	id, ok := webconf.IdentityFrom(r.Context())
	return !ok || id.Collectors == nil || slices.Contains(id.Collectors, OwnMetrics)
}

func scrapeContext(r *http.Request) (context.Context, context.CancelFunc) {
	if v := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 {
			d := time.Duration(secs * float64(time.Second))
			if d > 2*scrapeTimeoutMargin {
				d -= scrapeTimeoutMargin
			}
			return context.WithTimeout(r.Context(), d)
		}
	}
	return context.WithCancel(r.Context())
}
