package alertclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
)

// silenceAM makes f answer the silence API: POST with status (and, for
// 200, an ID), GET with one silence, DELETE with status; requests are
// recorded.
type silenceAM struct {
	*fakeAM
	mu       sync.Mutex
	requests []string // "METHOD path body"
}

func newSilenceAM(t *testing.T, status int) *silenceAM {
	s := &silenceAM{fakeAM: newFakeAM(t, status)}
	s.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.requests = append(s.requests, r.Method+" "+r.URL.Path+" "+string(body))
		s.mu.Unlock()
		if status != http.StatusOK {
			http.Error(w, "fake refusal "+http.StatusText(status), status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.Method {
		case http.MethodPost:
			io.WriteString(w, `{"silenceID":"8d3e4f0b-64d4-4b6f-9d0e-2a2d3b1e6c11"}`)
		case http.MethodGet:
			io.WriteString(w, `[{"id":"8d3e4f0b-64d4-4b6f-9d0e-2a2d3b1e6c11","matchers":[{"name":"instance","value":"node1","isRegex":false,"isEqual":true}],
				"startsAt":"2026-01-02T03:04:05Z","endsAt":"2026-01-02T04:04:05Z","updatedAt":"2026-01-02T03:04:05Z",
				"createdBy":"ops","comment":"maintenance","status":{"state":"active"}}]`)
		}
	})
	return s
}

func (s *silenceAM) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

func mustMatchers(t *testing.T, args ...string) []*labels.Matcher {
	t.Helper()
	ms, err := MatchersFromArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// A silence goes to the first Alertmanager that accepts it, in order: one
// that refuses (here with 401) is passed over, and its answer reported
// only if none accepts.
func TestAddSilenceFirstAccepting(t *testing.T) {
	refusing, accepting := newSilenceAM(t, http.StatusUnauthorized), newSilenceAM(t, http.StatusOK)
	c := testClient(t, "", []*fakeAM{refusing.fakeAM, accepting.fakeAM})
	now := time.Now()
	s := Silence{Matchers: mustMatchers(t, "instance=node1", `alertname=~"Disk.*"`, `severity!="info"`),
		StartsAt: now, EndsAt: now.Add(time.Hour), CreatedBy: "ops", Comment: "maintenance"}
	id, err := c.AddSilence(context.Background(), s)
	if err != nil || id != "8d3e4f0b-64d4-4b6f-9d0e-2a2d3b1e6c11" {
		t.Fatalf("AddSilence: %q %v", id, err)
	}
	got := accepting.seen()
	if len(got) != 1 || !strings.HasPrefix(got[0], "POST /api/v2/silences ") {
		t.Fatalf("requests %v", got)
	}
	var posted struct {
		Matchers []struct {
			Name, Value      string
			IsRegex, IsEqual bool
		}
		CreatedBy, Comment string
	}
	if err := json.Unmarshal([]byte(strings.SplitN(got[0], " ", 3)[2]), &posted); err != nil {
		t.Fatal(err)
	}
	want := `[{instance node1 false true} {alertname Disk.* true true} {severity info false false}]`
	if m := fmt.Sprint(posted.Matchers); m != want || posted.CreatedBy != "ops" || posted.Comment != "maintenance" {
		t.Errorf("posted %+v, want matchers %s", posted, want)
	}

	// Every one refusing: each answer, with the server's message.
	c = testClient(t, "", []*fakeAM{refusing.fakeAM})
	if _, err := c.AddSilence(context.Background(), s); err == nil || !strings.Contains(err.Error(), "401 Unauthorized: fake refusal Unauthorized") {
		t.Errorf("got %v, want the refusal and its message", err)
	}
}

// An invalid silence is refused before anything is sent.
func TestSilenceValidate(t *testing.T) {
	am := newSilenceAM(t, http.StatusOK)
	c := testClient(t, "", []*fakeAM{am.fakeAM})
	now := time.Now()
	ms := mustMatchers(t, "instance=node1")
	tests := []struct {
		name string
		s    Silence
		want string
	}{
		{"no matchers", Silence{StartsAt: now, EndsAt: now.Add(time.Hour), CreatedBy: "a"}, "no matchers"},
		{"ends before it starts", Silence{Matchers: ms, StartsAt: now, EndsAt: now.Add(-time.Minute), CreatedBy: "a"}, "not after it starts"},
		{"ends in the past", Silence{Matchers: ms, StartsAt: now.Add(-2 * time.Hour), EndsAt: now.Add(-time.Hour), CreatedBy: "a"}, "in the past"},
		{"no author", Silence{Matchers: ms, StartsAt: now, EndsAt: now.Add(time.Hour)}, "no author"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.AddSilence(context.Background(), tt.s); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
	if err := c.ExpireSilence(context.Background(), "not-a-uuid"); err == nil || !strings.Contains(err.Error(), "not a UUID") {
		t.Errorf("expire: got %v", err)
	}
	if n := len(am.seen()); n != 0 {
		t.Errorf("%d requests sent for invalid input", n)
	}
}

func TestSilencesAndExpire(t *testing.T) {
	am := newSilenceAM(t, http.StatusOK)
	c := testClient(t, "", []*fakeAM{am.fakeAM})
	found, err := c.Silences(context.Background(), []string{`instance="node1"`})
	if err != nil || len(found) != 1 || *found[0].CreatedBy != "ops" {
		t.Fatalf("Silences: %v %v", found, err)
	}
	if err := c.ExpireSilence(context.Background(), "8d3e4f0b-64d4-4b6f-9d0e-2a2d3b1e6c11"); err != nil {
		t.Fatal(err)
	}
	got := am.seen()
	if len(got) != 2 || !strings.HasPrefix(got[0], "GET /api/v2/silences") || got[1] != "DELETE /api/v2/silence/8d3e4f0b-64d4-4b6f-9d0e-2a2d3b1e6c11 " {
		t.Errorf("requests %q", got)
	}
}

// An Alertmanager (or anything at its address) that answers 200 with an
// empty body made nothing: AddSilence goes on to the next one instead of
// returning an empty ID, and Query and Silences report it instead of "none
// found". Each took the empty answer as success.
func TestEmptyAnswersAreNotSuccess(t *testing.T) {
	empty := newFakeAM(t, http.StatusOK)
	empty.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
	})
	accepting := newSilenceAM(t, http.StatusOK)
	now := time.Now()
	s := Silence{Matchers: mustMatchers(t, "instance=node1"), StartsAt: now, EndsAt: now.Add(time.Hour), CreatedBy: "ops", Comment: "maintenance"}

	c := testClient(t, "", []*fakeAM{empty, accepting.fakeAM})
	if id, err := c.AddSilence(context.Background(), s); err != nil || id == "" {
		t.Errorf("AddSilence past an empty answer: %q %v, want the next one's ID", id, err)
	}
	c = testClient(t, "", []*fakeAM{empty})
	if id, err := c.AddSilence(context.Background(), s); err == nil || !strings.Contains(err.Error(), "without a silence ID") {
		t.Errorf("AddSilence: %q %v, want an error", id, err)
	}
	if got, err := c.Silences(context.Background(), nil); err == nil {
		t.Errorf("Silences: %v, want an error", got)
	}
	if got, err := c.Query(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "without a list of alerts") {
		t.Errorf("Query: %v %v, want an error", got, err)
	}
}
