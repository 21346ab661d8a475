// Package exporter is the framework of a Warden exporter: the standard
// flags, logging, build info, landing page, health endpoints, graceful
// shutdown, an optional alert client, and the telemetry path with its
// per-scrape deadline and collector selection, served through webconf's
// security layer. It stands to webconf as exporter-toolkit's bootstrap
// stands to its web package: webconf serves securely, this package makes
// a program of it.
//
// An exporter's collectors run on goroutines kept from one scrape to the
// next, so that their stacks stay grown, and scrapes take turns to gather
// (as many at once as GOMAXPROCS). A collector must therefore not leave
// its goroutine locked to its OS thread (runtime.LockOSThread, as for
// setns) or with pprof labels set: the next collector run there would
// inherit them.
package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/warden-exporter/warden/alertclient"
	// Every exporter built on the framework reports the version and
	// revision Go recorded when no -ldflags set them (an empty version
	// otherwise).
	_ "github.com/warden-exporter/warden/internal/buildinfo"
	"github.com/warden-exporter/warden/webconf"
)

// Options describes an exporter binary.
type Options struct {
	// Name of the binary, e.g. "hello_exporter"; it names the build info
	// metric (hello_exporter_build_info) and the landing page.
	Name string
	// Help is the one-line description of --help and the landing page.
	Help string
	// DefaultAddress of --web.listen-address, e.g. ":9100".
	DefaultAddress string
	// Alerts adds --alert.config.file: an alertclient for the exporter's
	// own alerts, whose spool is delivered in the background.
	Alerts bool
	// Stdout and Stderr default to the process's.
	Stdout, Stderr io.Writer
}

// Program is a complete secure exporter. The author adds flags to App
// before Run and tells Run, through a Setup, what a scrape collects.
type Program struct {
	// App is the kingpin application; add the exporter's own flags to it.
	App *kingpin.Application
	// OnListen, if set, is called with the addresses once they are bound
	// (tests listen on 127.0.0.1:0 and need to know the port).
	OnListen func([]net.Addr)

	opts                   Options
	web                    *webconf.Flags
	metricsPath            *string
	disableExporterMetrics *bool
	maxRequests            *int
	scrapeTimeoutOffset    *time.Duration
	collectorTimeout       *time.Duration
	alertConfigFile        *string
	logConfig              *promslog.Config
}

// Env is what an exporter's setup gets once the flags are parsed.
type Env struct {
	Logger *slog.Logger
	// Alerts is the alert client, or nil without --alert.config.file.
	Alerts *alertclient.Client
}

// Setup runs once the flags are parsed, before anything listens, and
// returns what the telemetry path exposes. An error stops the program.
type Setup func(Env) (Metrics, error)

// New creates the kingpin application with the standard flags.
func New(opts Options) *Program {
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	p := &Program{opts: opts}
	app := kingpin.New(opts.Name, opts.Help)
	app.ErrorWriter(opts.Stderr)
	app.UsageWriter(opts.Stdout)
	app.Version(version.Print(opts.Name))
	app.HelpFlag.Short('h')
	p.App = app

	p.metricsPath = app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String()
	p.disableExporterMetrics = app.Flag("web.disable-exporter-metrics", "Exclude metrics about the exporter itself (promhttp_*, process_*, go_*).").Bool()
	p.maxRequests = app.Flag("web.max-requests", "Maximum number of parallel scrape requests. Use 0 to disable.").Default("40").Int()
	p.scrapeTimeoutOffset = app.Flag("web.scrape-timeout-offset", "Kept from the scrape timeout Prometheus sends (X-Prometheus-Scrape-Timeout-Seconds), so that the answer arrives in time; collectors not finished by then are left behind and reported failed.").Default(DefaultScrapeTimeoutOffset.String()).Duration()
	p.collectorTimeout = app.Flag("collector.timeout", "Deadline of a scrape that sends no timeout; collectors not finished by then are left behind and reported failed.").Default(DefaultCollectorTimeout.String()).Duration()
	p.web = webconf.AddFlags(app, opts.DefaultAddress)
	if opts.Alerts {
		p.alertConfigFile = app.Flag("alert.config.file", "Alert client configuration; its spool is delivered in the background and its metrics exposed.").String()
	}
	p.logConfig = &promslog.Config{Writer: opts.Stderr}
	promslogflag.AddFlags(app, p.logConfig)
	return p
}

// Run parses args, calls setup, and serves until SIGINT or SIGTERM. It
// returns the exit code: 0 after a clean stop (or --help, --version), 2
// for bad flags, 1 for anything that kept the exporter from starting.
func (p *Program) Run(args []string, setup Setup) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return p.RunContext(ctx, args, setup)
}

