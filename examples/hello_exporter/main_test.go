package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/warden-exporter/warden/webconf/webconftest"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestServesSecurely runs the exporter as main does, behind TLS, a client
// certificate and basic auth, and scrapes it as Prometheus would.
func TestServesSecurely(t *testing.T) {
	file := filepath.Join(t.TempDir(), "numbers.json")
	writeFile(t, file, `{"answer": 42, "pi": 3.14}`)
	var log bytes.Buffer // read once the exporter has stopped
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("exporter's log:\n%s", &log)
		}
	})
	p, setup := newProgram(io.Discard, &log)
	e := webconftest.Start(t, p, setup, "--hello.file="+file)

	status, body := e.Get(t, e.Client, "/metrics")
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	for _, want := range []string{
		"# TYPE hello_value gauge",
		`hello_value{name="answer"} 42`,
		`hello_value{name="pi"} 3.14`,
		"hello_up 1",
		"hello_exporter_build_info{",
		`warden_http_auth_success_total{method="basic"}`,
		"warden_tls_certificate_expiry_timestamp_seconds{",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if status, body := e.Get(t, e.Anonymous, "/metrics"); status == http.StatusOK || strings.Contains(body, "hello_") {
		t.Errorf("a client without certificate and password got %d:\n%s", status, body)
	}
	if status, body := e.Get(t, e.Client, "/"); status != http.StatusOK || !strings.Contains(body, "hello_exporter") {
		t.Errorf("landing page: %d\n%s", status, body)
	}

	// The file is read at every scrape: a number taken out of it is gone.
	writeFile(t, file, `{"answer": 43}`)
	if _, body := e.Get(t, e.Client, "/metrics"); !strings.Contains(body, `hello_value{name="answer"} 43`) || strings.Contains(body, `name="pi"`) {
		t.Errorf("after the file changed, want answer 43 and no pi:\n%s", body)
	}
}

func TestCollector(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	writeFile(t, good, `{"b": -1.5, "a": 2}`)
	broken := filepath.Join(dir, "broken.json")
	writeFile(t, broken, `{"a": "two"}`)
	const help = `# HELP hello_up Whether the last read of --hello.file succeeded (1) or not (0).
# TYPE hello_up gauge
`
	tests := []struct {
		name, file, want string
	}{
		{"good", good, help + `hello_up 1
# HELP hello_value A number of --hello.file, by its key.
# TYPE hello_value gauge
hello_value{name="a"} 2
hello_value{name="b"} -1.5
`},
		{"not a number", broken, help + "hello_up 0\n"},
		{"missing", filepath.Join(dir, "missing.json"), help + "hello_up 0\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			c := collector{file: tt.file, logger: slog.New(slog.NewTextHandler(&log, nil))}
			if err := testutil.CollectAndCompare(c, strings.NewReader(tt.want)); err != nil {
				t.Error(err)
			}
			if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
				t.Errorf("lint: %v %v", problems, err)
			}
			// A failure is logged, naming the file; a success is not.
			if failed := strings.Contains(tt.want, "hello_up 0"); failed != strings.Contains(log.String(), tt.file) {
				t.Errorf("log:\n%s", &log)
			}
		})
	}
}

// requiredFlag is the exporter's own flag that must be given.
const requiredFlag = "hello.file"

func TestFileFlagIsRequired(t *testing.T) {
	var stderr bytes.Buffer
	p, setup := newProgram(io.Discard, &stderr)
	// Cancelled: were the flag not required, the exporter would stop at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if code := p.RunContext(ctx, []string{"--web.listen-address=127.0.0.1:0"}, setup); code != 2 || !strings.Contains(stderr.String(), requiredFlag) {
		t.Errorf("exit %d, want 2 naming --%s:\n%s", code, requiredFlag, stderr.String())
	}
}

// The template stays small: at most 60 lines of author code in main.go,
// not counting blank lines and comments. (A copy of the template may
// delete this test.)
func TestTemplateIsShort(t *testing.T) {
	content, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(content), "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "//") {
			n++
		}
	}
	if n > 60 {
		t.Errorf("main.go has %d lines of code, want at most 60", n)
	}
}
