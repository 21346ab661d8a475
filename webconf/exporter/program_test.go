package exporter_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warden-exporter/warden/webconf/exporter"
	"github.com/warden-exporter/warden/webconf/webconftest"
)

func TestProgramServesSecurely(t *testing.T) {
	var stderr bytes.Buffer
	p := exporter.New(exporter.Options{Name: "test_exporter", Help: "A test.", DefaultAddress: ":0", Stderr: &stderr})
	greeting := p.App.Flag("greeting", "The author's own flag.").Default("hello").String()
	e := webconftest.Start(t, p, func(env exporter.Env) (exporter.Metrics, error) {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "test_greeting_info", Help: "The greeting.", ConstLabels: prometheus.Labels{"greeting": *greeting}})
		g.Set(1)
		return exporter.Collectors(g), nil
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

func gauge(name string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: name + "."})
	g.Set(1)
	return g
}

// writeAuthFile writes an auth file whose one rule limits
// webconftest's client certificate to the collectors named.
func writeAuthFile(t *testing.T, collectors string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "auth.yml")
	content := "rules:\n  - identities: [\"cert:" + webconftest.ClientName + "\"]\n    paths: [/metrics]\n    collectors: " + collectors + "\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// An auth rule's collectors: limit holds for any exporter whose metrics
// come from named collectors, whatever collect[] asks for.
func TestCollectorLimitIsEnforcedForNamedCollectors(t *testing.T) {
	authFile := writeAuthFile(t, "[x]")
	p := exporter.New(exporter.Options{Name: "limited_exporter", DefaultAddress: ":0", Stderr: &bytes.Buffer{}})
	e := webconftest.Start(t, p, func(exporter.Env) (exporter.Metrics, error) {
		return exporter.Named(exporter.NamedCollectors(map[string]prometheus.Collector{
			"x": gauge("test_x"),
			"y": gauge("test_y"),
		})), nil
	}, "--web.auth.file="+authFile)

	for _, path := range []string{"/metrics", "/metrics?collect[]=y", "/metrics?collect[]=x&collect[]=y", "/metrics?exclude[]=x"} {
		status, body := e.Get(t, e.Client, path)
		if status != http.StatusOK {
			t.Fatalf("%s: status %d: %s", path, status, body)
		}
		if strings.Contains(body, "test_y ") {
			t.Errorf("%s: an identity limited to [x] got y:\n%s", path, body)
		}
		wantX := path != "/metrics?collect[]=y" && path != "/metrics?exclude[]=x"
		if got := strings.Contains(body, "test_x 1"); got != wantX {
			t.Errorf("%s: test_x present %v, want %v", path, got, wantX)
		}
		// The exporter's own metrics are not among what [x] allows.
		for _, own := range []string{"warden_", "go_", "process_", "promhttp_", "limited_exporter_build_info"} {
			if strings.Contains(body, own) {
				t.Errorf("%s: an identity limited to [x] sees %s*", path, own)
			}
		}
	}
}

// A limit that names "exporter" shows the exporter's own metrics too.
func TestCollectorLimitNamingExporter(t *testing.T) {
	authFile := writeAuthFile(t, "[x, exporter]")
	p := exporter.New(exporter.Options{Name: "limited_exporter", DefaultAddress: ":0", Stderr: &bytes.Buffer{}})
	e := webconftest.Start(t, p, func(exporter.Env) (exporter.Metrics, error) {
		return exporter.Named(exporter.NamedCollectors(map[string]prometheus.Collector{"x": gauge("test_x"), "y": gauge("test_y")})), nil
	}, "--web.auth.file="+authFile)
	status, body := e.Get(t, e.Client, "/metrics")
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	for _, want := range []string{"test_x 1", "warden_http_requests_refused_total", "go_goroutines", "limited_exporter_build_info"} {
		if !strings.Contains(body, want) {
			t.Errorf("limit [x, exporter] lacks %s", want)
		}
	}
	if strings.Contains(body, "test_y") {
		t.Error("limit [x, exporter] shows y")
	}
}

// An exporter without named collectors cannot enforce a collectors:
// limit, so it refuses to start with an auth file that has one, naming
// the file and the rule.
func TestCollectorLimitRefusedWithoutNamedCollectors(t *testing.T) {
	authFile := writeAuthFile(t, "[x]")
	var stderr bytes.Buffer
	p := exporter.New(exporter.Options{Name: "plain_exporter", DefaultAddress: ":0", Stderr: &stderr})
	code := p.RunContext(t.Context(), []string{"--web.listen-address=127.0.0.1:0", "--web.auth.file=" + authFile}, func(exporter.Env) (exporter.Metrics, error) {
		return exporter.Collectors(gauge("test_x")), nil
	})
	if code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	for _, want := range []string{authFile, "rules[0]", "collectors"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("error does not name %s:\n%s", want, stderr.String())
		}
	}
}