// RunContext is Run until ctx ends instead of a signal. Its steps, in
// order: parse the flags, make the logger, make the alert client, run the
// author's setup, build the handler, open the listeners (checking every
// configuration file first), serve, and deliver what the alert spool holds.
func (p *Program) RunContext(ctx context.Context, args []string, setup Setup) int {
	if code, done := p.parse(args); done {
		return code
	}
	logger := p.newLogger()
	alerts, err := p.newAlertClient(logger)
	if err != nil {
		logger.Error("Couldn't set up alerting", "err", err)
		return 1
	}
	metrics, err := setup(Env{Logger: logger, Alerts: alerts})
	if err != nil {
		logger.Error("Couldn't set up the exporter", "err", err)
		return 1
	}
	if metrics == nil {
		logger.Error("Couldn't set up the exporter", "err", errors.New("setup returned no Metrics"))
		return 1
	}
	var srv *webconf.Server // its security metrics are scraped with the exporter's
	always := []prometheus.Collector{versioncollector.NewCollector(p.opts.Name)}
	if alerts != nil {
		always = append(always, alerts)
	}
	handler, err := p.handler(metrics, logger, func() []prometheus.Collector { return append(slices.Clip(always), srv.Metrics()) })
	if err != nil {
		logger.Error("Couldn't build the handler", "err", err)
		return 1
	}
	srv, err = webconf.New(webconf.Options{
		Flags:           p.web,
		Handler:         handler,
		Logger:          logger,
		CollectorLimits: metrics.named() != nil,
		MaxRequests:     *p.maxRequests,
	})
	if err != nil {
		logger.Error("Refusing to start", "err", err)
		return 1
	}
	if p.OnListen != nil {
		p.OnListen(srv.Addrs())
	}
	if alerts != nil {
		go alerts.FlushLoop(ctx, alertclient.DefaultFlushInterval)
	}
	if err := srv.Serve(ctx); err != nil {
		logger.Error("Server stopped", "err", err)
		return 1
	}
	if alerts != nil {
		flushAtShutdown(alerts, logger)
	}
	logger.Info("Stopped")
	return 0
}

// parse parses args and reports whether the program is done, and with
// which exit code (after --help, --version or bad flags).
func (p *Program) parse(args []string) (code int, done bool) {
	_, exitCode, err := Parse(p.App, args)
	if exitCode >= 0 {
		return exitCode, true
	}
	if err != nil {
		fmt.Fprintf(p.opts.Stderr, "%s: error: %v\n", p.opts.Name, err)
		return 2, true
	}
	return 0, false
}

func (p *Program) newLogger() *slog.Logger {
	logger := promslog.New(p.logConfig)
	logger.Info("Starting "+p.opts.Name, "version", version.Info())
	logger.Info("Build context", "build_context", version.BuildContext())
	return logger
}

// newAlertClient returns the client of --alert.config.file, or nil
// without one.
func (p *Program) newAlertClient(logger *slog.Logger) (*alertclient.Client, error) {
	if p.alertConfigFile == nil || *p.alertConfigFile == "" {
		return nil, nil
	}
	cfg, err := alertclient.LoadConfig(*p.alertConfigFile)
	if err != nil {
		return nil, err
	}
	return alertclient.New(alertclient.Options{Config: cfg, Logger: logger.With("component", "alertclient"), UserAgent: p.opts.Name})
}

// handler serves the telemetry path, the health endpoints and the
// landing page. always returns the collectors every scrape adds to the
// exporter's own (build info, alert client, security layer).
func (p *Program) handler(metrics Metrics, logger *slog.Logger, always func() []prometheus.Collector) (http.Handler, error) {
	if *p.scrapeTimeoutOffset < 0 {
		return nil, fmt.Errorf("--web.scrape-timeout-offset=%v: must not be negative", *p.scrapeTimeoutOffset)
	}
	if *p.collectorTimeout <= 0 {
		return nil, fmt.Errorf("--collector.timeout=%v: must be positive", *p.collectorTimeout)
	}
	mux := http.NewServeMux()
	mux.Handle(*p.metricsPath, MetricsHandler(HandlerOptions{
		Metrics:             metrics,
		Always:              always,
		ExporterMetrics:     !*p.disableExporterMetrics,
		MaxRequests:         *p.maxRequests,
		ScrapeTimeoutOffset: *p.scrapeTimeoutOffset,
		CollectorTimeout:    *p.collectorTimeout,
		Logger:              logger,
	}))
	// Health endpoints for load balancers and probes; the auth file's
	// public_paths can open them without credentials.
	health := func(text string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, text) }
	}
	mux.Handle("/-/healthy", health("Healthy"))
	mux.Handle("/-/ready", health("Ready"))
	if *p.metricsPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        p.opts.Name,
			Description: p.opts.Help,
			Version:     version.Info(),
			Links:       []web.LandingLinks{{Address: *p.metricsPath, Text: "Metrics"}},
		})
		if err != nil {
			return nil, fmt.Errorf("landing page: %w", err)
		}
		mux.Handle("/", landing)
	}
	return mux, nil
}

// flushAtShutdown makes one last try to deliver what waits in the spool;
// what does not go stays spooled for the next start.
func flushAtShutdown(alerts *alertclient.Client, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if res, err := alerts.Flush(ctx); err == nil && res.Delivered > 0 {
		logger.Info("alert spool delivered at shutdown", "alerts", res.Delivered)
	}
}
