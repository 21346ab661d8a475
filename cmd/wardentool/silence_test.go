package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const silenceID = "8d3e4f0b-64d4-4b6f-9d0e-2a2d3b1e6c11"

// silenceAM is Alertmanager's silence API, faked: it records what it is
// sent and answers status, with one active and one expired silence to list.
type silenceAM struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
	bodies   []string
}

func newSilenceAM(t *testing.T, status int) *silenceAM {
	am := &silenceAM{}
	am.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		am.mu.Lock()
		am.requests, am.bodies = append(am.requests, r), append(am.bodies, string(body))
		am.mu.Unlock()
		if status != http.StatusOK {
			http.Error(w, "silence refused: "+http.StatusText(status), status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.Method {
		case http.MethodPost:
			io.WriteString(w, `{"silenceID":"`+silenceID+`"}`)
		case http.MethodGet:
			io.WriteString(w, `[{"id":"`+silenceID+`","matchers":[{"name":"instance","value":"node1","isRegex":false,"isEqual":true},
				{"name":"alertname","value":"Disk.*","isRegex":true,"isEqual":true}],
				"startsAt":"2026-01-02T03:04:05Z","endsAt":"2026-01-02T04:04:05Z","updatedAt":"2026-01-02T03:04:05Z",
				"createdBy":"ops","comment":"maintenance","status":{"state":"active"}},
				{"id":"11111111-2222-4333-8444-555555555555","matchers":[{"name":"job","value":"old","isRegex":false}],
				"startsAt":"2025-01-02T03:04:05Z","endsAt":"2025-01-02T04:04:05Z","updatedAt":"2025-01-02T03:04:05Z",
				"createdBy":"ops","comment":"past","status":{"state":"expired"}}]`)
		}
	}))
	t.Cleanup(am.Close)
	return am
}

// last returns the last request.
func (am *silenceAM) last() *http.Request {
	am.mu.Lock()
	defer am.mu.Unlock()
	return am.requests[len(am.requests)-1]
}

// count returns how many requests came.
func (am *silenceAM) count() int {
	am.mu.Lock()
	defer am.mu.Unlock()
	return len(am.requests)
}

