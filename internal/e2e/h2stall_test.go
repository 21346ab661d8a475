//go:build e2e

package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warden-exporter/warden/webconf"
	"github.com/warden-exporter/warden/webconf/webconftest"
)

// TestStalledHTTP2ClientDoesNotStarveScrapes: an identity allowed
// /metrics (the whole output, larger than HTTP/2's buffers) opens 40 streams on one HTTP/2 connection with a
// zero flow-control window and never reads. Against the real daemon,
// the legitimate client is still answered, each scrape promptly: no one
// client holds more than its share of --web.max-requests (40).
func TestStalledHTTP2ClientDoesNotStarveScrapes(t *testing.T) {
	token, hash, err := webconf.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	auth := filepath.Join(t.TempDir(), "auth.yml")
	rules := "bearer_tokens:\n  attacker: \"" + hash + "\"\nrules:\n" +
		"  - identities: [\"token:attacker\"]\n    paths: [/metrics]\n" +
		"  - identities: [\"user:prometheus\"]\n    paths: [\"/*\"]\n"
	if err := os.WriteFile(auth, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	node := startSecureNode(t, "--web.auth.file="+auth)
	tlsCfg := node.client(t, node.clientCert(t)).Transport.(*http.Transport).TLSClientConfig
	webconftest.StallHTTP2(t, node.addr, "127.0.0.2", tlsCfg, 40, map[string]string{"Authorization": "Bearer " + token})
	time.Sleep(500 * time.Millisecond) // let the streams reach the handler

	for i := range 5 {
		start := time.Now()
		body := node.scrape(t, "")
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("scrape %d took %v while a client stalls", i, d)
		}
		if i == 4 && !strings.Contains(body, `warden_http_requests_refused_total{reason="over_fair_share"}`) {
			t.Error("no over_fair_share refusals counted")
		}
	}
}
