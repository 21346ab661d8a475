package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// authAM is a recordingAM that takes only requests with this basic auth.
func authAM(t *testing.T, user, password string) *recordingAM {
	am := newRecordingAM(t)
	next := am.Config.Handler
	am.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
	return am
}

// writeFile writes content to dir/name, making dir.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// userAmtoolConfig gives the test a HOME whose amtool config.yml holds
// content, and returns its path.
func userAmtoolConfig(t *testing.T, content string) string {
	home := t.TempDir()
	t.Setenv("HOME", home)
	return writeFile(t, filepath.Join(home, ".config", "amtool"), "config.yml", content)
}

// An amtool user's config.yml, unchanged, is what `alert send` uses with
// no flags: its alertmanager.url, its http.config.file with the password,
// its output. Flags override it, and --alert.config.file wins over it.
func TestAlertAmtoolConfigFile(t *testing.T) {
	am := authAM(t, "warden", "s3cret")
	dir := t.TempDir()
	passwordFile := writeFile(t, dir, "password", "s3cret\n")
	httpConfig := writeFile(t, dir, "http.yml", "basic_auth:\n  username: warden\n  password_file: "+passwordFile+"\n")
	userAmtoolConfig(t, "alertmanager.url: "+am.URL+"\nhttp.config.file: "+httpConfig+"\noutput: json\ncomment_required: false\n")

	code, stdout, stderr := runTool(t, "", "alert", "send", "FromAmtoolConfig")
	if code != exitAccepted || !strings.HasPrefix(stdout, "{") || len(am.posted()) != 1 {
		t.Fatalf("send with amtool's config: exit %d, want 0 with JSON output and the alert posted\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runTool(t, "", "alert", "send", "FlagsWin", "-o", "simple")
	if code != exitAccepted || !strings.HasPrefix(stdout, "delivered 1") {
		t.Errorf("-o simple over amtool's output: json: exit %d\n%s%s", code, stdout, stderr)
	}
	// --alert.config.file wins: amtool's URL (with its credentials) is
	// not used, the file's Alertmanager is.
	other := newRecordingAM(t)
	alertConfig := writeFile(t, dir, "alert.yml", "alertmanagers:\n  - urls: ["+other.URL+"]\n")
	code, stdout, stderr = runTool(t, "", "alert", "send", "ConfigWins", "--alert.config.file="+alertConfig)
	if code != exitAccepted || len(other.posted()) != 1 || len(am.posted()) != 2 {
		t.Errorf("--alert.config.file: exit %d, its Alertmanager holds %d alerts, amtool's %d\n%s%s", code, len(other.posted()), len(am.posted()), stdout, stderr)
	}
}

// amtool's files in its order: the user's first, then /etc/amtool's for
// the keys the user's leaves out; --config.file reads only the file given.
func TestAmtoolConfigFiles(t *testing.T) {
	userAM, systemAM := newRecordingAM(t), newRecordingAM(t)
	etc := t.TempDir()
	old := systemAmtoolConfig
	systemAmtoolConfig = writeFile(t, etc, "config.yml", "alertmanager.url: "+systemAM.URL+"\noutput: json\n")
	t.Cleanup(func() { systemAmtoolConfig = old })

	// No user file: /etc/amtool's.
	t.Setenv("HOME", t.TempDir())
	if code, stdout, stderr := runTool(t, "", "alert", "send", "A"); code != exitAccepted || len(systemAM.posted()) != 1 || !strings.HasPrefix(stdout, "{") {
		t.Fatalf("with /etc/amtool/config.yml: exit %d\n%s%s", code, stdout, stderr)
	}
	// The user's URL, /etc's output.
	userAmtoolConfig(t, "alertmanager.url: "+userAM.URL+"\n")
	if code, stdout, stderr := runTool(t, "", "alert", "send", "B"); code != exitAccepted || len(userAM.posted()) != 1 || !strings.HasPrefix(stdout, "{") {
		t.Errorf("user's and /etc's: exit %d, user's Alertmanager holds %d\n%s%s", code, len(userAM.posted()), stdout, stderr)
	}
	// --config.file: that file only (no output: json from /etc).
	given := writeFile(t, t.TempDir(), "amtool.yml", "alertmanager.url: "+userAM.URL+"\n")
	if code, stdout, stderr := runTool(t, "", "alert", "send", "C", "--config.file="+given); code != exitAccepted || !strings.HasPrefix(stdout, "delivered 1") {
		t.Errorf("--config.file: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr := runTool(t, "", "alert", "send", "D", "--config.file="+given+".missing"); code != exitInvalid || !strings.Contains(stderr, "amtool.yml.missing") {
		t.Errorf("--config.file missing: exit %d\n%s", code, stderr)
	}
}

// Keys amtool has that do not apply are accepted, with a debug line under
// --verbose; a key amtool does not have, or a bad value, is an error
// naming the key and the file.
func TestAmtoolConfigKeys(t *testing.T) {
	am := newRecordingAM(t)
	tests := []struct {
		name, config string
		args         []string
		code         int
		stderr       string // in stderr
	}{
		{"ignored keys", "version-check: false\nreceiver: team\n", nil, exitAccepted, ""},
		{"ignored keys, verbose", "version-check: false\nreceiver: team\n", []string{"-v"}, exitAccepted, `key=receiver`},
		{"verbose from the file", "verbose: true\nworker: 4\n", nil, exitAccepted, `key=worker`},
		{"unknown key", "alertmanager.urls: http://x\n", nil, exitInvalid, `unknown key "alertmanager.urls"`},
		{"bad output", "output: yaml\n", nil, exitInvalid, `output: "yaml"`},
		{"bad timeout", "timeout: soon\n", nil, exitInvalid, "timeout:"},
		{"not a single value", "annotation: [a, b]\n", nil, exitInvalid, "annotation: want a single value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := userAmtoolConfig(t, tt.config)
			args := append([]string{"alert", "send", "A", "--alertmanager.url=" + am.URL}, tt.args...)
			code, stdout, stderr := runTool(t, "", args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, want %d with %q\n%s%s", code, tt.code, tt.stderr, stdout, stderr)
			}
			if tt.code == exitInvalid && !strings.Contains(stderr, path) {
				t.Errorf("the error does not name %s: %s", path, stderr)
			}
			if tt.stderr == "" && stderr != "" {
				t.Errorf("printed %q without --verbose", stderr)
			}
		})
	}
}

// date.format sets how times are printed.
func TestAmtoolConfigDateFormat(t *testing.T) {
	userAmtoolConfig(t, "date.format: '2006-01-02 15:04:05 MST'\n")
	code, stdout, stderr := runTool(t, "", "alert", "query", "--alertmanager.url="+listingAM(t))
	if code != exitAccepted || !strings.Contains(stdout, "starts=2026-01-02 03:04:05 UTC") {
		t.Errorf("exit %d, want the start as date.format says\n%s%s", code, stdout, stderr)
	}
}
