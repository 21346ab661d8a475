// Command warden_node_exporter exposes node metrics under node_exporter's
// names, served through exporter-toolkit's web config (TLS, mTLS, bcrypt
// basic auth) without a reverse proxy.
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/warden-exporter/warden/collector"
	"github.com/warden-exporter/warden/webconf"
)

const name = "warden_node_exporter"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	app := kingpin.New(name, "Node metrics with node_exporter's names, served securely through exporter-toolkit's web config.")
	app.ErrorWriter(stderr)
	exitCode := -1 // set when --help or --version asks to exit
	app.Terminate(func(code int) { exitCode = code })
	app.UsageWriter(stdout)
	app.Version(version.Print(name))
	app.HelpFlag.Short('h')

	metricsPath := app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String()
	disableExporterMetrics := app.Flag("web.disable-exporter-metrics", "Exclude metrics about the exporter itself (promhttp_*, process_*, go_*).").Bool()
	maxRequests := app.Flag("web.max-requests", "Maximum number of parallel scrape requests. Use 0 to disable.").Default("40").Int()
	webFlags := webconf.AddFlags(app, ":9100")
	var cfg collector.Config
	cfg.AddFlags(app)
	enabled := collector.EnabledFlags(app)
	logConfig := &promslog.Config{Writer: stderr}
	promslogflag.AddFlags(app, logConfig)

	_, err := app.Parse(args)
	if exitCode >= 0 {
		return exitCode
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: error: %v\n", name, err)
		return 2
	}
	logger := promslog.New(logConfig)
	logger.Info("Starting "+name, "version", version.Info())
	logger.Info("Build context", "build_context", version.BuildContext())

	cfg.Logger = logger
	node, err := collector.New(cfg, enabled())
	if err != nil {
		logger.Error("Couldn't create collectors", "err", err)
		return 1
	}
	logger.Info("Enabled collectors", "collectors", node.Enabled())

	buildInfo := versioncollector.NewCollector(name)
	var srv *webconf.Server // its metrics are scraped with the node's
	mux := http.NewServeMux()
	mux.Handle(*metricsPath, webconf.MetricsHandler(webconf.MetricsOptions{
		Collectors: func(ctx context.Context, r *http.Request) ([]prometheus.Collector, error) {
			names, err := node.Filter(r.URL.Query()["collect[]"], r.URL.Query()["exclude[]"])
			if err != nil {
				return nil, err
			}
			if id, ok := webconf.IdentityFrom(r.Context()); ok && id.Collectors != nil {
				// The auth file limits this identity, whatever collect[] says.
				names = slices.DeleteFunc(names, func(n string) bool { return !slices.Contains(id.Collectors, n) })
			}
			return []prometheus.Collector{buildInfo, srv.Metrics(), node.Scrape(ctx, names)}, nil
		},
		ExporterMetrics: !*disableExporterMetrics,
		MaxRequests:     *maxRequests,
		Logger:          logger,
	}))
	// Health endpoints for load balancers and probes; the auth file's
	// public_paths can open them without credentials.
	health := func(text string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, text) }
	}
	mux.Handle("/-/healthy", health("Healthy"))
	mux.Handle("/-/ready", health("Ready"))
	if *metricsPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        "Warden Node Exporter",
			Description: "Prometheus node exporter, secured without a proxy",
			Version:     version.Info(),
			Links:       []web.LandingLinks{{Address: *metricsPath, Text: "Metrics"}},
		})
		if err != nil {
			logger.Error("Couldn't build the landing page", "err", err)
			return 1
		}
		mux.Handle("/", landing)
	}

	srv, err = webconf.New(webconf.Options{Flags: webFlags, Handler: mux, Logger: logger})
	if err != nil {
		logger.Error("Refusing to start", "err", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := srv.Serve(ctx); err != nil {
		logger.Error("Server stopped", "err", err)
		return 1
	}
	logger.Info("Stopped")
	return 0
}
