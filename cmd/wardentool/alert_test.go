package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"
	"time"
)

// nowMark stands, in a decoded payload, for a time the command took from
// its clock while it ran.
const nowMark = "<now>"

// --dry-run prints what a real send posts: the same alerts, with the
// startsAt and endsAt a send fills in. It used to print startsAt
// 0001-01-01 where a send posts the time of the send.
func TestAlertDryRunPrintsWhatSendPosts(t *testing.T) {
	bodies := make(chan string, 1)
	am := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v2/alerts" {
			http.NotFound(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case bodies <- string(body):
		default:
			http.Error(w, "one POST per run expected", http.StatusBadRequest)
		}
	}))
	defer am.Close()

	const past = "2020-01-02T03:04:05.000Z"
	const zero = "0001-01-01T00:00:00.000Z" // Alertmanager's "no end"
	tests := []struct {
		name             string
		args             []string
		startsAt, endsAt string // nowMark: a time taken during the run
	}{
		{"firing, no start", []string{"send", "A"}, nowMark, zero},
		{"start given", []string{"send", "A", "--start=" + past}, past, zero},
		{"ended in the past, no start", []string{"send", "A", "--end=" + past}, past, past},
		{"resolved, no start", []string{"resolve", "A"}, nowMark, nowMark},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := slices.Concat([]string{"alert"}, tt.args, []string{"severity=page", "--annotation=runbook=https://wiki/x?a=1&b=2"})
			printed, from, to := runAt(t, slices.Concat(args, []string{"--dry-run"})...)
			dry := decodePayload(t, printed, from, to)
			_, from, to = runAt(t, slices.Concat(args, []string{"--alertmanager.url=" + am.URL})...)
			var posted string
			select {
			case posted = <-bodies:
			default:
				t.Fatal("the send posted nothing")
			}
			sent := decodePayload(t, posted, from, to)

			if !reflect.DeepEqual(dry, sent) {
				t.Errorf("--dry-run printed\n%v\nbut the send posted\n%v", dry, sent)
			}
			if len(dry) != 1 || dry[0]["startsAt"] != tt.startsAt || dry[0]["endsAt"] != tt.endsAt {
				t.Errorf("--dry-run printed %v, want startsAt %s and endsAt %s", dry, tt.startsAt, tt.endsAt)
			}
		})
	}
}

// runAt runs wardentool, which must succeed, and returns its stdout and the
// earliest and latest time it could have taken from its clock, as
// Alertmanager's API writes times: to the millisecond.
func runAt(t *testing.T, args ...string) (stdout string, from, to time.Time) {
	t.Helper()
	from = time.Now().Truncate(time.Millisecond)
	code, stdout, stderr := runTool(t, "", args...)
	to = time.Now()
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, stderr)
	}
	return stdout, from, to
}

// decodePayload decodes alerts as Alertmanager's API takes them, with
// nowMark for every startsAt and endsAt between from and to.
func decodePayload(t *testing.T, raw string, from, to time.Time) []map[string]any {
	t.Helper()
	var alerts []map[string]any
	if err := json.Unmarshal([]byte(raw), &alerts); err != nil {
		t.Fatalf("payload %q: %v", raw, err)
	}
	for _, a := range alerts {
		for _, field := range []string{"startsAt", "endsAt"} {
			s, _ := a[field].(string)
			if at, err := time.Parse(time.RFC3339Nano, s); err == nil && !at.Before(from) && !at.After(to) {
				a[field] = nowMark
			}
		}
	}
	return alerts
}
