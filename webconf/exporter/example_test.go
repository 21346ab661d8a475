package exporter_test

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warden-exporter/warden/webconf/exporter"
)

// A Program is a complete secure exporter: the author adds flags to
// p.App and tells Run what a scrape collects. Everything else (the web,
// security and log flags, TLS, authentication, landing page, build info,
// graceful shutdown) comes with it.
func ExampleProgram() {
	p := exporter.New(exporter.Options{
		Name:           "hello_exporter",
		Help:           "Says hello, securely.",
		DefaultAddress: ":9999",
		Stderr:         io.Discard, // the log; the default is os.Stderr
	})
	greeting := p.App.Flag("hello.greeting", "What to say.").Default("hello").String()

	var flags []string
	for _, f := range p.App.Model().Flags {
		if !f.Hidden {
			flags = append(flags, "--"+f.Name)
		}
	}
	fmt.Println(strings.Join(flags, "\n"))

	setup := func(env exporter.Env) (exporter.Metrics, error) {
		// Runs once the flags are parsed, before anything listens.
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "hello_greeting_info", Help: "The greeting.", ConstLabels: prometheus.Labels{"greeting": *greeting}})
		g.Set(1)
		fmt.Println("greeting:", *greeting)
		return exporter.Collectors(g), nil
	}
	// Run(os.Args[1:], setup) serves until SIGINT or SIGTERM; here, a
	// context that has already ended stops it as soon as it listens.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code := p.RunContext(ctx, []string{"--web.listen-address=127.0.0.1:0", "--hello.greeting=hi"}, setup)
	fmt.Println("exit code:", code)
	// Output:
	// --help
	// --version
	// --web.telemetry-path
	// --web.disable-exporter-metrics
	// --web.max-requests
	// --web.scrape-timeout-offset
	// --collector.timeout
	// --web.systemd-socket
	// --web.listen-address
	// --web.config.file
	// --web.auth.file
	// --web.allow-insecure
	// --log.level
	// --log.format
	// --hello.greeting
	// greeting: hi
	// exit code: 0
}
