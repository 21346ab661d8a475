package webconf

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
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
)

// ProgramOptions describes an exporter binary.
type ProgramOptions struct {
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

// Program is a complete secure exporter: the standard flags, logging,
// build info, a landing page, health endpoints, the security layer of
// this package, graceful shutdown, and optionally an alert client. The
// author adds flags to App before Run and tells Run what a scrape collects.
type Program struct {
	// App is the kingpin application; add the exporter's own flags to it.
	App *kingpin.Application
	// OnListen, if set, is called with the addresses once they are bound
	// (tests listen on 127.0.0.1:0 and need to know the port).
	OnListen func([]net.Addr)

	opts                   ProgramOptions
	web                    *Flags
	metricsPath            *string
	disableExporterMetrics *bool
	maxRequests            *int
	alertConfigFile        *string
	logConfig              *promslog.Config
}

// Env is what an exporter's setup gets once the flags are parsed.
type Env struct {
	Logger *slog.Logger
	// Alerts is the alert client, or nil without --alert.config.file.
	Alerts *alertclient.Client
}

// ScrapeFunc returns what one scrape collects. ctx ends at the scrape's
// deadline (X-Prometheus-Scrape-Timeout-Seconds); the request carries the
// caller's Identity (IdentityFrom). An error is answered with 400.
type ScrapeFunc func(ctx context.Context, r *http.Request) ([]prometheus.Collector, error)

// Collectors returns a ScrapeFunc that collects the same collectors on every scrape.
func Collectors(cs ...prometheus.Collector) ScrapeFunc {
	return func(context.Context, *http.Request) ([]prometheus.Collector, error) { return cs, nil }
}

// NewProgram creates the kingpin application with the standard flags.
func NewProgram(opts ProgramOptions) *Program {
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
	p.web = AddFlags(app, opts.DefaultAddress)
	if opts.Alerts {
		p.alertConfigFile = app.Flag("alert.config.file", "Alert client configuration; its spool is delivered in the background and its metrics exposed.").String()
	}
	p.logConfig = &promslog.Config{Writer: opts.Stderr}
	promslogflag.AddFlags(app, p.logConfig)
	return p
}

// alertFlushInterval is how often an exporter looks at its alert spool.
const alertFlushInterval = 10 * time.Second

// Run parses args, calls setup, and serves until SIGINT or SIGTERM. It
// returns the exit code: 0 after a clean stop (or --help, --version), 2
// for bad flags, 1 for anything that kept the exporter from starting.
func (p *Program) Run(args []string, setup func(Env) (ScrapeFunc, error)) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return p.RunContext(ctx, args, setup)
}

// RunContext is Run until ctx ends instead of a signal.
func (p *Program) RunContext(ctx context.Context, args []string, setup func(Env) (ScrapeFunc, error)) int {
	_, exitCode, err := Parse(p.App, args)
	if exitCode >= 0 {
		return exitCode
	}
	if err != nil {
		fmt.Fprintf(p.opts.Stderr, "%s: error: %v\n", p.opts.Name, err)
		return 2
	}
	logger := promslog.New(p.logConfig)
	logger.Info("Starting "+p.opts.Name, "version", version.Info())
	logger.Info("Build context", "build_context", version.BuildContext())

	env := Env{Logger: logger}
	if p.alertConfigFile != nil && *p.alertConfigFile != "" {
		cfg, err := alertclient.LoadConfig(*p.alertConfigFile)
		if err != nil {
			logger.Error("Couldn't load the alert configuration", "err", err)
			return 1
		}
		env.Alerts, err = alertclient.New(alertclient.Options{Config: cfg, Logger: logger.With("component", "alertclient"), UserAgent: p.opts.Name})
		if err != nil {
			logger.Error("Couldn't create the alert client", "err", err)
			return 1
		}
	}
	scrape, err := setup(env)
	if err != nil {
		logger.Error("Couldn't set up the exporter", "err", err)
		return 1
	}

	var srv *Server // its security metrics are scraped with the exporter's
	always := []prometheus.Collector{versioncollector.NewCollector(p.opts.Name)}
	if env.Alerts != nil {
		always = append(always, env.Alerts)
	}
	mux := http.NewServeMux()
	mux.Handle(*p.metricsPath, MetricsHandler(MetricsOptions{
		Collectors: func(ctx context.Context, r *http.Request) ([]prometheus.Collector, error) {
			cs, err := scrape(ctx, r)
			if err != nil {
				return nil, err
			}
			return append(append(cs, always...), srv.Metrics()), nil
		},
		ExporterMetrics: !*p.disableExporterMetrics,
		MaxRequests:     *p.maxRequests,
		Logger:          logger,
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
			logger.Error("Couldn't build the landing page", "err", err)
			return 1
		}
		mux.Handle("/", landing)
	}

	srv, err = New(Options{Flags: p.web, Handler: mux, Logger: logger})
	if err != nil {
		logger.Error("Refusing to start", "err", err)
		return 1
	}
	if p.OnListen != nil {
		p.OnListen(srv.Addrs())
	}
	if env.Alerts != nil {
		go env.Alerts.FlushLoop(ctx, alertFlushInterval)
	}
	if err := srv.Serve(ctx); err != nil {
		logger.Error("Server stopped", "err", err)
		return 1
	}
	if env.Alerts != nil {
		// One last try to deliver what waits; what does not go stays spooled.
		fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if res, err := env.Alerts.Flush(fctx); err == nil && res.Delivered > 0 {
			logger.Info("alert spool delivered at shutdown", "alerts", res.Delivered)
		}
		cancel()
	}
	logger.Info("Stopped")
	return 0
}
