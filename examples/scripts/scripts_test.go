// Package scripts_test runs the example scripts with a freshly built
// wardentool against a real Alertmanager, and checks their exit codes and
// what Alertmanager holds afterwards.
package scripts_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warden-exporter/warden/internal/testenv"
)

// pathWithWardentool builds wardentool into a temporary directory and
// returns a PATH that finds it first.
func pathWithWardentool(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir, "github.com/warden-exporter/warden/cmd/wardentool")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build wardentool: %v\n%s", err, out)
	}
	return dir + string(os.PathListSeparator) + os.Getenv("PATH")
}

// script runs one of the scripts with env (NAME=value) and stdin and
// returns its exit code and its combined output.
func script(t *testing.T, env []string, stdin, name string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "./"+name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &exitErr):
		return exitErr.ExitCode(), out.String()
	}
	t.Fatalf("run %s: %v\n%s", name, err, out.String())
	return -1, ""
}

// TestScripts builds wardentool once and runs the scripts in parallel,
// each case against an Alertmanager of its own.
func TestScripts(t *testing.T) {
	path := pathWithWardentool(t)
	for _, tc := range []struct {
		name string
		test func(*testing.T, string)
	}{
		{"send and resolve", testSendAndResolve},
		{"http config file", testHTTPConfigFile},
		{"batch", testBatch},
		{"spooled while Alertmanager is down", testSpooledWhileAlertmanagerDown},
		{"refusals", testRefusals},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, path)
		})
	}
}

