//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warden-exporter/warden/alertclient"
	"github.com/warden-exporter/warden/internal/testenv"
)

// alertTool runs `wardentool alert ...` and returns its exit code and output.
func alertTool(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	return testenv.Run(t, stdin, bins.Path("wardentool"), append([]string{"alert"}, args...)...)
}

// waitAlerts waits until Alertmanager lists alerts matching query and
// check accepts them.
func waitAlerts(t *testing.T, am *testenv.Alertmanager, query string, check func([]testenv.AMAlert) error) []testenv.AMAlert {
	t.Helper()
	var got []testenv.AMAlert
	testenv.Eventually(t, 20*time.Second, "alerts in Alertmanager", func() error {
		var err error
		if got, err = am.Alerts(query); err != nil {
			return err
		}
		return check(got)
	})
	return got
}

func count(n int) func([]testenv.AMAlert) error {
	return func(a []testenv.AMAlert) error {
		if len(a) != n {
			return fmt.Errorf("%d alerts, want %d", len(a), n)
		}
		return nil
	}
}

func TestAlertSendAndResolve(t *testing.T) {
	am := testenv.StartAlertmanager(t, false)
	hc := am.HTTPConfig("cert")
	code, stdout, stderr := alertTool(t, "", "send", "--alertmanager.url="+am.URL, "--http.config.file="+hc,
		"DiskFull", "severity=critical", "instance=node1", "--annotation=summary=disk / is full", "--generator-url=https://node1/disk")
	if code != 0 {
		t.Fatalf("send: exit %d\n%s%s", code, stdout, stderr)
	}
	got := waitAlerts(t, am, `filter=alertname="DiskFull"`, count(1))
	a := got[0]
	if a.Labels["severity"] != "critical" || a.Labels["instance"] != "node1" || a.Annotations["summary"] != "disk / is full" || a.Status.State != "active" {
		t.Errorf("alert in Alertmanager: %+v", a)
	}

	code, stdout, stderr = alertTool(t, "", "resolve", "--alertmanager.url="+am.URL, "--http.config.file="+hc,
		"DiskFull", "severity=critical", "instance=node1")
	if code != 0 {
		t.Fatalf("resolve: exit %d\n%s%s", code, stdout, stderr)
	}
	testenv.Eventually(t, 20*time.Second, "alert resolved", func() error {
		got, err := am.Alerts(`filter=alertname="DiskFull"`)
		if err != nil {
			return err
		}
		for _, a := range got {
			if a.EndsAt.After(time.Now()) {
				return fmt.Errorf("still active until %s", a.EndsAt)
			}
		}
		return nil
	})

	// query lists what Alertmanager holds, through the same client.
	alertTool(t, "", "send", "--alertmanager.url="+am.URL, "--http.config.file="+hc, "Queried", "team=a")
	waitAlerts(t, am, `filter=alertname="Queried"`, count(1))
	code, stdout, stderr = alertTool(t, "", "query", "--alertmanager.url="+am.URL, "--http.config.file="+hc, `alertname="Queried"`)
	if code != 0 || !strings.Contains(stdout, `team="a"`) {
		t.Errorf("query: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestAlertRefusals(t *testing.T) {
	am := testenv.StartAlertmanager(t, false)
	mtls := testenv.StartAlertmanager(t, true)
	wrongPassword := am.HTTPConfig("cert")
	content, err := os.ReadFile(wrongPassword)
	if err != nil {
		t.Fatal(err)
	}
	badPass := filepath.Join(t.TempDir(), "bad-password")
	if err := os.WriteFile(badPass, []byte("not-the-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wrongPassword, []byte(strings.Replace(string(content), am.PasswordFile, badPass, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, url, httpConfig string
		want                  string
	}{
		{"wrong password", am.URL, wrongPassword, "401 Unauthorized"},
		{"wrong CA", am.URL, am.HTTPConfig("ca", "cert"), "certificate signed by unknown authority"},
		{"missing client certificate", mtls.URL, mtls.HTTPConfig("cert"), "refused our client certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			code, stdout, stderr := alertTool(t, "", "send", "--alertmanager.url="+tt.url, "--http.config.file="+tt.httpConfig, "--timeout=20s", "Refused")
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, want 2 with %q\n%s%s", code, tt.want, stdout, stderr)
			}
			if time.Since(start) > 10*time.Second {
				t.Errorf("a refusal was retried until the deadline (%s)", time.Since(start))
			}
		})
	}
	for _, a := range []*testenv.Alertmanager{am, mtls} {
		if got, err := a.Alerts(""); err != nil || len(got) != 0 {
			t.Errorf("%s holds %d alerts after refusals (%v)", a.URL, len(got), err)
		}
	}
	// And with everything right, the mTLS Alertmanager accepts.
	if code, stdout, stderr := alertTool(t, "", "send", "--alertmanager.url="+mtls.URL, "--http.config.file="+mtls.HTTPConfig(), "Accepted"); code != 0 {
		t.Errorf("mTLS send: exit %d\n%s%s", code, stdout, stderr)
	}
	// Invalid input is refused before anything is sent.
	code, _, stderr := alertTool(t, "", "send", "--alertmanager.url="+am.URL, "--http.config.file="+am.HTTPConfig(), "Bad", "0label=x")
	if code != 1 || !strings.Contains(stderr, `invalid label name "0label"`) {
		t.Errorf("invalid label: exit %d %s", code, stderr)
	}
}

// alertConfig writes an --alert.config.file for the Alertmanagers, which
// share one PKI here only when given the same one; each gets its own entry.
func alertConfig(t *testing.T, spool string, ams ...*testenv.Alertmanager) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("alertmanagers:\n")
	for _, am := range ams {
		hc, err := os.ReadFile(am.HTTPConfig())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "  - urls: [%s]\n    timeout: 2s\n    http_config:\n", am.URL)
		for _, l := range strings.Split(strings.TrimSpace(string(hc)), "\n") {
			b.WriteString("      " + l + "\n")
		}
	}
	fmt.Fprintf(&b, "retry: {initial_backoff: 100ms, max_backoff: 1s}\nspool: {directory: %s}\n", spool)
	path := filepath.Join(t.TempDir(), "alert.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func spoolStats(t *testing.T, dir string) alertclient.SpoolStats {
	t.Helper()
	s, err := alertclient.OpenSpool(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestAlertHAAndSpool(t *testing.T) {
	am1 := testenv.StartAlertmanager(t, false)
	am2 := testenv.StartAlertmanager(t, true)
	spool := filepath.Join(t.TempDir(), "spool")
	cfg := alertConfig(t, spool, am1, am2)

	// One of two stopped: the send succeeds and the live one has the alert.
	am2.Stop()
	code, stdout, stderr := alertTool(t, "", "send", "--alert.config.file="+cfg, "--timeout=10s", "HalfCluster", "n=1")
	if code != 0 {
		t.Fatalf("one of two down: exit %d\n%s%s", code, stdout, stderr)
	}
	waitAlerts(t, am1, `filter=alertname="HalfCluster"`, count(1))

	// Both stopped: exit 3 and the alerts are in the spool.
	am1.Stop()
	code, stdout, stderr = alertTool(t, "", "send", "--alert.config.file="+cfg, "--timeout=3s", "Spooled", "n=1")
	if code != 3 {
		t.Fatalf("all down: exit %d, want 3\n%s%s", code, stdout, stderr)
	}
	lines := `{"labels":{"alertname":"Spooled","n":"2"}}` + "\n" + `{"labels":{"alertname":"Spooled","n":"3"}}` + "\n"
	if code, stdout, stderr := alertTool(t, lines, "send", "--alert.config.file="+cfg, "--timeout=3s", "--file=-"); code != 3 {
		t.Fatalf("all down, from stdin: exit %d\n%s%s", code, stdout, stderr)
	}
	if st := spoolStats(t, spool); st.Alerts != 3 || st.Corrupt != 0 {
		t.Fatalf("spool: %+v, want 3 alerts", st)
	}

	// One comes back: flush delivers every alert once and empties the spool.
	am1.Start()
	code, stdout, stderr = alertTool(t, "", "flush", "--alert.config.file="+cfg, "--timeout=20s")
	if code != 0 {
		t.Fatalf("flush: exit %d\n%s%s", code, stdout, stderr)
	}
	got := waitAlerts(t, am1, `filter=alertname="Spooled"`, count(3))
	seen := map[string]int{}
	for _, a := range got {
		seen[a.Labels["n"]]++
	}
	if len(seen) != 3 {
		t.Errorf("alerts after flush: %v", seen)
	}
	if st := spoolStats(t, spool); st.Batches != 0 || st.Alerts != 0 {
		t.Errorf("spool after flush: %+v", st)
	}
}

// TestExporterFlushesSpool: warden_node_exporter with --alert.config.file
// delivers the spool in the background and exposes the client's metrics.
func TestExporterFlushesSpool(t *testing.T) {
	am := testenv.StartAlertmanager(t, false)
	spool := filepath.Join(t.TempDir(), "spool")
	cfg := alertConfig(t, spool, am)
	am.Stop()
	if code, stdout, stderr := alertTool(t, "", "send", "--alert.config.file="+cfg, "--timeout=3s", "FromDaemon", "n=1"); code != 3 {
		t.Fatalf("exit %d, want 3\n%s%s", code, stdout, stderr)
	}
	am.Start()
	addr := testenv.FreeAddr(t)
	p := testenv.Start(t, bins.Path("warden_node_exporter"), "--web.listen-address="+addr, "--alert.config.file="+cfg,
		"--collector.disable-defaults", "--collector.loadavg")
	testenv.WaitListening(t, addr, p)
	waitAlerts(t, am, `filter=alertname="FromDaemon"`, count(1))
	testenv.Eventually(t, 20*time.Second, "spool empty", func() error {
		if st := spoolStats(t, spool); st.Alerts != 0 {
			return fmt.Errorf("spool: %+v", st)
		}
		return nil
	})
	body := scrapePlain(t, addr)
	for _, want := range []string{"warden_alertclient_alerts_sent_total 1", "warden_alertclient_spool_alerts 0"} {
		if !strings.Contains(body, want) {
			t.Errorf("exporter metrics lack %q", want)
		}
	}
}

func TestAlertBatchOf10000(t *testing.T) {
	am := testenv.StartAlertmanager(t, false)
	var alerts []alertclient.Alert
	for i := range 10000 {
		alerts = append(alerts, alertclient.Alert{Labels: map[string]string{"alertname": "Batch", "i": fmt.Sprint(i)}})
	}
	b, err := json.Marshal(alerts)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "alerts.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := alertTool(t, "", "send", "--alertmanager.url="+am.URL, "--http.config.file="+am.HTTPConfig(), "--file="+file, "--timeout=120s")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	got := waitAlerts(t, am, `filter=alertname="Batch"`, count(10000))
	seen := map[string]bool{}
	for _, a := range got {
		seen[a.Labels["i"]] = true
	}
	if len(seen) != 10000 {
		t.Errorf("%d distinct alerts, want 10000", len(seen))
	}
}

// TestKillDuringSpooling: a sender killed with SIGKILL while it writes the
// spool leaves no corrupt file, and what it spooled is delivered later.
func TestKillDuringSpooling(t *testing.T) {
	am := testenv.StartAlertmanager(t, false)
	spool := filepath.Join(t.TempDir(), "spool")
	cfg := alertConfig(t, spool, am)
	am.Stop()
	var lines strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&lines, `{"labels":{"alertname":"Killed","i":"%d"}}`+"\n", i)
	}
	file := filepath.Join(t.TempDir(), "alerts.jsonl")
	if err := os.WriteFile(file, []byte(lines.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	// batch_size 1000 in 20 files: kill while they are being written.
	p := testenv.Start(t, bins.Path("wardentool"), "alert", "send", "--alert.config.file="+cfg, "--timeout=1s", "--file="+file)
	testenv.Eventually(t, 20*time.Second, "spooling started", func() error {
		if st := spoolStats(t, spool); st.Batches == 0 {
			return fmt.Errorf("no batch yet")
		}
		return nil
	})
	p.Kill()
	st := spoolStats(t, spool)
	if st.Corrupt != 0 {
		t.Fatalf("corrupt spool files after kill -9: %+v", st)
	}
	am.Start()
	if code, stdout, stderr := alertTool(t, "", "flush", "--alert.config.file="+cfg, "--timeout=60s"); code != 0 {
		t.Fatalf("flush: exit %d\n%s%s", code, stdout, stderr)
	}
	waitAlerts(t, am, `filter=alertname="Killed"`, count(st.Alerts))
}
