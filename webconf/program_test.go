package webconf_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warden-exporter/warden/webconf"
	"github.com/warden-exporter/warden/webconf/webconftest"
)

func TestProgramServesSecurely(t *testing.T) {
	var stderr bytes.Buffer
	p := webconf.NewProgram(webconf.ProgramOptions{Name: "test_exporter", Help: "A test.", DefaultAddress: ":0", Stderr: &stderr})
	greeting := p.App.Flag("greeting", "The author's own flag.").Default("hello").String()
	e := webconftest.Start(t, p, func(env webconf.Env) (webconf.ScrapeFunc, error) {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "test_greeting_info", Help: "The greeting.", ConstLabels: prometheus.Labels{"greeting": *greeting}})
		g.Set(1)
		return webconf.Collectors(g), nil
	}, "--greeting=hi")

	status, body := e.Get(t, e.Client, "/metrics")
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	for _, want := range []string{`test_greeting_info{greeting="hi"} 1`, "test_exporter_build_info{", "warden_http_auth_success_total{method=\"basic\"}", "go_goroutines "} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if status, body := e.Get(t, e.Anonymous, "/metrics"); status == http.StatusOK || strings.Contains(body, "test_greeting_info") {
		t.Errorf("anonymous client got %d", status)
	}
	if status, _ := e.Get(t, e.Client, "/-/healthy"); status != http.StatusOK {
		t.Errorf("/-/healthy: %d", status)
	}
}
