package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// hostile is what a server could send to take over the operator's
// terminal: clear the screen, move the cursor home, print a lie, reverse
// the rest of the line (U+202E), a C1 CSI (U+009B) that JSON encoding
// keeps as it is, and a byte that is not UTF-8.
const hostile = "\x1b[2J\x1b[1;1HALL CLEAR\u202e\u009b\xff"

// escaped is how hostile must show: as the escapes, not the characters.
const escaped = `\x1b[2J\x1b[1;1HALL CLEAR`

// unprintable reports whether a terminal could act on s: it holds a byte
// that is not UTF-8, or a rune other than a newline that is not printable.
func unprintable(s string) bool {
	return !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r != '\n' && !unicode.IsPrint(r) })
}

// hostileAM is an Alertmanager that lists one alert full of terminal
// escapes, one without the fields Alertmanager always sends, and refuses
// every POST with a body full of escapes; with failQuery, it refuses the
// query the same way.
func hostileAM(t *testing.T, failQuery bool) string {
	alerts, err := json.Marshal([]map[string]any{
		{
			"labels":      map[string]string{"alertname": hostile, "severity": hostile, "\x1b]0;owned\a": "x"},
			"annotations": map[string]string{"summary": hostile},
			"startsAt":    "2026-01-02T03:04:05Z", "endsAt": "2026-01-02T04:04:05Z", "updatedAt": "2026-01-02T03:04:05Z",
			"fingerprint": "abc", "receivers": []map[string]string{{"name": hostile}},
			"status": map[string]any{"state": hostile, "silencedBy": []string{}, "inhibitedBy": []string{}, "mutedBy": []string{}},
		},
		{"labels": map[string]string{"alertname": "Sparse"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && !failQuery {
			w.Header().Set("Content-Type", "application/json")
			w.Write(alerts)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, hostile)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Everything `wardentool alert` prints that came from Alertmanager shows
// its control characters escaped: labels and annotations that query lists,
// in both output formats, and refusals. They used to be written raw, and
// an alertname holding ESC[2J cleared the operator's screen.
func TestAlertServerTextIsEscaped(t *testing.T) {
	tests := []struct {
		name      string
		failQuery bool
		args      []string
		code      int
		// want is in stdout, or in stderr when the command fails.
		want string
	}{
		{"query", false, []string{"query"}, exitAccepted, escaped},
		{"query, json", false, []string{"query", "--output=json"}, exitAccepted, `\u001b[2J\u001b[1;1HALL CLEAR\u202e\u009b`},
		{"query refused", true, []string{"query"}, exitNotDelivered, escaped},
		{"query refused, json", true, []string{"query", "--output=json"}, exitNotDelivered, escaped},
		{"send refused", false, []string{"send", "A"}, exitNotDelivered, escaped},
		{"send refused, json", false, []string{"send", "A", "--output=json"}, exitNotDelivered, `\\x1b[2J\\x1b[1;1HALL CLEAR`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := hostileAM(t, tt.failQuery)
			args := append([]string{"alert"}, tt.args...)
			code, stdout, stderr := runTool(t, "", append(args, "--alertmanager.url="+url)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, stdout, stderr)
			}
			for name, out := range map[string]string{"stdout": stdout, "stderr": stderr} {
				if unprintable(out) {
					t.Errorf("%s is not printable: %q", name, out)
				}
			}
			if !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("output lacks %s\nstdout:\n%s\nstderr:\n%s", tt.want, stdout, stderr)
			}
			if strings.Contains(tt.name, "json") && stdout != "" {
				var v any
				if err := json.Unmarshal([]byte(stdout), &v); err != nil {
					t.Errorf("stdout is not JSON: %v\n%s", err, stdout)
				}
			}
		})
	}
}

// The JSON query output keeps every string: escaping changes how it is
// written, not what a JSON reader gets.
func TestAlertQueryJSONKeepsValues(t *testing.T) {
	code, stdout, stderr := runTool(t, "", "alert", "query", "--output=json", "--alertmanager.url="+hostileAM(t, false))
	if code != exitAccepted {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	var got []struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	// JSON holds only UTF-8: the stray byte reads back as U+FFFD.
	want := strings.ToValidUTF8(hostile, "\uFFFD")
	if len(got) != 2 || got[0].Labels["alertname"] != want || got[0].Annotations["summary"] != want {
		t.Errorf("decoded %s, want alertname and summary %q", fmt.Sprint(got), want)
	}
}

// A query answer larger than --max-response-size is an error naming the
// limit and the flag, not a list read whatever its size or cut short.
func TestAlertQueryAnswerIsBounded(t *testing.T) {
	one := `{"labels":{"alertname":"Big"},"annotations":{},"receivers":[],"fingerprint":"f","startsAt":"2026-01-02T03:04:05Z",` +
		`"endsAt":"2026-01-02T04:04:05Z","updatedAt":"2026-01-02T03:04:05Z","status":{"state":"active","silencedBy":[],"inhibitedBy":[]}}`
	n := (2 << 20) / len(one) // 2 MiB of alerts
	body := "[" + strings.Repeat(one+",", n) + one + "]"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		// Flushed in parts: no Content-Length, read as it comes.
		for i := 0; i < len(body); i += 64 << 10 {
			io.WriteString(w, body[i:min(i+64<<10, len(body))])
			w.(http.Flusher).Flush()
		}
	}))
	defer srv.Close()
	code, stdout, stderr := runTool(t, "", "alert", "query", "--alertmanager.url="+srv.URL, "--max-response-size=1MiB")
	if code != exitNotDelivered || !strings.Contains(stderr, "larger than the limit of 1048576 bytes") || !strings.Contains(stderr, "--max-response-size is 1MiB") {
		t.Errorf("exit %d, want %d naming the limit and the flag\n%s%s", code, exitNotDelivered, stdout, stderr)
	}
	if stdout != "" {
		t.Errorf("printed a list cut short:\n%.200s", stdout)
	}
}