// alertConfig writes an --alert.config.file for am with a spool in dir.
func alertConfig(t *testing.T, am *testenv.Alertmanager, spool string) string {
	t.Helper()
	hc, err := os.ReadFile(am.HTTPConfig())
	if err != nil {
		t.Fatal(err)
	}
	content := fmt.Sprintf("alertmanagers:\n  - urls: [%s]\n    timeout: 2s\n    http_config:\n      %s\nretry: {initial_backoff: 100ms, max_backoff: 1s}\nspool: {directory: %s}\n",
		am.URL, strings.ReplaceAll(strings.TrimSpace(string(hc)), "\n", "\n      "), spool)
	path := filepath.Join(t.TempDir(), "alert.yml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// active returns the alerts Alertmanager holds under query that have not ended.
func active(t *testing.T, am *testenv.Alertmanager, query string) []testenv.AMAlert {
	t.Helper()
	got, err := am.Alerts(query)
	if err != nil {
		t.Fatal(err)
	}
	var out []testenv.AMAlert
	for _, a := range got {
		if a.EndsAt.After(time.Now()) {
			out = append(out, a)
		}
	}
	return out
}

// waitActive waits until Alertmanager holds n alerts under query that have not ended.
func waitActive(t *testing.T, am *testenv.Alertmanager, query string, n int) []testenv.AMAlert {
	t.Helper()
	var got []testenv.AMAlert
	testenv.Eventually(t, 20*time.Second, "alerts in Alertmanager", func() error {
		if got = active(t, am, query); len(got) != n {
			return fmt.Errorf("%d active alerts, want %d", len(got), n)
		}
		return nil
	})
	return got
}

func testSendAndResolve(t *testing.T, path string) {
	am := testenv.StartAlertmanager(t, true)
	env := []string{"PATH=" + path, "WARDEN_ALERT_CONFIG=" + alertConfig(t, am, filepath.Join(t.TempDir(), "spool"))}

	code, out := script(t, env, "", "send.sh", "DiskFull", "severity=critical", "instance=node1", "--annotation=summary=/ is full")
	if code != 0 || !strings.Contains(out, "send.sh: DiskFull accepted by Alertmanager") {
		t.Fatalf("send.sh: exit %d\n%s", code, out)
	}
	a := waitActive(t, am, `filter=alertname="DiskFull"`, 1)[0]
	if a.Labels["severity"] != "critical" || a.Labels["instance"] != "node1" || a.Annotations["summary"] != "/ is full" {
		t.Errorf("alert in Alertmanager: %+v", a)
	}

	code, out = script(t, env, "", "resolve.sh", "DiskFull", "severity=critical", "instance=node1")
	if code != 0 || !strings.Contains(out, "resolve.sh: DiskFull resolved") {
		t.Fatalf("resolve.sh: exit %d\n%s", code, out)
	}
	waitActive(t, am, `filter=alertname="DiskFull"`, 0)
}

// testHTTPConfigFile: with an Alertmanager URL and amtool's
// --http.config.file instead of an alert config file.
func testHTTPConfigFile(t *testing.T, path string) {
	am := testenv.StartAlertmanager(t, true)
	env := []string{"PATH=" + path, "WARDEN_ALERTMANAGER_URL=" + am.URL, "WARDEN_HTTP_CONFIG=" + am.HTTPConfig()}
	if code, out := script(t, env, "", "send.sh", "ByURL", "team=a"); code != 0 {
		t.Fatalf("send.sh: exit %d\n%s", code, out)
	}
	waitActive(t, am, `filter=alertname="ByURL"`, 1)
}

func testBatch(t *testing.T, path string) {
	am := testenv.StartAlertmanager(t, false)
	env := []string{"PATH=" + path, "WARDEN_ALERT_CONFIG=" + alertConfig(t, am, filepath.Join(t.TempDir(), "spool"))}

	file := filepath.Join(t.TempDir(), "alerts.json")
	if err := os.WriteFile(file, []byte(`[{"labels":{"alertname":"Batch","i":"1"}},{"labels":{"alertname":"Batch","i":"2"}}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := script(t, env, "", "batch.sh", file); code != 0 || !strings.Contains(out, "delivered 2, spooled 0") || !strings.Contains(out, "all alerts accepted") {
		t.Fatalf("batch.sh FILE: exit %d\n%s", code, out)
	}
	waitActive(t, am, `filter=alertname="Batch"`, 2)

	var lines strings.Builder
	for _, host := range []string{"web1", "web2", "web3"} {
		fmt.Fprintf(&lines, `{"labels":{"alertname":"Unreachable","instance":%q}}`+"\n", host)
	}
	if code, out := script(t, env, lines.String(), "batch.sh", "-"); code != 0 {
		t.Fatalf("batch.sh -: exit %d\n%s", code, out)
	}
	waitActive(t, am, `filter=alertname="Unreachable"`, 3)

	// One bad alert: exit 1 and nothing of the batch is sent.
	bad := `{"labels":{"alertname":"Half","i":"1"}}` + "\n" + `{"labels":{"alertname":"Half","0bad":"x"}}` + "\n"
	if code, out := script(t, env, bad, "batch.sh", "-"); code != 1 || !strings.Contains(out, "nothing sent") || !strings.Contains(out, `"0bad"`) {
		t.Errorf("batch.sh with a bad alert: exit %d\n%s", code, out)
	}
	if got := active(t, am, `filter=alertname="Half"`); len(got) != 0 {
		t.Errorf("Alertmanager holds %d alerts of a refused batch", len(got))
	}
}

// testSpooledWhileAlertmanagerDown: with Alertmanager stopped, send.sh
// exits 3 and says the alert is spooled; the next send delivers it.
func testSpooledWhileAlertmanagerDown(t *testing.T, path string) {
	am := testenv.StartAlertmanager(t, false)
	env := []string{"PATH=" + path, "WARDEN_ALERT_CONFIG=" + alertConfig(t, am, filepath.Join(t.TempDir(), "spool")), "WARDEN_ALERT_TIMEOUT=3s"}
	am.Stop()
	code, out := script(t, env, "", "send.sh", "WhileDown", "n=1")
	if code != 3 || !strings.Contains(out, "send.sh: WhileDown spooled") {
		t.Fatalf("send.sh with Alertmanager down: exit %d, want 3\n%s", code, out)
	}
	am.Start()
	if code, out := script(t, env, "", "send.sh", "WhileDown", "n=2"); code != 0 || !strings.Contains(out, "delivered 1") {
		t.Fatalf("send.sh after Alertmanager came back: exit %d\n%s", code, out)
	}
	waitActive(t, am, `filter=alertname="WhileDown"`, 2)
}

func testRefusals(t *testing.T, path string) {
	am := testenv.StartAlertmanager(t, false)
	wrongPassword := filepath.Join(t.TempDir(), "wrong-password")
	if err := os.WriteFile(wrongPassword, []byte("not-the-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hc, err := os.ReadFile(am.HTTPConfig())
	if err != nil {
		t.Fatal(err)
	}
	badHTTPConfig := filepath.Join(t.TempDir(), "http.yml")
	if err := os.WriteFile(badHTTPConfig, []byte(strings.Replace(string(hc), am.PasswordFile, wrongPassword, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	// A PATH with bash but no wardentool.
	bashOnly := t.TempDir()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(bash, filepath.Join(bashOnly, "bash")); err != nil {
		t.Fatal(err)
	}
	good := []string{"PATH=" + path, "WARDEN_ALERTMANAGER_URL=" + am.URL, "WARDEN_HTTP_CONFIG=" + am.HTTPConfig()}
	tests := []struct {
		name   string
		env    []string
		script string
		args   []string
		code   int
		want   string
	}{
		{"wrong password", []string{"PATH=" + path, "WARDEN_ALERTMANAGER_URL=" + am.URL, "WARDEN_HTTP_CONFIG=" + badHTTPConfig}, "send.sh", []string{"Refused"}, 2, "send.sh: Refused NOT delivered and not spooled"},
		{"invalid label", good, "send.sh", []string{"Bad", "0label=x"}, 1, "send.sh: Bad not sent: invalid"},
		{"no alert", good, "resolve.sh", nil, 1, "usage:"},
		{"missing config file", []string{"PATH=" + path, "WARDEN_ALERT_CONFIG=/nonexistent/alert.yml"}, "resolve.sh", []string{"Gone"}, 1, "/nonexistent/alert.yml"},
		{"no wardentool", []string{"PATH=" + bashOnly}, "batch.sh", []string{"-"}, 1, "wardentool is not on PATH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := script(t, tt.env, "", tt.script, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, want %d with %q\n%s", code, tt.code, tt.want, out)
			}
		})
	}
	if got, err := am.Alerts(""); err != nil || len(got) != 0 {
		t.Errorf("Alertmanager holds %+v after refusals (%v)", got, err)
	}
}
