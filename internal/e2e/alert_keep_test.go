//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warden-exporter/warden/internal/testenv"
)

// withResolveTimeout restarts am with a resolve_timeout: an alert sent
// without endsAt is resolved that long after it was last sent.
func withResolveTimeout(t *testing.T, am *testenv.Alertmanager, d time.Duration) {
	t.Helper()
	conf := fmt.Sprintf("global:\n  resolve_timeout: %s\nroute:\n  receiver: blackhole\n  group_wait: 1h\nreceivers:\n  - name: blackhole\n", d)
	if err := os.WriteFile(filepath.Join(am.Dir, "alertmanager.yml"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	am.Stop()
	am.Start()
}

// appendConfig adds lines to an --alert.config.file.
func appendConfig(t *testing.T, path, lines string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(lines); err != nil {
		t.Fatal(err)
	}
}

// activeNow returns an error unless Alertmanager lists exactly one alert
// matching query, active now.
func activeNow(am *testenv.Alertmanager, query string) error {
	got, err := am.Alerts(query)
	if err != nil {
		return err
	}
	if len(got) != 1 || got[0].Status.State != "active" || !got[0].EndsAt.After(time.Now()) {
		return fmt.Errorf("alerts %+v, want one active", got)
	}
	return nil
}

// goneNow returns an error while Alertmanager lists an alert matching
// query: its API lists no resolved alert.
func goneNow(am *testenv.Alertmanager, query string) error {
	got, err := am.Alerts(query)
	if err != nil {
		return err
	}
	if len(got) != 0 {
		return fmt.Errorf("still listed: %+v", got)
	}
	return nil
}

// startLoop starts warden_node_exporter running the alert loop of cfg.
func startLoop(t *testing.T, cfg string) (*testenv.Process, string) {
	t.Helper()
	addr := testenv.FreeAddr(t)
	p := testenv.Start(t, bins.Path("warden_node_exporter"), "--web.listen-address="+addr, "--alert.config.file="+cfg,
		"--collector.disable-defaults", "--collector.loadavg")
	testenv.WaitListening(t, addr, p)
	return p, addr
}

// TestAlertKeepFiring: an alert sent once is resolved by Alertmanager after
// its resolve_timeout (5 s here); one sent with --keep-firing stays active
// while warden_node_exporter runs the alert loop (30 s here), through a
// kill -9 of the exporter and a restart of Alertmanager, is resolved
// within seconds once no loop runs, and is gone for good after `alert
// resolve`.
func TestAlertKeepFiring(t *testing.T) {
	am := testenv.StartAlertmanager(t, false)
	withResolveTimeout(t, am, 5*time.Second)
	spool := filepath.Join(t.TempDir(), "spool")
	cfg := alertConfig(t, spool, am)
	appendConfig(t, cfg, "resend_interval: 1s\n")
	const kept, once = `filter=alertname="KeptFiring"`, `filter=alertname="SentOnce"`

	if code, stdout, stderr := alertTool(t, "", "send", "--alert.config.file="+cfg, "--keep-firing", "KeptFiring", "job=backup",
		"--annotation=summary=the nightly backup failed"); code != 0 {
		t.Fatalf("send --keep-firing: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := alertTool(t, "", "send", "--alert.config.file="+cfg, "SentOnce"); code != 0 {
		t.Fatalf("send: exit %d\n%s%s", code, stdout, stderr)
	}
	exporter, addr := startLoop(t, cfg)
	sent := time.Now()

	// 30 s, looked at every second: the kept alert never lapses; the one
	// sent once is resolved after resolve_timeout, which shows the
	// Alertmanager resolves what is not re-sent.
	for time.Since(sent) < 30*time.Second {
		if err := activeNow(am, kept); err != nil {
			t.Fatalf("%s after the send: %v", time.Since(sent).Round(time.Second), err)
		}
		time.Sleep(time.Second)
	}
	if err := goneNow(am, once); err != nil {
		t.Errorf("the alert sent once, 30 s later with resolve_timeout 5s: %v", err)
	}
	if body := scrapePlain(t, addr); !strings.Contains(body, "warden_alertclient_kept_alerts 1\n") {
		t.Errorf("exporter metrics lack warden_alertclient_kept_alerts 1")
	}

	// kill -9 and a restart: the new exporter re-sends at once, so the
	// alert never lapses (its endsAt is four resend intervals ahead).
	exporter.Kill()
	exporter, _ = startLoop(t, cfg)
	for end := time.Now().Add(6 * time.Second); time.Now().Before(end); time.Sleep(time.Second) {
		if err := activeNow(am, kept); err != nil {
			t.Fatalf("after kill -9 and restart of the exporter: %v", err)
		}
	}

	// Alertmanager keeps no alerts across a restart: the loop sends it
	// again.
	am.Stop()
	am.Start()
	testenv.Eventually(t, 5*time.Second, "kept alert back after Alertmanager restarted", func() error { return activeNow(am, kept) })

	// No loop: the alert ends within four resend intervals. This is what
	// the 30 s above would have seen without the loop.
	exporter.Stop()
	stopped := time.Now()
	testenv.Eventually(t, 8*time.Second, "kept alert resolved once no loop runs", func() error { return goneNow(am, kept) })
	t.Logf("resolved %s after the loop stopped", time.Since(stopped).Round(100*time.Millisecond))

	// Back with the loop; then resolve: gone, no longer kept, and not
	// sent again by the loop.
	startLoop(t, cfg)
	testenv.Eventually(t, 5*time.Second, "kept alert back with the loop", func() error { return activeNow(am, kept) })
	code, stdout, stderr := alertTool(t, "", "resolve", "--alert.config.file="+cfg, "KeptFiring", "job=backup")
	if code != 0 || !strings.Contains(stdout, "no longer kept: 1") {
		t.Fatalf("resolve: exit %d\n%s%s", code, stdout, stderr)
	}
	testenv.Eventually(t, 5*time.Second, "resolved", func() error { return goneNow(am, kept) })
	time.Sleep(3 * time.Second) // three resend intervals
	if err := goneNow(am, kept); err != nil {
		t.Errorf("3 s after resolve, with the loop running: %v", err)
	}
	if code, stdout, stderr := alertTool(t, "", "list", "--local", "--alert.config.file="+cfg); code != 0 || stdout != "" {
		t.Errorf("list --local after resolve: exit %d\n%s%s", code, stdout, stderr)
	}
}
