package alertclient

// A fuzz target for Alertmanager's answers as the client reads them: the
// status, content type, Location and body of the answer to a POST and to a
// GET of /api/v2/alerts, served by an httptest server (an Alertmanager, a
// proxy in front of one, or something else listening there).

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
)

// answer is what the fuzzed Alertmanager says to every request.
type answer struct {
	mu          sync.Mutex
	status      int
	contentType string
	location    string
	body        []byte
	requests    int
}

func (a *answer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests++
	if a.contentType != "" {
		w.Header().Set("Content-Type", a.contentType)
	}
	if a.location != "" {
		w.Header().Set("Location", a.location)
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body) // refused for the statuses without a body
}

func (a *answer) set(status int, contentType, location string, body []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.status, a.contentType, a.location, a.body, a.requests = status, contentType, location, body, 0
}

func (a *answer) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests
}

// fuzzMaxResponse is the client's bound on an answer, small enough for
// the fuzzer's inputs to cross it.
const fuzzMaxResponse = 1 << 10

// maxErrorText bounds what an answer may make of an error message: the
// 4 KiB of body kept, each byte escaped as \xNN at worst, and the rest.
const maxErrorText = 4*(4<<10) + 4*(8<<10)

// FuzzAlertmanagerAnswer checks what the client makes of any answer. A POST
// is delivered exactly when the answer is 200 and is not followed
// anywhere; any other answer is an error that names the status, is
// retried only for 429 and 5xx, is printable (nothing from the server
// reaches a terminal raw) and bounded in size whatever the body. A query
// answered anything but 200 is such an error too; one answered with more
// than the client's bound is an error wrapping ErrResponseTooLarge, never
// a list, and one within it never that error; the alerts it returns have
// no nil entry (their fields may be missing: callers check, as
// `wardentool alert query` does).
func FuzzAlertmanagerAnswer(f *testing.F) {
	am := &answer{}
	srv := httptest.NewServer(am)
	f.Cleanup(srv.Close)
	hc := config.DefaultHTTPClientConfig
	hc.FollowRedirects = true // to the same scheme, host and method only
	c, err := New(Options{
		Config: &Config{Alertmanagers: []AlertmanagerConfig{{
			URLs: []string{srv.URL}, HTTPConfig: hc, Timeout: model.Duration(5 * time.Second),
		}}},
		Logger:           slog.New(slog.DiscardHandler),
		MaxResponseBytes: fuzzMaxResponse,
	})
	if err != nil {
		f.Fatal(err)
	}
	ep := c.endpoints[0]
	body := toPostable(prepare(alertsNamed("Fuzz"), time.Now()))
	f.Fuzz(func(t *testing.T, status uint16, contentType, location string, answerBody []byte) {
		code := 200 + int(status)%400
		am.set(code, contentType, location, answerBody)
		ctx := context.Background()

		err := c.postOnce(ctx, ep, body)
		if !validHeaderValue(contentType) || !validHeaderValue(location) {
			// Not an HTTP answer: Go's client refuses its header.
			if err == nil {
				t.Fatal("malformed answer taken as delivered")
			}
			checkPrintable(t, "POST", err.Error())
			return
		}
		if followed := am.count() > 1; followed && code != http.StatusTemporaryRedirect && code != http.StatusPermanentRedirect {
			t.Errorf("answer %d followed to %q", code, location)
		}
		if code == http.StatusOK {
			if err != nil {
				t.Errorf("answer 200 (%q) not taken as delivered: %v", contentType, err)
			}
		} else {
			checkAnswerError(t, "POST", code, err)
			if transient := errors.Is(err, errTransient); transient != (code == http.StatusTooManyRequests || code >= 500) && code != http.StatusTemporaryRedirect && code != http.StatusPermanentRedirect {
				t.Errorf("answer %d: retried %v: %v", code, transient, err)
			}
		}

		alerts, err := c.Query(ctx, nil)
		if code != http.StatusOK {
			checkAnswerError(t, "query", code, err)
			return
		}
		if errors.Is(err, ErrResponseTooLarge) && len(answerBody) <= fuzzMaxResponse {
			t.Errorf("query: answer of %d bytes refused as over the bound of %d: %v", len(answerBody), fuzzMaxResponse, err)
		}
		if err != nil {
			checkPrintable(t, "query", err.Error())
			return
		}
		if len(answerBody) > fuzzMaxResponse {
			t.Fatalf("query: a list of %d alerts from an answer of %d bytes, over the bound of %d", len(alerts), len(answerBody), fuzzMaxResponse)
		}
		if slices.Contains(alerts, nil) {
			t.Errorf("query returned a nil alert: %v", alerts)
		}
	})
}

// checkAnswerError fails t unless err is the error of an answer code:
// there, naming the code, printable and bounded. A redirect that was
// followed (307, 308 to the same place) ends in another answer, so its
// code is not required.
func checkAnswerError(t *testing.T, what string, code int, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: answer %d taken as success", what, code)
	}
	msg := err.Error()
	if code != http.StatusTemporaryRedirect && code != http.StatusPermanentRedirect && !strings.Contains(msg, strconv.Itoa(code)) {
		t.Errorf("%s: answer %d: error does not name it: %s", what, code, msg)
	}
	if len(msg) > maxErrorText {
		t.Errorf("%s: answer %d: error of %d bytes", what, code, len(msg))
	}
	checkPrintable(t, what, msg)
}

func checkPrintable(t *testing.T, what, msg string) {
	t.Helper()
	if p := Printable(msg); p != msg {
		t.Errorf("%s: error with unprintable text: %q", what, msg)
	}
}

// validHeaderValue reports whether the server writes v as a valid header
// field value: no control characters but tab (RFC 9110, 5.5), after Go's
// server turned CR and LF into spaces.
func validHeaderValue(v string) bool {
	return !strings.ContainsFunc(v, func(r rune) bool {
		return (r < ' ' && r != '\t' && r != '\r' && r != '\n') || r == 0x7f
	})
}
