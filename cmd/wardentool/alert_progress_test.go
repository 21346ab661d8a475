package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// runOnTerminal runs wardentool with stderr on a pseudo-terminal, and
// returns its exit code, stdout and what the terminal showed.
func runOnTerminal(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer master.Close()
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	terminal, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	shown := make(chan string)
	go func() {
		var b bytes.Buffer
		io.Copy(&b, master) // ends with EIO once the terminal is closed
		shown <- b.String()
	}()
	var stdout bytes.Buffer
	code := run(args, strings.NewReader(""), &stdout, terminal)
	terminal.Close()
	return code, stdout.String(), <-shown
}

// On a terminal, a send to an Alertmanager that is down says once that it
// retries and when, instead of 2 s of silence; its error is printed once
// at the end, not also on stdout.
func TestAlertRetryIsToldOnATerminal(t *testing.T) {
	down := closedAlertmanager(t)
	args := []string{"alert", "send", "Down", "--alertmanager.url=" + down, "--spool.dir=" + t.TempDir(), "--timeout=2s"}
	code, stdout, shown := runOnTerminal(t, args...)
	if code != exitSpooled {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitSpooled, stdout, shown)
	}
	notice := strings.TrimPrefix(down, "http://") + " did not take the alerts"
	if n := strings.Count(shown, notice); n != 1 || !strings.Contains(shown, "retrying, next attempt at ") {
		t.Errorf("the terminal showed the retry notice %d times, want once:\n%s", n, shown)
	}
	if strings.Contains(stdout, "connection refused") || !strings.Contains(stdout, "not accepted after") {
		t.Errorf("stdout repeats the error printed on stderr:\n%s", stdout)
	}

	// Not a terminal: nothing of it.
	code, _, stderr := runTool(t, "", args...)
	if code != exitSpooled || strings.Contains(stderr, "retrying") {
		t.Errorf("not a terminal: exit %d, stderr:\n%s", code, stderr)
	}
}

// On a terminal, a send that takes over a second shows how many alerts
// went of how many, on one line it rewrites and takes away at the end.
func TestAlertProgressOnATerminal(t *testing.T) {
	am := newRecordingAM(t)
	next := am.Config.Handler
	am.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		next.ServeHTTP(w, r)
	})
	dir := t.TempDir()
	config := writeFile(t, dir, "alert.yml", "alertmanagers:\n  - urls: ["+am.URL+"]\nbatch_size: 1\n")
	var lines strings.Builder
	for i := range 6 {
		fmt.Fprintf(&lines, `{"labels":{"alertname":"Slow","i":"%d"}}`+"\n", i)
	}
	file := writeFile(t, dir, "alerts.jsonl", lines.String())
	args := []string{"alert", "send", "--alert.config.file=" + config, "--file=" + file, "--spool.dir=" + filepath.Join(dir, "spool")}
	code, stdout, shown := runOnTerminal(t, args...)
	if code != exitAccepted || len(am.posted()) != 6 {
		t.Fatalf("exit %d, %d alerts posted\n%s%s", code, len(am.posted()), stdout, shown)
	}
	if !regexp.MustCompile(`\r\x1b\[K[1-6]/6 alerts sent`).MatchString(shown) || !strings.HasSuffix(shown, clearLine) {
		t.Errorf("the terminal showed %q, want the progress, then the line cleared", shown)
	}
	code, _, stderr := runTool(t, "", args...)
	if code != exitAccepted || stderr != "" {
		t.Errorf("not a terminal: exit %d, stderr %q", code, stderr)
	}
}
