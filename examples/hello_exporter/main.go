// Command hello_exporter is the smallest complete Warden exporter, and the
// template for new ones: it exposes the numbers of a JSON file as gauges,
// and exporter.Program makes it a secure exporter (TLS, mTLS, basic auth,
// bearer tokens, landing page, build info, graceful shutdown). Copy this
// directory, rename it, and replace the collector.
package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warden-exporter/warden/webconf/exporter"
)

const namespace = "hello"

var (
	upDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "up"),
		"Whether the last read of --hello.file succeeded (1) or not (0).", nil, nil)
	valueDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "value"),
		"A number of --hello.file, by its key.", []string{"name"}, nil)
)

func main() {
	p, setup := newProgram(os.Stdout, os.Stderr)
	os.Exit(p.Run(os.Args[1:], setup))
}

// newProgram builds the program and what it runs once the flags are
// parsed; main_test.go runs the same two behind TLS.
func newProgram(stdout, stderr io.Writer) (*exporter.Program, exporter.Setup) {
	p := exporter.New(exporter.Options{
		Name:           "hello_exporter",
		Help:           "Exposes the numbers of a JSON file as gauges, securely.",
		DefaultAddress: ":9999",
		Stdout:         stdout,
		Stderr:         stderr,
	})
	file := p.App.Flag("hello.file", `JSON file holding a flat object of numbers: {"name": 1.5, ...}.`).Required().String()
	return p, func(env exporter.Env) (exporter.Metrics, error) {
		return exporter.Collectors(collector{file: *file, logger: env.Logger}), nil
	}
}

// collector reads the file at every scrape, so that a number removed from
// the file is gone from the next scrape too.
type collector struct {
	file   string
	logger *slog.Logger
}

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- upDesc
	ch <- valueDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	var values map[string]float64
	content, err := os.ReadFile(c.file)
	if err == nil {
		err = json.Unmarshal(content, &values)
	}
	if err != nil {
		c.logger.Error("Couldn't read the numbers", "file", c.file, "err", err)
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 1)
	for name, v := range values {
		ch <- prometheus.MustNewConstMetric(valueDesc, prometheus.GaugeValue, v, name)
	}
}
