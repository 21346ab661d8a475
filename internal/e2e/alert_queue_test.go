//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warden-exporter/warden/alertclient"
	"github.com/warden-exporter/warden/internal/silentserver"
	"github.com/warden-exporter/warden/internal/testenv"
)

// arrival polls am every 20 ms until it lists an alert matching query, and
// returns how long that took, or fails after limit.
func arrival(t *testing.T, am *testenv.Alertmanager, query string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < limit {
		if got, err := am.Alerts(query); err == nil && len(got) > 0 {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: not in Alertmanager after %s", query, limit)
	return 0
}

// TestAlertHungAlertmanager: one Alertmanager accepts connections and never
// answers, the other is the real one; batches are of one alert. Every
// batch reaches the real one within a second, from `wardentool alert
// send` and from the exporter's alert loop (the spool it finds, and its
// kept alerts), where each used to wait for the hung one's attempt (10 s,
// the TLS handshake timeout) before the next batch.
func TestAlertHungAlertmanager(t *testing.T) {
	am := testenv.StartAlertmanager(t, false)
	hung := "https://" + silentserver.Start(t)
	spool := filepath.Join(t.TempDir(), "spool")
	cfg := alertConfig(t, spool, am)
	content, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The hung one first, with the real one's credentials.
	hungEntry := fmt.Sprintf("alertmanagers:\n  - urls: [%s]\n    timeout: 30s\n", hung)
	content = []byte(strings.Replace(string(content), "alertmanagers:\n", hungEntry, 1) + "resend_interval: 1s\nbatch_size: 1\n")
	if err := os.WriteFile(cfg, content, 0o600); err != nil {
		t.Fatal(err)
	}
	names := func(prefix string) []string { return []string{prefix + "1", prefix + "2", prefix + "3"} }
	// allWithin checks that each alert named reaches the real one within
	// limit of start.
	allWithin := func(what string, start time.Time, limit time.Duration, alertnames []string) {
		t.Helper()
		for _, name := range alertnames {
			arrival(t, am, `filter=alertname="`+name+`"`, 30*time.Second)
			if d := time.Since(start); d > limit {
				t.Errorf("%s: %s reached the real Alertmanager after %s, want within %s", what, name, d, limit)
			}
		}
	}

	// wardentool alert send: three batches, all at the real one within a
	// second, and the command ends soon after, not at the hung one's
	// timeout.
	type result struct {
		code           int
		stdout, stderr string
		took           time.Duration
	}
	done := make(chan result, 1)
	var lines strings.Builder
	for _, n := range names("FromSend") {
		fmt.Fprintf(&lines, `{"labels":{"alertname":%q}}`+"\n", n)
	}
	start := time.Now()
	go func() {
		code, stdout, stderr := alertTool(t, lines.String(), "send", "--alert.config.file="+cfg, "--timeout=60s", "--file=-")
		done <- result{code, stdout, stderr, time.Since(start)}
	}()
	allWithin("send", start, time.Second, names("FromSend"))
	r := <-done
	if r.code != 0 || r.took > 5*time.Second {
		t.Errorf("send: exit %d after %s, want 0 within 5s\n%s%s", r.code, r.took, r.stdout, r.stderr)
	}

	// The exporter's loop: what it finds in the spool and the kept alerts,
	// three batches each, at the real one within a second of its start.
	s, err := alertclient.OpenSpool(spool, 0)
	if err != nil {
		t.Fatal(err)
	}
	store, err := alertclient.OpenKeptAlerts(spool)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names("Spooled") {
		if err := s.Put([]alertclient.Alert{{Labels: map[string]string{"alertname": n}}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range names("Kept") {
		if _, err := store.Put(context.Background(), []alertclient.Alert{{Labels: map[string]string{"alertname": n}}}, time.Now(), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	_, addr := startLoop(t, cfg)
	start = time.Now()
	allWithin("loop", start, time.Second, append(names("Spooled"), names("Kept")...))
	// Every round re-sends all three: none lapses (endsAt is 4 s ahead).
	for end := time.Now().Add(6 * time.Second); time.Now().Before(end); time.Sleep(time.Second) {
		for _, n := range names("Kept") {
			if err := activeNow(am, `filter=alertname="`+n+`"`); err != nil {
				t.Fatalf("loop: %s: %v", n, err)
			}
		}
	}
	if body := scrapePlain(t, addr); !strings.Contains(body, `warden_alertclient_queue_batches{alertmanager="`+hung+`"}`) {
		t.Errorf("exporter metrics lack the hung Alertmanager's queue")
	}
}
