package webconf

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsOptions configures MetricsHandler.
type MetricsOptions struct {
	// Collectors returns what one scrape collects. ctx ends at the scrape's
	// deadline. An error is the client's fault (a bad collect[] parameter,
	// say) and answered with 400 and the error's text.
	Collectors func(ctx context.Context, r *http.Request) ([]prometheus.Collector, error)
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
func MetricsHandler(opts MetricsOptions) http.Handler {
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
		cs, err := opts.Collectors(ctx, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		reg := prometheus.NewRegistry()
		for _, c := range cs {
			if err := reg.Register(c); err != nil {
				opts.Logger.Error("register collector for scrape", "err", err)
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
		}
		promhttp.HandlerFor(prometheus.Gatherers{exporterReg, reg}, promhttp.HandlerOpts{
			ErrorLog:      errorLog,
			ErrorHandling: promhttp.ContinueOnError,
		}).ServeHTTP(w, r)
	})
	if !opts.ExporterMetrics {
		return scrape
	}
	return promhttp.InstrumentMetricHandler(exporterReg, scrape)
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
