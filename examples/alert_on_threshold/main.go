// Command alert_on_threshold watches a number, such as the load average in
// /proc/loadavg, and raises an alert in Alertmanager while it is above a
// threshold, resolving it when it goes back. It is an example of the
// alertclient library: TLS, mTLS, basic auth or bearer tokens to every
// Alertmanager of a cluster, retries, and a spool that keeps the alert
// while no Alertmanager is reachable.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"

	"github.com/warden-exporter/warden/alertclient"
	"github.com/warden-exporter/warden/webconf/exporter"
)

const name = "alert_on_threshold"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options of watch.
type options struct {
	// File holds the number as its first field (/proc/loadavg: the load
	// average over one minute).
	File      string
	Threshold float64
	// Interval between two reads of File.
	Interval time.Duration
	// Resend is how often a firing alert is sent again, as Prometheus
	// does, so that Alertmanager does not resolve it on its own after its
	// resolve_timeout.
	Resend time.Duration
	// Timeout bounds one send; what is not delivered by then is spooled.
	Timeout time.Duration
	// Labels identify the alert; they include alertname.
	Labels map[string]string
	Client *alertclient.Client
	Logger *slog.Logger
}

func run(args []string, stdout, stderr io.Writer) int {
	app := kingpin.New(name, "Raise an alert in Alertmanager while a number is above a threshold, and resolve it when it goes back.")
	app.ErrorWriter(stderr)
	app.UsageWriter(stdout)
	app.Version(version.Print(name))
	app.HelpFlag.Short('h')

	opts := options{Labels: map[string]string{}}
	app.Flag("value.file", "File whose first field is the number watched.").Default("/proc/loadavg").StringVar(&opts.File)
	app.Flag("threshold", "The alert fires while the number is above this.").Required().Float64Var(&opts.Threshold)
	app.Flag("interval", "How often the number is read.").Default("15s").DurationVar(&opts.Interval)
	app.Flag("alert.resend-interval", "How often a firing alert is sent again.").Default("1m").DurationVar(&opts.Resend)
	app.Flag("alert.timeout", "Deadline of one send, retries included; then the alert is spooled.").Default("10s").DurationVar(&opts.Timeout)
	alertName := app.Flag("alert.name", "alertname of the alert.").Default("ValueAboveThreshold").String()
	app.Flag("alert.label", "Another label of the alert, name=value (repeatable).").StringMapVar(&opts.Labels)
	configFile := app.Flag("alert.config.file", "Alert client configuration (alertmanagers, http_config, retry, spool), as wardentool and warden_node_exporter take it.").String()
	urls := app.Flag("alertmanager.url", "Alertmanager URL (repeatable), when no --alert.config.file.").Strings()
	httpConfig := app.Flag("http.config.file", "HTTP client configuration (tls_config, basic_auth with password_file, authorization...) for --alertmanager.url.").String()
	spoolDir := app.Flag("spool.dir", "Where alerts wait while no Alertmanager accepts them, with --alertmanager.url.").String()
	logConfig := &promslog.Config{Writer: stderr}
	promslogflag.AddFlags(app, logConfig)

	_, exitCode, err := exporter.Parse(app, args)
	if exitCode >= 0 {
		return exitCode
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: error: %v\n", name, err)
		return 2
	}
	opts.Labels["alertname"] = *alertName
	opts.Logger = promslog.New(logConfig)

	var cfg *alertclient.Config
	if *configFile != "" {
		cfg, err = alertclient.LoadConfig(*configFile)
	} else {
		cfg, err = alertclient.FlagConfig(*urls, *httpConfig, *spoolDir, 0)
	}
	if err != nil {
		opts.Logger.Error("Bad alert configuration", "err", err)
		return 1
	}
	opts.Client, err = alertclient.New(alertclient.Options{Config: cfg, Logger: opts.Logger, UserAgent: name})
	if err != nil {
		opts.Logger.Error("Couldn't create the alert client", "err", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := watch(ctx, opts); err != nil {
		opts.Logger.Error("Stopped", "err", err)
		return 1
	}
	return 0
}

// watch reads the number every interval until ctx ends. Crossing above
// the threshold sends the alert; going back to or below it resolves it. A
// send that no Alertmanager accepted in time is spooled, and delivered in
// order before the next one, or by the background flush.
func watch(ctx context.Context, opts options) error {
	if opts.Client == nil || opts.Logger == nil || opts.Interval <= 0 || opts.Resend <= 0 || opts.Timeout <= 0 || opts.Labels["alertname"] == "" {
		return errors.New("watch: Client, Logger, positive Interval, Resend and Timeout, and an alertname are needed")
	}
	go opts.Client.FlushLoop(ctx, opts.Interval)
	// since is when the alert started firing, zero while it is not: what
	// Alertmanager was told, or will be told by the spool.
	var since, lastSent time.Time
	tick := time.NewTicker(opts.Interval)
	defer tick.Stop()
	for {
		value, err := readNumber(opts.File)
		switch {
		case err != nil:
			// Neither raise nor resolve without data: the last word stands.
			opts.Logger.Error("Couldn't read the value", "err", err)
		case value > opts.Threshold && (since.IsZero() || time.Since(lastSent) >= opts.Resend):
			start := since
			if start.IsZero() {
				start = time.Now()
			}
			if send(ctx, opts, value, start, time.Time{}) {
				since, lastSent = start, time.Now()
			}
		case value <= opts.Threshold && !since.IsZero():
			if send(ctx, opts, value, since, time.Now()) {
				since = time.Time{}
			}
		}
		select {
		case <-ctx.Done():
			// Last chance for what waits in the spool; what does not go stays there.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.Timeout)
			defer cancel()
			if res, err := opts.Client.Flush(fctx); err == nil && res.Delivered > 0 {
				opts.Logger.Info("Spool delivered at shutdown", "alerts", res.Delivered)
			}
			return nil
		case <-tick.C:
		}
	}
}

// send raises the alert (no end) or resolves it, and reports whether it
// was delivered or spooled.
func send(ctx context.Context, opts options, value float64, start, end time.Time) bool {
	alert := alertclient.Alert{
		Labels:      opts.Labels,
		Annotations: map[string]string{"summary": fmt.Sprintf("%s is %g, threshold %g", opts.File, value, opts.Threshold)},
		StartsAt:    start,
		EndsAt:      end,
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	_, err := opts.Client.Send(ctx, []alertclient.Alert{alert})
	log := opts.Logger.With("resolved", !end.IsZero(), "value", value, "threshold", opts.Threshold)
	switch {
	case err == nil:
		log.Info("Alert delivered")
	case errors.Is(err, alertclient.ErrSpooled):
		log.Warn("No Alertmanager reachable; the alert is spooled and will be delivered later", "err", err)
	default:
		// Refused (credentials, CA, a 4xx) and not spooled: try again at the next read.
		log.Error("Alert not delivered", "err", err)
		return false
	}
	return true
}

// readNumber returns the first whitespace-separated field of path.
func readNumber(path string) (float64, error) {
	content, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(string(content))
	if len(fields) == 0 {
		return 0, fmt.Errorf("%s: empty", path)
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}
