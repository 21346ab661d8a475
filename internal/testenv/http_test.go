package testenv

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestFetchBoundsEveryRequest shows that a caller without a deadline, as
// Alerts is, still gets one of requestTimeout.
func TestFetchBoundsEveryRequest(t *testing.T) {
	var deadline time.Time
	var hasDeadline bool
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		deadline, hasDeadline = r.Context().Deadline()
		return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
	})}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://127.0.0.1:1/", nil)
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	if _, _, err := fetch(client, req); err != nil {
		t.Fatal(err)
	}
	if !hasDeadline {
		t.Fatal("request sent without a deadline")
	}
	if d := deadline.Sub(before); d <= 0 || d > requestTimeout+time.Second {
		t.Fatalf("deadline %s after the call, want about %s", d, requestTimeout)
	}
}
