//go:build e2e

package e2e

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-exporter/warden/alertclient"
	"github.com/warden-exporter/warden/internal/testenv"
)

// TestAlertRedirectIsNotADelivery: the real Alertmanager behind a plain
// http address that redirects to it. With prometheus/common's default
// follow_redirects, the 301 turned the POST into a GET that Alertmanager
// answered 200: wardentool said delivered (exit 0), Alertmanager held no
// alert, and flush deleted the spooled batch. Now the redirect is a
// refusal naming where it pointed, even with follow_redirects: true (it
// changes the scheme), and the spooled batch stays.
func TestAlertRedirectIsNotADelivery(t *testing.T) {
	am := testenv.StartAlertmanager(t, false)
	withFollow := filepath.Join(t.TempDir(), "http-follow.yml")
	content, err := os.ReadFile(am.HTTPConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(withFollow, append([]byte("follow_redirects: true\n"), content...), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, httpConfig string
		code             int
	}{
		{"301, follow_redirects not set", am.HTTPConfig(), http.StatusMovedPermanently},
		{"307, follow_redirects: true", withFollow, http.StatusTemporaryRedirect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, am.URL+r.URL.Path, tt.code)
			}))
			defer redirector.Close()
			location := "redirect to " + am.URL + "/api/v2/alerts"
			flags := []string{"--alertmanager.url=" + redirector.URL, "--http.config.file=" + tt.httpConfig, "--timeout=20s"}

			code, stdout, stderr := alertTool(t, "", append([]string{"send", "Redirected"}, flags...)...)
			if code != 2 || !strings.Contains(stderr, location) {
				t.Errorf("send: exit %d, want 2 with %q\n%s%s", code, location, stdout, stderr)
			}

			spool := filepath.Join(t.TempDir(), "spool")
			s, err := alertclient.OpenSpool(spool, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Put([]alertclient.Alert{{Labels: map[string]string{"alertname": "SpooledRedirected"}}}); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr = alertTool(t, "", append([]string{"flush", "--spool.dir=" + spool}, flags...)...)
			if code != 2 || !strings.Contains(stderr, location) {
				t.Errorf("flush: exit %d, want 2 with %q\n%s%s", code, location, stdout, stderr)
			}
			if st := spoolStats(t, spool); st.Batches != 1 {
				t.Errorf("spool after the flush: %+v, want the batch kept", st)
			}
			if got, err := am.Alerts(""); err != nil || len(got) != 0 {
				t.Errorf("Alertmanager holds %d alerts (%v), want none", len(got), err)
			}
		})
	}
	// The same Alertmanager, addressed directly, takes the alert.
	if code, stdout, stderr := alertTool(t, "", "send", "--alertmanager.url="+am.URL, "--http.config.file="+am.HTTPConfig(), "Direct"); code != 0 {
		t.Errorf("direct send: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestAlertQueryEscapesTerminalControls: an alert the real Alertmanager
// holds, whose alertname clears the screen and prints "ALL CLEAR", is
// listed by `wardentool alert query` with the escapes shown, not acted on.
func TestAlertQueryEscapesTerminalControls(t *testing.T) {
	am := testenv.StartAlertmanager(t, false)
	flags := []string{"--alertmanager.url=" + am.URL, "--http.config.file=" + am.HTTPConfig()}
	const hostile = "\x1b[2J\x1b[1;1HALL CLEAR\u202e"
	if code, stdout, stderr := alertTool(t, "", append([]string{"send", "alertname=" + hostile, "case=escapes", "--annotation=summary=" + hostile}, flags...)...); code != 0 {
		t.Fatalf("send: exit %d\n%s%s", code, stdout, stderr)
	}
	waitAlerts(t, am, `filter=case="escapes"`, count(1))
	for _, output := range []string{"simple", "json"} {
		code, stdout, stderr := alertTool(t, "", append([]string{"query", "--output=" + output, `case="escapes"`}, flags...)...)
		if code != 0 {
			t.Fatalf("query: exit %d\n%s%s", code, stdout, stderr)
		}
		if strings.ContainsAny(stdout, "\x1b\u202e") {
			t.Errorf("--output=%s prints the escapes raw: %q", output, stdout)
		}
		want := `\x1b[2J\x1b[1;1HALL CLEAR\u202e`
		if output == "json" {
			want = `\u001b[2J\u001b[1;1HALL CLEAR\u202e`
		}
		if !strings.Contains(stdout, want) {
			t.Errorf("--output=%s lacks %s: %q", output, want, stdout)
		}
	}
}
