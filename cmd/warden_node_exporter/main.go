// Command warden_node_exporter exposes node metrics under node_exporter's
// names, served securely by webconf (exporter-toolkit's web config, plus
// bearer tokens, authorization, bounded failed logins and an audit trail)
// without a reverse proxy.
package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warden-exporter/warden/collector"
	"github.com/warden-exporter/warden/webconf"
)

const name = "warden_node_exporter"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	p := webconf.NewProgram(webconf.ProgramOptions{
		Name:           name,
		Help:           "Node metrics with node_exporter's names, served securely without a proxy.",
		DefaultAddress: ":9100",
		Alerts:         true,
		Stdout:         stdout,
		Stderr:         stderr,
	})
	var cfg collector.Config
	cfg.AddFlags(p.App)
	enabled := collector.EnabledFlags(p.App)
	// node_exporter's flag and default: one CPU keeps the exporter's
	// footprint on the node small.
	maxProcs := p.App.Flag("runtime.gomaxprocs", "The target number of CPUs Go will run on (GOMAXPROCS)").Envar("GOMAXPROCS").Default("1").Int()

	return p.Run(args, func(env webconf.Env) (webconf.ScrapeFunc, error) {
		if *maxProcs > 0 {
			runtime.GOMAXPROCS(*maxProcs)
		}
		env.Logger.Debug("Go MAXPROCS", "procs", runtime.GOMAXPROCS(0))
		cfg.Logger = env.Logger
		node, err := collector.New(cfg, enabled())
		if err != nil {
			return nil, err
		}
		env.Logger.Info("Enabled collectors", "collectors", node.Enabled())
		return func(ctx context.Context, r *http.Request) ([]prometheus.Collector, error) {
			names, err := node.Filter(r.URL.Query()["collect[]"], r.URL.Query()["exclude[]"])
			if err != nil {
				return nil, err
			}
			if id, ok := webconf.IdentityFrom(r.Context()); ok && id.Collectors != nil {
				// The auth file limits this identity, whatever collect[] says.
				names = slices.DeleteFunc(names, func(n string) bool { return !slices.Contains(id.Collectors, n) })
			}
			return []prometheus.Collector{node.Scrape(ctx, names)}, nil
		}, nil
	})
}
