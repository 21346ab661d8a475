package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-exporter/warden/alertclient"
)

// TestMain gives the tests a HOME, an XDG_STATE_HOME and an /etc/amtool
// of their own: the default spool and amtool's config files are found
// there, never in the home or on the machine of whoever runs the tests.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wardentool-test-home")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("HOME", filepath.Join(dir, "home"))
	os.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	systemAmtoolConfig = filepath.Join(dir, "etc", "amtool", "config.yml")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestDefaultSpoolDir(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		euid int
		want string // "" for an error
	}{
		{"XDG_STATE_HOME", map[string]string{"XDG_STATE_HOME": "/s", "HOME": "/h"}, 1000, "/s/warden/alert-spool"},
		{"HOME", map[string]string{"HOME": "/h"}, 1000, "/h/.local/state/warden/alert-spool"},
		{"relative XDG_STATE_HOME is ignored", map[string]string{"XDG_STATE_HOME": "s", "HOME": "/h"}, 1000, "/h/.local/state/warden/alert-spool"},
		{"root", map[string]string{"HOME": "/root"}, 0, "/var/lib/warden/alert-spool"},
		{"root with XDG_STATE_HOME", map[string]string{"XDG_STATE_HOME": "/s", "HOME": "/root"}, 0, "/s/warden/alert-spool"},
		{"no HOME", map[string]string{}, 1000, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := defaultSpoolDir(func(k string) string { return tt.env[k] }, tt.euid)
			if got != tt.want || (err != nil) != (tt.want == "") {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// closedAlertmanager is an Alertmanager URL where nothing listens.
func closedAlertmanager(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// isolatedState gives the test its own XDG_STATE_HOME, and returns the
// default spool in it.
func isolatedState(t *testing.T) string {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	return filepath.Join(state, "warden", "alert-spool")
}

// No alert is lost by default: with no spool named, a send no Alertmanager
// takes waits in the default spool (exit 3, saying where), and a flush
// with no spool named delivers it. A send that is delivered creates no
// directory, and a flush with nothing ever spooled is a usage error.
func TestAlertDefaultSpool(t *testing.T) {
	spool := isolatedState(t)
	am := newRecordingAM(t)

	if code, stdout, stderr := runTool(t, "", "alert", "send", "--alertmanager.url="+am.URL, "Delivered"); code != exitAccepted {
		t.Fatalf("send: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(spool); !os.IsNotExist(err) {
		t.Errorf("a delivered send made the default spool: %v", err)
	}
	code, stdout, stderr := runTool(t, "", "alert", "flush", "--alertmanager.url="+am.URL)
	if code != exitInvalid || !strings.Contains(stderr, "no spool directory") || !strings.Contains(stderr, spool) {
		t.Errorf("flush with nothing spooled: exit %d, want %d naming %s\n%s%s", code, exitInvalid, spool, stdout, stderr)
	}

	code, stdout, stderr = runTool(t, "", "alert", "send", "--alertmanager.url="+closedAlertmanager(t), "--timeout=2s", "Waiting", "n=1")
	if code != exitSpooled || !strings.Contains(stderr, "the default spool "+spool) {
		t.Fatalf("send with the Alertmanager down: exit %d, want %d naming the spool\n%s%s", code, exitSpooled, stdout, stderr)
	}
	if fi, err := os.Stat(spool); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("default spool: %v %v, want a directory of mode 0700", fi, err)
	}
	code, stdout, stderr = runTool(t, "", "alert", "flush", "--alertmanager.url="+am.URL)
	if code != exitAccepted || !strings.Contains(stdout, "delivered from the spool: 1") {
		t.Fatalf("flush: exit %d\n%s%s", code, stdout, stderr)
	}
	if got := am.posted(); len(got) != 2 || got[1].Labels["alertname"] != "Waiting" {
		t.Errorf("Alertmanager got %+v, want Delivered then Waiting", got)
	}
}

// A flush that no Alertmanager takes leaves the spooled batch and the kept
// alert where they are and exits 3, as a send that spooled does: a timer
// running it while Alertmanager is down does not report alerts lost. A
// refusal is exit 2, also when the other part only waits.
func TestAlertFlushWhileAlertmanagerDown(t *testing.T) {
	spool := filepath.Join(t.TempDir(), "spool")
	down := closedAlertmanager(t)
	flags := []string{"--alertmanager.url=" + down, "--spool.dir=" + spool, "--timeout=2s"}
	if code, stdout, stderr := runTool(t, "", append([]string{"alert", "send", "Waiting"}, flags...)...); code != exitSpooled {
		t.Fatalf("send: exit %d, want %d\n%s%s", code, exitSpooled, stdout, stderr)
	}
	if code, stdout, stderr := runTool(t, "", append([]string{"alert", "send", "--keep-firing", "Kept"}, flags...)...); code != exitSpooled {
		t.Fatalf("send --keep-firing: exit %d, want %d\n%s%s", code, exitSpooled, stdout, stderr)
	}
	code, stdout, stderr := runTool(t, "", append([]string{"alert", "flush"}, flags...)...)
	if code != exitSpooled {
		t.Errorf("flush with the Alertmanager down: exit %d, want %d\n%s%s", code, exitSpooled, stdout, stderr)
	}
	s, err := alertclient.OpenSpool(spool, 0)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := s.Stats(); err != nil || st.Batches != 2 { // Waiting, and Kept's first send
		t.Errorf("spool after the flush: %+v %v, want both batches", st, err)
	}
	kept, err := alertclient.OpenKeptAlerts(spool)
	if err != nil {
		t.Fatal(err)
	}
	if list, err := kept.List(); err != nil || len(list) != 1 {
		t.Errorf("kept after the flush: %+v %v, want Kept", list, err)
	}

	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no", http.StatusBadRequest)
	}))
	defer refusing.Close()
	flags[0] = "--alertmanager.url=" + refusing.URL
	if code, stdout, stderr := runTool(t, "", append([]string{"alert", "flush"}, flags...)...); code != exitNotDelivered {
		t.Errorf("flush refused: exit %d, want %d\n%s%s", code, exitNotDelivered, stdout, stderr)
	}
	if e := flushError(fmt.Errorf("x: %w", alertclient.ErrSpooled), errors.New("refused")); errors.Is(e, alertclient.ErrSpooled) {
		t.Errorf("flushError(spooled, refused) = %v: still ErrSpooled", e)
	}
}

// A default spool this user may not use (root's, when the package made it
// the warden user's) is not used, and a send that could not be delivered
// says why it was not spooled.
func TestAlertDefaultSpoolOfAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a directory another user owns")
	}
	spool := isolatedState(t)
	if err := os.MkdirAll(spool, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(spool, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	down := closedAlertmanager(t)
	code, stdout, stderr := runTool(t, "", "alert", "send", "--alertmanager.url="+down, "--timeout=2s", "Lost")
	if code != exitNotDelivered || !strings.Contains(stderr, "not spooled: the default spool cannot be used") || !strings.Contains(stderr, "owned by uid 65534") {
		t.Errorf("exit %d, want %d saying why nothing was spooled\n%s%s", code, exitNotDelivered, stdout, stderr)
	}
	code, stdout, _ = runTool(t, "", "alert", "send", "--alertmanager.url="+down, "--timeout=2s", "Lost", "--output=json")
	var out map[string]any
	if err := json.Unmarshal([]byte(stdout), &out); code != exitNotDelivered || err != nil || out["spool_error"] == nil || out["spool"] != nil {
		t.Errorf("JSON output %s (%v) lacks spool_error, or names a spool", stdout, err)
	}
}
