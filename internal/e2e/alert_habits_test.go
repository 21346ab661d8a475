//go:build e2e

package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-exporter/warden/internal/testenv"
)

// TestAlertNothingLostByDefault: with no spool flag nor config and the
// Alertmanager down, `wardentool alert send` exits 3 with the alert in the
// default spool ($XDG_STATE_HOME/warden/alert-spool), and a later `alert
// flush`, again with no spool flag, delivers it.
func TestAlertNothingLostByDefault(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state) // inherited by wardentool
	am := testenv.StartAlertmanager(t, false)
	flags := []string{"--alertmanager.url=" + am.URL, "--http.config.file=" + am.HTTPConfig()}
	am.Stop()

	code, stdout, stderr := alertTool(t, "", append([]string{"send", "--timeout=3s", "NoSpoolFlag", "--annotation=summary=kept for later"}, flags...)...)
	spool := filepath.Join(state, "warden", "alert-spool")
	if code != 3 || !strings.Contains(stderr, spool) {
		t.Fatalf("send with the Alertmanager down: exit %d, want 3 naming %s\n%s%s", code, spool, stdout, stderr)
	}
	if st := spoolStats(t, spool); st.Alerts != 1 {
		t.Fatalf("default spool: %+v, want the alert", st)
	}
	am.Start()
	if code, stdout, stderr := alertTool(t, "", append([]string{"flush"}, flags...)...); code != 0 {
		t.Fatalf("flush: exit %d\n%s%s", code, stdout, stderr)
	}
	waitAlerts(t, am, `filter=alertname="NoSpoolFlag"`, count(1))

	// amtool's habits: add is send, and query shows the summary and start.
	if code, stdout, stderr := alertTool(t, "", append([]string{"add", "AddedLikeAmtool", "--annotation=summary=as amtool adds it"}, flags...)...); code != 0 {
		t.Fatalf("alert add: exit %d\n%s%s", code, stdout, stderr)
	}
	waitAlerts(t, am, `filter=alertname="AddedLikeAmtool"`, count(1))
	code, stdout, stderr = alertTool(t, "", append([]string{"query", "AddedLikeAmtool"}, flags...)...)
	if code != 0 || !strings.Contains(stdout, `summary="as amtool adds it"`) || !strings.Contains(stdout, "starts=") {
		t.Errorf("query: exit %d, want the summary and start\n%s%s", code, stdout, stderr)
	}
}
