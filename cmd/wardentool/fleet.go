package main

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/model"

	"github.com/warden-exporter/warden/internal/fleet"
	"github.com/warden-exporter/warden/internal/pki"
)

// fleetCmds are the commands for a fleet under one CA: ca, fleet, cert
// and probe. run's switch dispatches them all with one case.
type fleetCmds struct {
	ca    *caCmd
	fleet *fleetCmd
	cert  *certCmd
	probe *probeCmd
}

func addFleetCommands(app *kingpin.Application) *fleetCmds {
	return &fleetCmds{ca: addCACommands(app), fleet: addFleetCommand(app), cert: addCertCommands(app), probe: addProbeCommand(app)}
}

// selected returns cmd when it is one of these commands, and "" otherwise,
// so that run's switch on cmd can name them all in one case.
func (f *fleetCmds) selected(cmd string) string {
	if slices.Contains(f.ca.commands(), cmd) || cmd == f.fleet.init.FullCommand() || slices.Contains(f.cert.commands(), cmd) || cmd == f.probe.cmd.FullCommand() {
		return cmd
	}
	return ""
}

func (f *fleetCmds) run(cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
	switch {
	case slices.Contains(f.ca.commands(), cmd):
		return f.ca.run(cmd, stdout, stderr)
	case cmd == f.fleet.init.FullCommand():
		return f.fleet.run(stdout, stderr)
	case slices.Contains(f.cert.commands(), cmd):
		return f.cert.run(cmd, stdin, stdout, stderr)
	case cmd == f.probe.cmd.FullCommand():
		return f.probe.run(stdout, stderr)
	}
	fmt.Fprintf(stderr, "%s: error: unknown command %q\n", name, cmd)
	return 2
}

// fleetCmd holds the flags of `wardentool fleet init`.
type fleetCmd struct {
	opts      fleet.Options
	caDir     string
	inventory string
	validFor  model.Duration

	init *kingpin.CmdClause
}

func addFleetCommand(app *kingpin.Application) *fleetCmd {
	c := &fleetCmd{}
	cmd := app.Command("fleet", "Many nodes under one CA.")
	c.init = cmd.Command("init", "Issue a certificate for every node of an inventory and write, per node, a directory to copy to it (server.crt, server.key, ca.crt, web-config.yml requiring a client certificate from the CA and the fleet password), and once, for Prometheus, a client certificate, the password file, targets.json (file_sd) and the scrape job.")
	c.init.Flag("ca", "Directory of the CA (wardentool ca init).").Required().StringVar(&c.caDir)
	c.init.Flag("inventory", "Inventory: one node a line, its name then any further DNS names and IP addresses (node1.example 10.0.0.1); Prometheus scrapes the first address, or the name when there is none. # starts a comment.").Required().StringVar(&c.inventory)
	c.init.Flag("out", "Directory to write into; must not exist or be empty.").Required().StringVar(&c.opts.Out)
	c.init.Flag("port", "Port the exporters listen on, in targets.json.").Default(fmt.Sprint(fleet.DefaultPort)).IntVar(&c.opts.Port)
	c.init.Flag("job", "Name of the scrape job.").Default(fleet.DefaultJob).StringVar(&c.opts.Job)
	c.init.Flag("prometheus-path", "Directory the prometheus/ files will be in on the Prometheus server, as the scrape job names them. Default: where they are written.").StringVar(&c.opts.PrometheusPath)
	c.init.Flag("valid-for", "How long the certificates are valid (units y, w, d, h).").Default("365d").SetValue(&c.validFor)
	return c
}

func (c *fleetCmd) run(stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintf(stderr, "%s fleet init: %v\n", name, err)
		return 1
	}
	nodes, err := fleet.ParseInventory(c.inventory)
	if err != nil {
		return fail(err)
	}
	if c.opts.Authority, err = pki.OpenAuthority(c.caDir); err != nil {
		return fail(err)
	}
	c.opts.Nodes, c.opts.ValidFor = nodes, time.Duration(c.validFor)
	res, err := fleet.Init(c.opts)
	if err != nil {
		return fail(err)
	}
	prom := filepath.Join(res.Out, fleet.PrometheusDir)
	fmt.Fprintf(stdout, `Issued certificates for %[1]d nodes and Prometheus from %[2]q, valid until %[3]s.
Each node: copy %[4]s/NAME/ to it and run
  warden_node_exporter --web.config.file=DIR/%[5]s --web.listen-address=:%[6]d
Prometheus: copy %[7]s/ to its server (--prometheus-path) and add the job %[8]q of
  %[7]s/%[9]s to scrape_configs; the targets are in %[10]s.
`, res.Nodes, c.opts.Authority.CA.Cert.Subject.String(), res.NotAfter.UTC().Format(time.DateOnly),
		filepath.Join(res.Out, fleet.NodesDir), fleet.WebConfig, c.opts.Port, prom, res.Job, fleet.PrometheusJob, fleet.Targets)
	return 0
}
