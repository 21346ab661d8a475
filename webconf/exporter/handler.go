package exporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/warden-exporter/warden/internal/deadline"
	"github.com/warden-exporter/warden/internal/exposition"
	"github.com/warden-exporter/warden/internal/processmetrics"
	"github.com/warden-exporter/warden/internal/workers"
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
//
// A NamedSet runs its collectors under the deadline of the context Scrape
// gets: one not finished by then is left behind and reported failed, and
// not started again while that run has not returned (NamedCollectors and
// collector.NodeCollector both do this, through the same code). A set
// that counts these timeouts exposes the count with the exporter's own
// metrics by having a method ExporterMetrics() prometheus.Collector.
type NamedSet interface {
	// Filter returns the names to collect for include (all when empty)
	// less exclude; naming a collector the set does not have is an error.
	Filter(include, exclude []string) ([]string, error)
	// Scrape returns the collector that runs the named collectors under ctx.
	Scrape(ctx context.Context, names []string) prometheus.Collector
}

// exporterMetricser is a NamedSet with metrics about itself, such as
// warden_collector_timeouts_total.
type exporterMetricser interface {
	ExporterMetrics() prometheus.Collector
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
// A scrape runs them concurrently, each until the scrape's deadline: one
// left behind is logged with the reason, counted in
// warden_collector_timeouts_total, and not started again until it returns.
func NamedCollectors(cs map[string]prometheus.Collector) NamedSet {
	return &collectorMap{cs: cs, runner: deadline.NewRunner(nil)}
}

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

type collectorMap struct {
	cs     map[string]prometheus.Collector
	runner *deadline.Runner
}

func (m *collectorMap) Filter(include, exclude []string) ([]string, error) {
	if len(include) > 0 && len(exclude) > 0 {
		return nil, errors.New("collect[] and exclude[] cannot be combined")
	}
	for _, name := range slices.Concat(include, exclude) {
		if _, ok := m.cs[name]; !ok {
			return nil, fmt.Errorf("missing collector: %s", name)
		}
	}
	var names []string
	for name := range m.cs {
		if (len(include) == 0 || slices.Contains(include, name)) && !slices.Contains(exclude, name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names, nil
}

func (m *collectorMap) Scrape(ctx context.Context, names []string) prometheus.Collector {
	return &mapScrape{m: m, ctx: ctx, names: names}
}

// ExporterMetrics returns warden_collector_timeouts_total.
func (m *collectorMap) ExporterMetrics() prometheus.Collector { return m.runner }

// mapScrape is one scrape of a collectorMap.
type mapScrape struct {
	m     *collectorMap
	ctx   context.Context
	names []string
}

func (s *mapScrape) Describe(ch chan<- *prometheus.Desc) {
	for _, name := range s.names {
		s.m.cs[name].Describe(ch)
	}
}

// timeoutDesc names the invalid metric by which a collector left behind
// reaches the handler's error log; it is never exposed.
var timeoutDesc = prometheus.NewDesc("warden_collector_timeout", "A collector was left behind at the scrape deadline.", nil, nil)

// Collect runs the collectors at once, so that one that hangs does not
// hold back those after it until the deadline.
func (s *mapScrape) Collect(ch chan<- prometheus.Metric) {
	var wg sync.WaitGroup
	for _, name := range s.names {
		c := s.m.cs[name]
		workers.GoIn(&wg, func() {
			err := s.m.runner.Run(s.ctx, name, ch, func(_ context.Context, ch chan<- prometheus.Metric) error {
				c.Collect(ch)
				return nil
			})
			if err != nil {
				// The registry reports it as a gathering error, which the
				// handler logs; the other collectors' metrics are served.
				ch <- prometheus.NewInvalidMetric(timeoutDesc, fmt.Errorf("collector %s: %w", name, err))
			}
		})
	}
	wg.Wait()
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
	// ScrapeTimeoutOffset is kept from the timeout Prometheus sends in
	// X-Prometheus-Scrape-Timeout-Seconds, so that the response is written
	// before Prometheus gives up on it (--web.scrape-timeout-offset,
	// whose default is DefaultScrapeTimeoutOffset). Zero keeps none.
	ScrapeTimeoutOffset time.Duration
	// CollectorTimeout is a scrape's deadline when the request sends no
	// timeout (--collector.timeout). Zero is DefaultCollectorTimeout.
	CollectorTimeout time.Duration
	// Logger receives collection errors.
	Logger *slog.Logger
}

// Defaults of HandlerOptions and of the flags that set them.
const (
	DefaultScrapeTimeoutOffset = 500 * time.Millisecond
	DefaultCollectorTimeout    = 10 * time.Second
)

// MetricsHandler returns the handler for the telemetry path. Each scrape
// gathers into a registry of its own, so concurrent scrapes with different
// filters never share state, and gets a context that ends at its deadline
// (see scrapeTimeout). Named collectors not finished by then are left
// behind: the scrape answers with the others' metrics.
func MetricsHandler(opts HandlerOptions) http.Handler {
	opts.ScrapeTimeoutOffset = max(opts.ScrapeTimeoutOffset, 0)
	if opts.CollectorTimeout <= 0 {
		opts.CollectorTimeout = DefaultCollectorTimeout
	}
	exporterReg := prometheus.NewRegistry()
	if m, ok := opts.Metrics.named().(exporterMetricser); ok {
		// Gathered after the scrape's collectors, so that a scrape counts
		// its own timeouts.
		exporterReg.MustRegister(m.ExporterMetrics())
	}
	if opts.ExporterMetrics {
		exporterReg.MustRegister(
			processmetrics.New(), // client_golang's process collector, cheaper
			collectors.NewGoCollector(),
		)
	}
	var slots chan struct{}
	if opts.MaxRequests > 0 {
		slots = make(chan struct{}, opts.MaxRequests)
	}
	errorLog := slog.NewLogLogger(opts.Logger.Handler(), slog.LevelError)
	// Scrapes take turns to gather, as many at once as Go runs
	// goroutines: more would not finish sooner, and would hold more
	// memory (see exposition.Gate).
	gate := exposition.NewGate(runtime.GOMAXPROCS(0))

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
		timeout := scrapeTimeout(r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"), opts.ScrapeTimeoutOffset, opts.CollectorTimeout)
		// A collector left behind by an earlier scrape counts as hung
		// once it has run for --collector.timeout (see deadline).
		ctx, cancel := context.WithTimeout(deadline.WithHungAfter(r.Context(), opts.CollectorTimeout), timeout)
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
		var ownGatherers []prometheus.Gatherer
		if own {
			ownGatherers = append(ownGatherers, exporterReg)
		}
		// The text formats, which Prometheus and every other scraper ask
		// for unless told to use protobuf, are written by exposition, the
		// same bytes at a fraction of the cost (see its doc); protobuf by
		// promhttp.
		format := expfmt.NegotiateAccept(r.Header, expfmt.DefaultAcceptedFormats()...)
		if format.FormatType() == expfmt.TypeTextPlain {
			exposition.Serve(ctx, w, r, format, cs, ownGatherers, gate, errorLog)
			return
		}
		promhttp.HandlerFor(append(prometheus.Gatherers{reg}, ownGatherers...), promhttp.HandlerOpts{
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

// scrapeTimeout returns how long a scrape may collect:
//
//	header (seconds)        timeout
//	absent, not > 0, huge   collectorTimeout
//	more than 2*offset      header - offset
//	up to 2*offset          header / 2
//
// The last row keeps a margin when the offset would leave nothing.
func scrapeTimeout(header string, offset, collectorTimeout time.Duration) time.Duration {
	secs, err := strconv.ParseFloat(header, 64)
	d := time.Duration(secs * float64(time.Second))
	if header == "" || err != nil || !(secs > 0) || d <= 0 { // d <= 0: overflow
		return collectorTimeout
	}
	if d > 2*offset {
		return d - offset
	}
	return d / 2
}
