package alertclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

// queryAlert is one alert as Alertmanager lists it, %d its number.
const queryAlert = `{"labels":{"alertname":"Big","i":"%08d"},"annotations":{},"receivers":[{"name":"r"}],` +
	`"fingerprint":"0123456789abcdef","startsAt":"2026-01-02T03:04:05.000Z","endsAt":"2026-01-02T04:04:05.000Z",` +
	`"updatedAt":"2026-01-02T03:04:05.000Z","status":{"state":"active","silencedBy":[],"inhibitedBy":[],"mutedBy":[]}}`

// bigAM answers a query with at least size bytes of alerts, streamed
// (chunked) or with a Content-Length, and counts what it wrote.
func bigAM(t *testing.T, size int, declareLength bool) (url string, alerts int) {
	one := len(fmt.Sprintf(queryAlert, 0)) + 1
	alerts = max(1, size/one)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if declareLength {
			w.Header().Set("Content-Length", strconv.Itoa(alerts*one+1))
		}
		sep := "["
		for i := range alerts {
			if _, err := fmt.Fprintf(w, sep+queryAlert, i); err != nil {
				return // the client went away
			}
			sep = ","
		}
		fmt.Fprint(w, "]")
	}))
	t.Cleanup(srv.Close)
	return srv.URL, alerts
}

// A query reads at most MaxResponseBytes (16 MiB by default) of an
// answer, and a larger one is an error that says so and names the limit,
// not an answer cut short. It used to read any size: a 78 MB answer took
// 414 MB of memory.
func TestQueryAnswerIsBounded(t *testing.T) {
	tests := []struct {
		name          string
		limit         int64 // Options.MaxResponseBytes
		size          int
		declareLength bool
		wantLimit     int64 // 0: the answer is read whole
	}{
		{"20 MiB streamed, default limit", 0, 20 << 20, false, DefaultMaxResponseBytes},
		{"80 MiB declared, default limit", 0, 80 << 20, true, DefaultMaxResponseBytes},
		{"2 MiB, limit 1 MiB", 1 << 20, 2 << 20, false, 1 << 20},
		{"half a MiB, limit 1 MiB", 1 << 20, 1 << 19, false, 0},
		{"2 MiB, default limit", 0, 2 << 20, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, n := bigAM(t, tt.size, tt.declareLength)
			cfg := testConfig(t, "", nil, url)
			// Reading 16 MiB under the race detector takes seconds.
			cfg.Alertmanagers[0].Timeout = model.Duration(time.Minute)
			c, err := New(Options{Config: cfg, Logger: slog.New(slog.DiscardHandler), MaxResponseBytes: tt.limit})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			got, err := c.Query(ctx, nil)
			if tt.wantLimit == 0 {
				if err != nil || len(got) != n {
					t.Fatalf("got %d alerts, %v; want %d", len(got), err, n)
				}
				return
			}
			if !errors.Is(err, ErrResponseTooLarge) || !strings.Contains(err.Error(), fmt.Sprintf("limit of %d bytes", tt.wantLimit)) {
				t.Fatalf("got %d alerts, %v; want ErrResponseTooLarge naming the limit of %d bytes", len(got), err, tt.wantLimit)
			}
			if got != nil {
				t.Errorf("%d alerts returned with the error", len(got))
			}
		})
	}
	if _, err := New(Options{Config: testConfig(t, "", nil, "https://am:9093"), Logger: slog.New(slog.DiscardHandler), MaxResponseBytes: -1}); err == nil ||
		!strings.Contains(err.Error(), "MaxResponseBytes") {
		t.Errorf("negative MaxResponseBytes: %v, want an error naming it", err)
	}
}
