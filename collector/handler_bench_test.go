//go:build linux

package collector

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/warden-exporter/warden/webconf/exporter"
)

// BenchmarkScrapeHandler measures a whole scrape as warden_node_exporter
// serves it, less TLS: the framework's handler with the default
// collectors and the exporter's own metrics, gzip as Go's and
// Prometheus's clients ask for it, on the host and on a quarter-size
// generated big-host tree.
func BenchmarkScrapeHandler(b *testing.B) {
	for _, tree := range []struct {
		name string
		cfg  func(*testing.B) Config
	}{
		{"host", func(*testing.B) Config { return DefaultConfig() }},
		{"bigtree-quarter", func(b *testing.B) Config { return bigtreeConfig(b, 0.25) }},
	} {
		for _, encoding := range []string{"gzip", "identity"} {
			b.Run(tree.name+"/"+encoding, func(b *testing.B) {
				skipWithoutHost(b, tree.name)
				cfg := tree.cfg(b)
				cfg.Logger = slog.New(slog.DiscardHandler)
				node, err := New(cfg, defaultNames())
				if err != nil {
					b.Fatal(err)
				}
				h := exporter.MetricsHandler(exporter.HandlerOptions{
					Metrics:         exporter.Named(node),
					ExporterMetrics: true,
					Logger:          cfg.Logger,
				})
				b.ReportAllocs()
				bytes := 0
				for b.Loop() {
					req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
					req.Header.Set("Accept-Encoding", encoding)
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("status %d", w.Code)
					}
					n, _ := io.Copy(io.Discard, w.Body)
					bytes += int(n)
				}
				b.ReportMetric(float64(bytes)/float64(b.N), "bytes/op")
			})
		}
	}
}
