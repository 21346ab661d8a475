// Command warden_node_exporter exposes node metrics under node_exporter's
// names, served securely by webconf and its exporter framework (exporter-toolkit's web config, plus
// bearer tokens, authorization, bounded failed logins and an audit trail)
// without a reverse proxy.
package main

import (
	"io"
	"os"
	"runtime"

	"github.com/warden-exporter/warden/collector"
	_ "github.com/warden-exporter/warden/internal/buildinfo" // version from the build when no -ldflags gave one
	"github.com/warden-exporter/warden/webconf/exporter"
)

const name = "warden_node_exporter"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	p := exporter.New(exporter.Options{
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

	return p.Run(args, func(env exporter.Env) (exporter.Metrics, error) {
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
		// collect[], exclude[] and the auth file's collector limits are
		// applied by the framework.
		return exporter.Named(node), nil
	})
}
