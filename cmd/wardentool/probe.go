package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/warden-exporter/warden/internal/probe"
)

// probeCmd holds the flags of `wardentool probe`.
type probeCmd struct {
	targets      []string
	scrapeConfig string
	job          string
	caFile       string
	certFile     string
	keyFile      string
	serverName   string
	username     string
	passwordFile string
	scheme       string
	metricsPath  string
	warn         model.Duration
	timeout      time.Duration
	concurrency  int
	output       string

	cmd *kingpin.CmdClause
}

func addProbeCommand(app *kingpin.Application) *probeCmd {
	c := &probeCmd{}
	c.cmd = app.Command("probe", "Connect to exporters as Prometheus would and say, per target in one line, what works and what fails: name resolution, TCP, TLS version, the server certificate (unknown authority, expired or expiring, names that do not hold the address scraped), a refused client certificate and why, 401/403; for a good scrape, the metric families and the scrape time. Exit 0 when every target is good, 1 otherwise, 2 on bad usage.")
	c.cmd.Arg("target", "host:port to probe (repeatable), with the --ca, --cert, --key and --password-file given.").StringsVar(&c.targets)
	c.cmd.Flag("scrape-config", "Probe the targets of a Prometheus configuration file instead (static_configs and file_sd_configs), with each job's tls_config, basic_auth and authorization.").StringVar(&c.scrapeConfig)
	c.cmd.Flag("job", "With --scrape-config: only this job.").StringVar(&c.job)
	c.cmd.Flag("ca", "CA file the server certificates must chain to (tls_config.ca_file).").StringVar(&c.caFile)
	c.cmd.Flag("cert", "Client certificate file (tls_config.cert_file).").StringVar(&c.certFile)
	c.cmd.Flag("key", "Client key file (tls_config.key_file).").StringVar(&c.keyFile)
	c.cmd.Flag("server-name", "Name the server certificates must hold instead of the target's host (tls_config.server_name).").StringVar(&c.serverName)
	c.cmd.Flag("username", "Basic-auth user, with --password-file.").Default("prometheus").StringVar(&c.username)
	c.cmd.Flag("password-file", "File holding the basic-auth password (basic_auth.password_file); never give a password on the command line.").StringVar(&c.passwordFile)
	c.cmd.Flag("scheme", "Scheme of the targets given as arguments.").Default("https").EnumVar(&c.scheme, "http", "https")
	c.cmd.Flag("metrics-path", "Path of the targets given as arguments.").Default("/metrics").StringVar(&c.metricsPath)
	c.cmd.Flag("warn", "Report server certificates that expire within this window (units y, w, d, h).").Default("14d").SetValue(&c.warn)
	c.cmd.Flag("timeout", "Time given to each target, from name resolution to the last byte (a scrape config's scrape_timeout wins).").Default("10s").DurationVar(&c.timeout)
	c.cmd.Flag("concurrency", "Targets probed at once, at most.").Default("16").IntVar(&c.concurrency)
	c.cmd.Flag("output", "Output format: text (one line a target) or json.").Default("text").EnumVar(&c.output, "text", "json")
	return c
}

func (c *probeCmd) run(stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintf(stderr, "%s probe: %v\n", name, err)
		return 2
	}
	targets, err := c.targetList(stderr)
	if err != nil {
		return fail(err)
	}
	if c.concurrency < 1 {
		return fail(errors.New("--concurrency must be at least 1"))
	}
	results := probe.All(context.Background(), targets, probe.Options{Warn: time.Duration(c.warn), Concurrency: c.concurrency})
	code := 0
	for _, r := range results {
		if !r.OK {
			code = 1
		}
	}
	if c.output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return fail(err)
		}
		return code
	}
	for _, r := range results {
		fmt.Fprintln(stdout, probe.Line(r))
	}
	return code
}

// targetList builds the targets from --scrape-config or from the arguments.
func (c *probeCmd) targetList(stderr io.Writer) ([]probe.Target, error) {
	if c.scrapeConfig != "" {
		if len(c.targets) > 0 || c.caFile != "" || c.certFile != "" || c.keyFile != "" || c.passwordFile != "" || c.serverName != "" {
			return nil, errors.New("--scrape-config takes the targets and their TLS and credentials from the file: give no targets, --ca, --cert, --key, --server-name or --password-file")
		}
		targets, notes, err := probe.Jobs(c.scrapeConfig, c.job)
		for _, n := range notes {
			fmt.Fprintf(stderr, "%s probe: note: %s\n", name, n)
		}
		for i := range targets {
			if targets[i].Timeout == 0 {
				targets[i].Timeout = c.timeout
			}
		}
		return targets, err
	}
	if c.job != "" {
		return nil, errors.New("--job needs --scrape-config")
	}
	if len(c.targets) == 0 {
		return nil, errors.New("no target: give host:port arguments or --scrape-config")
	}
	h := config.HTTPClientConfig{TLSConfig: config.TLSConfig{CAFile: c.caFile, CertFile: c.certFile, KeyFile: c.keyFile, ServerName: c.serverName}}
	if c.passwordFile != "" {
		h.BasicAuth = &config.BasicAuth{Username: c.username, PasswordFile: c.passwordFile}
	}
	if err := errors.Join(h.Validate(), h.TLSConfig.Validate()); err != nil {
		return nil, err
	}
	targets := make([]probe.Target, len(c.targets))
	for i, t := range c.targets {
		targets[i] = probe.Target{Address: t, Scheme: c.scheme, MetricsPath: c.metricsPath, HTTP: h, Timeout: c.timeout}
	}
	return targets, nil
}
