// Package scrapetest scrapes an exporter in a test the way Prometheus
// does, sending its scrape timeout header, and times the answer.
package scrapetest

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// Get scrapes url with c, sending timeout (seconds, as Prometheus writes
// them; none when empty) in X-Prometheus-Scrape-Timeout-Seconds. It fails
// the test unless the answer is 200, and returns how long the whole
// answer took and its body.
func Get(t testing.TB, c *http.Client, url, timeout string) (time.Duration, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if timeout != "" {
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", timeout)
	}
	begin := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v: %s", url, resp.StatusCode, err, body)
	}
	return time.Since(begin), string(body)
}
