package exporter

import (
	"testing"
	"time"
)

// The rows of scrapeTimeout's doc comment.
func TestScrapeTimeout(t *testing.T) {
	const offset, collectorTimeout = 500 * time.Millisecond, 10 * time.Second
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{
		{"", collectorTimeout},
		{"soon", collectorTimeout},
		{"0", collectorTimeout},
		{"-3", collectorTimeout},
		{"NaN", collectorTimeout},
		{"Inf", collectorTimeout},
		{"1e300", collectorTimeout},
		{"3", 2500 * time.Millisecond},
		{"30", 29500 * time.Millisecond},
		{"1.5", time.Second},
		{"1", 500 * time.Millisecond},
		{"0.6", 300 * time.Millisecond},
	} {
		if got := scrapeTimeout(tc.header, offset, collectorTimeout); got != tc.want {
			t.Errorf("header %q: %v, want %v", tc.header, got, tc.want)
		}
	}
	if got := scrapeTimeout("3", 0, collectorTimeout); got != 3*time.Second {
		t.Errorf("no offset: %v, want 3s", got)
	}
}
