package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// listingAM is an Alertmanager that lists one alert, with a summary, a
// description and a generator URL.
func listingAM(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `[{"labels":{"alertname":"DiskFull","instance":"node1"},
			"annotations":{"summary":"disk / is full","description":"98% used"},
			"generatorURL":"https://node1/disk","startsAt":"2026-01-02T03:04:05Z","endsAt":"2026-01-02T04:04:05Z",
			"updatedAt":"2026-01-02T03:04:05Z","fingerprint":"f","receivers":[{"name":"team"}],
			"status":{"state":"active","silencedBy":[],"inhibitedBy":[],"mutedBy":[]}}]`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// What an amtool user types works: alert add is send, -o is --output,
// and query shows the summary and the start time (simple) or every
// annotation and the generator URL (extended).
func TestAlertAmtoolHabits(t *testing.T) {
	am := newRecordingAM(t)
	code, stdout, stderr := runTool(t, "", "alert", "add", "DiskFull", "instance=node1", "--alertmanager.url="+am.URL, "-o", "json")
	var out map[string]any
	if err := json.Unmarshal([]byte(stdout), &out); code != exitAccepted || err != nil || out["delivered"] != 1.0 {
		t.Errorf("alert add -o json: exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	if got := am.posted(); len(got) != 1 || got[0].Labels["alertname"] != "DiskFull" {
		t.Errorf("alert add posted %+v", got)
	}

	url := listingAM(t)
	tests := []struct {
		output string
		want   []string
		not    []string
	}{
		{"simple", []string{`DiskFull {alertname="DiskFull",instance="node1"}`, "starts=2026-01-02T03:04:05Z", `summary="disk / is full"`}, []string{"98%"}},
		{"extended", []string{"starts=2026-01-02T03:04:05Z", `annotations={description="98% used",summary="disk / is full"}`, `generator="https://node1/disk"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.output, func(t *testing.T) {
			code, stdout, stderr := runTool(t, "", "alert", "query", "--alertmanager.url="+url, "-o", tt.output)
			if code != exitAccepted {
				t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("query -o %s lacks %s:\n%s", tt.output, w, stdout)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(stdout, n) {
					t.Errorf("query -o %s shows %s:\n%s", tt.output, n, stdout)
				}
			}
		})
	}
}
