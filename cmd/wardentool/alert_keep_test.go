package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordingAM is an Alertmanager that accepts every POST of alerts and
// keeps what it was sent, in order.
type recordingAM struct {
	*httptest.Server
	mu     sync.Mutex
	alerts []postedAlert
}

type postedAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
}

func newRecordingAM(t *testing.T) *recordingAM {
	am := &recordingAM{}
	am.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v2/alerts" {
			http.NotFound(w, r)
			return
		}
		var body []postedAlert
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		am.mu.Lock()
		am.alerts = append(am.alerts, body...)
		am.mu.Unlock()
	}))
	t.Cleanup(am.Close)
	return am
}

func (am *recordingAM) posted() []postedAlert {
	am.mu.Lock()
	defer am.mu.Unlock()
	return append([]postedAlert(nil), am.alerts...)
}

// send --keep-firing keeps the alert in the spool, list --local shows it,
// flush re-sends it with a later endsAt, and resolve sends it resolved and
// forgets it.
func TestAlertKeepFiringCommands(t *testing.T) {
	am := newRecordingAM(t)
	spool := t.TempDir()
	flags := []string{"--alertmanager.url=" + am.URL, "--spool.dir=" + spool}
	alert := []string{"BackupFailed", "job=nightly", "--annotation=summary=the backup failed"}

	code, stdout, stderr := runTool(t, "", append(append([]string{"alert", "send", "--keep-firing", "--expire=24h"}, alert...), flags...)...)
	if code != exitAccepted {
		t.Fatalf("send --keep-firing: exit %d\n%s%s", code, stdout, stderr)
	}
	first := am.posted()
	if len(first) != 1 || time.Until(first[0].EndsAt) < 3*time.Minute || time.Until(first[0].EndsAt) > 4*time.Minute {
		t.Fatalf("posted %+v, want one alert ending four resend intervals (1m) ahead", first)
	}

	code, stdout, stderr = runTool(t, "", append([]string{"alert", "list", "--local"}, flags...)...)
	if code != exitAccepted || !strings.Contains(stdout, `BackupFailed {alertname="BackupFailed",job="nightly"}`) ||
		!strings.Contains(stdout, `summary="the backup failed"`) || strings.Contains(stdout, "expires=never") {
		t.Errorf("list --local: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = runTool(t, "", append([]string{"alert", "query", "--local", "--output=json"}, flags...)...)
	var kept []struct {
		Alert struct {
			Labels map[string]string `json:"labels"`
		} `json:"alert"`
		Expires time.Time `json:"expires"`
	}
	if err := json.Unmarshal([]byte(stdout), &kept); code != exitAccepted || err != nil || len(kept) != 1 || time.Until(kept[0].Expires) < 23*time.Hour {
		t.Errorf("query --local --output=json: exit %d, %v: %s", code, err, stdout)
	}

	time.Sleep(10 * time.Millisecond)
	code, stdout, stderr = runTool(t, "", append([]string{"alert", "flush"}, flags...)...)
	if code != exitAccepted || !strings.Contains(stdout, "kept alerts re-sent: 1") {
		t.Fatalf("flush: exit %d\n%s%s", code, stdout, stderr)
	}
	resent := am.posted()
	if len(resent) != 2 || !resent[1].StartsAt.Equal(first[0].StartsAt) || !resent[1].EndsAt.After(first[0].EndsAt) {
		t.Fatalf("flush posted %+v after %+v: want the same start and a later end", resent[1:], first)
	}

	code, stdout, stderr = runTool(t, "", append([]string{"alert", "resolve", "BackupFailed", "job=nightly"}, flags...)...)
	if code != exitAccepted || !strings.Contains(stdout, "no longer kept: 1") {
		t.Fatalf("resolve: exit %d\n%s%s", code, stdout, stderr)
	}
	resolved := am.posted()
	if last := resolved[len(resolved)-1]; last.EndsAt.After(time.Now()) || !last.StartsAt.Equal(first[0].StartsAt) {
		t.Errorf("resolve posted %+v, want endsAt now and the kept start", last)
	}
	code, stdout, _ = runTool(t, "", append([]string{"alert", "list", "--local"}, flags...)...)
	if code != exitAccepted || stdout != "" {
		t.Errorf("list --local after resolve: exit %d\n%s", code, stdout)
	}
	runTool(t, "", append([]string{"alert", "flush"}, flags...)...)
	if n := len(am.posted()); n != len(resolved) {
		t.Errorf("flush after resolve posted %d more alerts", n-len(resolved))
	}
}

func TestAlertKeepFiringUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"expire without keep", []string{"alert", "send", "A", "--expire=1h", "--alertmanager.url=http://127.0.0.1:1"}, "--expire goes with --keep-firing"},
		{"keep with end", []string{"alert", "send", "A", "--keep-firing", "--end=2030-01-01T00:00:00Z", "--alertmanager.url=http://127.0.0.1:1"}, "exclude each other"},
		{"negative expire", []string{"alert", "send", "A", "--keep-firing", "--expire=-1h", "--alertmanager.url=http://127.0.0.1:1"}, "must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runTool(t, "", tt.args...)
			if code != exitInvalid || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, want %d with %q\n%s%s", code, exitInvalid, tt.want, stdout, stderr)
			}
		})
	}
}
