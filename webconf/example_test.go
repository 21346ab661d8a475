package webconf_test

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warden-exporter/warden/webconf"
)

// A bearer token is shown once; only its hash goes into the auth file
// (bearer_tokens: NAME: HASH), so a stolen auth file reveals no token.
func ExampleNewToken() {
	token, hash, err := webconf.NewToken()
	if err != nil {
		panic(err)
	}
	fmt.Println("token characters:", len(token))
	fmt.Println("hash:", hash[:len("sha256:")], len(hash[len("sha256:"):]), "hex digits")
	fmt.Println("hash matches:", webconf.HashToken(token) == hash)
	// Output:
	// token characters: 43
	// hash: sha256: 64 hex digits
	// hash matches: true
}

func ExampleHashToken() {
	fmt.Println(webconf.HashToken("not-a-real-token"))
	// Output:
	// sha256:c4afaac67e1e5c2a2d578d8eee65b5abad08ae7dea98d619fd966250ea700609
}

// A Program is a complete secure exporter: the author adds flags to
// p.App and tells Run what a scrape collects. Everything else (the web,
// security and log flags, TLS, authentication, landing page, build info,
// graceful shutdown) comes with it.
func ExampleProgram() {
	p := webconf.NewProgram(webconf.ProgramOptions{
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

	setup := func(env webconf.Env) (webconf.ScrapeFunc, error) {
		// Runs once the flags are parsed, before anything listens.
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "hello_greeting_info", Help: "The greeting.", ConstLabels: prometheus.Labels{"greeting": *greeting}})
		g.Set(1)
		fmt.Println("greeting:", *greeting)
		return webconf.Collectors(g), nil
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
