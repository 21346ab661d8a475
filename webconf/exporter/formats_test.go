package exporter_test

import (
	"compress/gzip"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/warden-exporter/warden/webconf/exporter"
)

// The handler answers each format and encoding a scraper asks for:
// text (plain or gzip), and protobuf, which promhttp writes.
func TestMetricsHandlerFormats(t *testing.T) {
	h := exporter.MetricsHandler(exporter.HandlerOptions{
		Metrics: exporter.Named(exporter.NamedCollectors(map[string]prometheus.Collector{"x": gauge("test_x")})),
		Logger:  slog.New(slog.DiscardHandler),
	})
	for _, tc := range []struct {
		name, accept, encoding string
		wantType               expfmt.FormatType
		wantGzip               bool
	}{
		{"text", "", "", expfmt.TypeTextPlain, false},
		{"text gzip", "", "gzip", expfmt.TypeTextPlain, true},
		{"prometheus 3", "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2", "gzip", expfmt.TypeTextPlain, true},
		{"protobuf", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3", "", expfmt.TypeProtoDelim, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			if tc.accept != "" {
				req.Header.Set("Accept", tc.accept)
			}
			if tc.encoding != "" {
				req.Header.Set("Accept-Encoding", tc.encoding)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			format := expfmt.Format(w.Header().Get("Content-Type"))
			if format.FormatType() != tc.wantType {
				t.Errorf("Content-Type %q, want a %v format", format, tc.wantType)
			}
			body := io.Reader(w.Body)
			if gz := w.Header().Get("Content-Encoding") == "gzip"; gz != tc.wantGzip {
				t.Fatalf("gzip %v, want %v", gz, tc.wantGzip)
			} else if gz {
				zr, err := gzip.NewReader(body)
				if err != nil {
					t.Fatal(err)
				}
				body = zr
			}
			families := map[string]bool{}
			dec := expfmt.NewDecoder(body, format)
			for {
				var mf dto.MetricFamily
				if err := dec.Decode(&mf); err != nil {
					if !errors.Is(err, io.EOF) {
						t.Fatal(err)
					}
					break
				}
				families[mf.GetName()] = true
			}
			if !families["test_x"] {
				t.Errorf("no test_x in %v", families)
			}
			if got := strings.Join(w.Header().Values("Vary"), ","); got != "Accept,Accept-Encoding" {
				t.Errorf("Vary %q", got)
			}
		})
	}
}
