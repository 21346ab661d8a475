//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warden-exporter/warden/internal/testenv"
)

// silenceTool runs `wardentool silence ...`.
func silenceTool(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return testenv.Run(t, "", bins.Path("wardentool"), append([]string{"silence"}, args...)...)
}

// state returns an error unless Alertmanager lists one alert matching
// query, in that state.
func state(am *testenv.Alertmanager, query, want string) error {
	got, err := am.Alerts(query + "&silenced=true&active=true")
	if err != nil {
		return err
	}
	if len(got) != 1 || got[0].Status.State != want {
		return fmt.Errorf("alerts %+v, want one %s", got, want)
	}
	return nil
}

// TestSilences: against the real Alertmanager (TLS and basic auth), silence
// add prints the ID alone, query lists it, a matching alert is shown
// silenced by Alertmanager's API (one not matching stays active), expire
// ends it; a wrong password exits 2 with Alertmanager's answer.
func TestSilences(t *testing.T) {
	am := testenv.StartAlertmanager(t, false)
	flags := []string{"--alertmanager.url=" + am.URL, "--http.config.file=" + am.HTTPConfig("cert")}

	code, stdout, stderr := silenceTool(t, append([]string{"add", "instance=node9", `alertname=~"Disk.*"`, "--comment=maintenance", "--duration=1h"}, flags...)...)
	id := strings.TrimSuffix(stdout, "\n")
	if code != 0 || !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(id) {
		t.Fatalf("silence add: exit %d, want the ID alone\n%q%s", code, stdout, stderr)
	}
	code, stdout, stderr = silenceTool(t, append([]string{"query", "instance=node9"}, flags...)...)
	if code != 0 || !strings.HasPrefix(stdout, id+` {instance="node9",alertname=~"Disk.*"}`) || !strings.Contains(stdout, `comment="maintenance"`) {
		t.Errorf("silence query: exit %d\n%s%s", code, stdout, stderr)
	}

	for _, instance := range []string{"node9", "node8"} {
		if code, stdout, stderr := alertTool(t, "", append([]string{"send", "DiskFull", "instance=" + instance}, flags...)...); code != 0 {
			t.Fatalf("send: exit %d\n%s%s", code, stdout, stderr)
		}
	}
	testenv.Eventually(t, 20*time.Second, "matching alert silenced", func() error {
		return state(am, `filter=instance="node9"`, "suppressed")
	})
	if err := state(am, `filter=instance="node8"`, "active"); err != nil {
		t.Errorf("the alert the silence does not match: %v", err)
	}

	if code, stdout, stderr := silenceTool(t, append([]string{"expire", id}, flags...)...); code != 0 || stdout != "" {
		t.Fatalf("silence expire: exit %d\n%s%s", code, stdout, stderr)
	}
	testenv.Eventually(t, 20*time.Second, "alert active once the silence expired", func() error {
		return state(am, `filter=instance="node9"`, "active")
	})
	if code, stdout, _ := silenceTool(t, append([]string{"query", "-q"}, flags...)...); code != 0 || stdout != "" {
		t.Errorf("silence query after expire: exit %d\n%s", code, stdout)
	}
	if code, stdout, _ := silenceTool(t, append([]string{"query", "-q", "--expired"}, flags...)...); code != 0 || stdout != id+"\n" {
		t.Errorf("silence query --expired: exit %d\n%s", code, stdout)
	}

	// A wrong password: exit 2, with what Alertmanager answered.
	wrong := filepath.Join(t.TempDir(), "http.yml")
	badPass := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(badPass, []byte("not-the-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	content, err := os.ReadFile(am.HTTPConfig("cert"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wrong, []byte(strings.Replace(string(content), am.PasswordFile, badPass, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"add", "a=b", "-c", "x"}, {"query"}, {"expire", id}} {
		code, stdout, stderr := silenceTool(t, append(args, "--alertmanager.url="+am.URL, "--http.config.file="+wrong)...)
		if code != 2 || !strings.Contains(stderr, "401 Unauthorized: Unauthorized") {
			t.Errorf("silence %s with a wrong password: exit %d, want 2 with Alertmanager's answer\n%s%s", args[0], code, stdout, stderr)
		}
	}
}

// TestAlertAmtoolConfigUnchanged: a user's amtool config.yml (alertmanager.url
// and http.config.file, with TLS and the password) is all `alert send`
// and `silence query` need; and every key amtool v0.34.2 has (its flags)
// is accepted.
func TestAlertAmtoolConfigUnchanged(t *testing.T) {
	am := testenv.StartAlertmanager(t, false)
	home := t.TempDir()
	t.Setenv("HOME", home) // inherited by wardentool
	dir := filepath.Join(home, ".config", "amtool")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf("alertmanager.url: %s\nhttp.config.file: %s\n", am.URL, am.HTTPConfig("cert"))
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := alertTool(t, "", "send", "FromAmtoolConfig"); code != 0 {
		t.Fatalf("alert send with amtool's config: exit %d\n%s%s", code, stdout, stderr)
	}
	waitAlerts(t, am, `filter=alertname="FromAmtoolConfig"`, count(1))
	code, stdout, stderr := silenceTool(t, "add", "FromAmtoolConfig", "-c", "quiet please")
	if code != 0 {
		t.Fatalf("silence add with amtool's config: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, out, stderr := silenceTool(t, "query"); code != 0 || !strings.HasPrefix(out, strings.TrimSpace(stdout)+" ") {
		t.Errorf("silence query with amtool's config: exit %d, want silence %s\n%s%s", code, stdout, out, stderr)
	}

	// Every flag of amtool's (its --help-long) as a key: accepted.
	help, err := exec.Command(testenv.Amtool(t), "--help-long").CombinedOutput()
	if err != nil {
		t.Fatalf("amtool --help-long: %v\n%s", err, help)
	}
	var keys []string
	for _, m := range regexp.MustCompile(`--(?:\[no-\])?([a-z][a-z._-]*[a-z])`).FindAllStringSubmatch(string(help), -1) {
		if !slices.Contains(keys, m[1]) && m[1] != "no-version-check" {
			keys = append(keys, m[1])
		}
	}
	if len(keys) < 30 {
		t.Fatalf("found %d flags in amtool --help-long: %v", len(keys), keys)
	}
	applied := map[string]string{"alertmanager.url": am.URL, "http.config.file": am.HTTPConfig("cert"), "output": "simple",
		"date.format": "2006-01-02", "timeout": "10s", "verbose": "false", "require-comment": "false", "author": "me"}
	var all strings.Builder
	for _, k := range keys {
		v, ok := applied[k]
		if !ok {
			v = "x"
		}
		fmt.Fprintf(&all, "%s: %q\n", k, v)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(all.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := silenceTool(t, "query", "-v"); code != 0 || !strings.Contains(stderr, "key=template.glob") {
		t.Errorf("every amtool key (%s): exit %d, want 0 and the keys that do not apply named\n%s%s", strings.Join(keys, " "), code, stdout, stderr)
	}
}