// posted returns the silence last posted.
func (am *silenceAM) posted(t *testing.T) map[string]any {
	t.Helper()
	am.mu.Lock()
	defer am.mu.Unlock()
	var v map[string]any
	if err := json.Unmarshal([]byte(am.bodies[len(am.bodies)-1]), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// silence add takes amtool's forms and prints the ID alone, so that
// id=$(wardentool silence add ...) works.
func TestSilenceAdd(t *testing.T) {
	am := newSilenceAM(t, http.StatusOK)
	url := "--alertmanager.url=" + am.URL
	code, stdout, stderr := runTool(t, "", "silence", "add", "instance=node1", `alertname=~"Disk.*"`, "-c", "maintenance", "-d", "1d", url)
	if code != exitAccepted || stdout != silenceID+"\n" {
		t.Fatalf("exit %d, want the ID alone\n%q%s", code, stdout, stderr)
	}
	posted := am.posted(t)
	start, _ := time.Parse(time.RFC3339, posted["startsAt"].(string))
	end, _ := time.Parse(time.RFC3339, posted["endsAt"].(string))
	if d := end.Sub(start); d != 24*time.Hour || posted["comment"] != "maintenance" || posted["createdBy"] != userName() {
		t.Errorf("posted %v: want 24h, the comment and the user as author", posted)
	}
	if m := posted["matchers"].([]any); len(m) != 2 || m[1].(map[string]any)["isRegex"] != true {
		t.Errorf("matchers %v", m)
	}

	code, stdout, _ = runTool(t, "", "silence", "add", "DiskFull", "--comment=x", "--author=me", "--end=2099-01-01T00:00:00Z", "-o", "json", url)
	var out map[string]string
	if err := json.Unmarshal([]byte(stdout), &out); code != exitAccepted || err != nil || out["silenceID"] != silenceID {
		t.Errorf("-o json: exit %d %v %s", code, err, stdout)
	}
	if p := am.posted(t); p["createdBy"] != "me" || p["endsAt"] != "2099-01-01T00:00:00.000Z" ||
		p["matchers"].([]any)[0].(map[string]any)["name"] != "alertname" {
		t.Errorf("posted %v: want author me, the end given, and alertname=DiskFull", p)
	}
}

// amtool's config gives the author and can lift the comment requirement;
// the command line wins over it.
func TestSilenceAmtoolConfig(t *testing.T) {
	am := newSilenceAM(t, http.StatusOK)
	userAmtoolConfig(t, "alertmanager.url: "+am.URL+"\nauthor: oncall\ncomment_required: false\n")
	if code, stdout, stderr := runTool(t, "", "silence", "add", "instance=node1"); code != exitAccepted || am.posted(t)["createdBy"] != "oncall" {
		t.Errorf("exit %d, author %v\n%s%s", code, am.posted(t)["createdBy"], stdout, stderr)
	}
	if code, _, _ := runTool(t, "", "silence", "add", "instance=node1", "-a", "me"); code != exitAccepted || am.posted(t)["createdBy"] != "me" {
		t.Errorf("--author over amtool's author: exit %d, author %v", code, am.posted(t)["createdBy"])
	}
}

func TestSilenceInvalidAndRefused(t *testing.T) {
	am := newSilenceAM(t, http.StatusOK)
	refusing := newSilenceAM(t, http.StatusUnauthorized)
	tests := []struct {
		name string
		args []string
		url  string
		code int
		want string
	}{
		{"no comment", []string{"silence", "add", "instance=node1"}, am.URL, exitInvalid, "--comment is required"},
		{"no matchers", []string{"silence", "add", "-c", "x"}, am.URL, exitInvalid, "no matchers"},
		{"bad matcher", []string{"silence", "add", "-c", "x", `alertname=~"(`}, am.URL, exitInvalid, `matcher "alertname=~\"("`},
		{"bad duration", []string{"silence", "add", "-c", "x", "a=b", "-d", "soon"}, am.URL, exitInvalid, `--duration "soon"`},
		{"ends in the past", []string{"silence", "add", "-c", "x", "a=b", "--end=2020-01-01T00:00:00Z"}, am.URL, exitInvalid, "in the past"},
		{"bad ID", []string{"silence", "expire", "nope"}, am.URL, exitInvalid, "not a UUID"},
		{"refused add", []string{"silence", "add", "-c", "x", "a=b"}, refusing.URL, exitNotDelivered, "401 Unauthorized: silence refused: Unauthorized"},
		{"refused query", []string{"silence", "query"}, refusing.URL, exitNotDelivered, "401 Unauthorized"},
		{"refused expire", []string{"silence", "expire", silenceID}, refusing.URL, exitNotDelivered, "401 Unauthorized"},
		{"unreachable", []string{"silence", "query", "--timeout=2s"}, closedAlertmanager(t), exitNotDelivered, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runTool(t, "", append(tt.args, "--alertmanager.url="+tt.url)...)
			if code != tt.code || !strings.Contains(stderr, tt.want) || stdout != "" {
				t.Errorf("exit %d, want %d with %q and nothing on stdout\n%s%s", code, tt.code, tt.want, stdout, stderr)
			}
		})
	}
	if n := am.count(); n != 0 {
		t.Errorf("%d requests sent for invalid input", n)
	}
}

func TestSilenceQueryAndExpire(t *testing.T) {
	am := newSilenceAM(t, http.StatusOK)
	url := "--alertmanager.url=" + am.URL
	tests := []struct {
		args []string
		want []string
		not  []string
	}{
		{[]string{"silence", "query"}, []string{silenceID + ` {instance="node1",alertname=~"Disk.*"} ends=2026-01-02T04:04:05Z createdBy="ops" comment="maintenance"`}, []string{"past", "state="}},
		{[]string{"silence"}, []string{silenceID}, []string{"past"}},
		{[]string{"silence", "query", "-o", "extended"}, []string{"starts=2026-01-02T03:04:05Z state=active"}, nil},
		{[]string{"silence", "query", "--expired"}, []string{`comment="past"`}, []string{silenceID}},
		{[]string{"silence", "query", "-q"}, []string{silenceID + "\n"}, []string{"ops"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runTool(t, "", append(tt.args, url)...)
			if code != exitAccepted {
				t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("lacks %s:\n%s", w, stdout)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(stdout, n) {
					t.Errorf("shows %s:\n%s", n, stdout)
				}
			}
		})
	}
	code, stdout, _ := runTool(t, "", "silence", "query", "instance=node1", "-o", "json", url)
	var list []map[string]any
	if err := json.Unmarshal([]byte(stdout), &list); code != exitAccepted || err != nil || len(list) != 1 {
		t.Errorf("-o json: exit %d %v %s", code, err, stdout)
	}
	if q := am.last().URL.Query()["filter"]; len(q) != 1 || q[0] != `instance="node1"` {
		t.Errorf("filter sent: %q", q)
	}
	if code, stdout, stderr := runTool(t, "", "silence", "expire", silenceID, url); code != exitAccepted || stdout != "" {
		t.Errorf("expire: exit %d\n%s%s", code, stdout, stderr)
	}
	if r := am.last(); r.Method != http.MethodDelete || r.URL.Path != "/api/v2/silence/"+silenceID {
		t.Errorf("expire sent %s %s", r.Method, r.URL.Path)
	}
}
