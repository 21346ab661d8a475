package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/warden-exporter/warden/alertclient"
	"github.com/warden-exporter/warden/internal/testenv"
)

const query = `filter=alertname="LoadHigh"`

// start runs watch on a value file against am, with a spool in spoolDir,
// and stops it at the end of the test.
func start(t *testing.T, am *testenv.Alertmanager, spoolDir string) (valueFile string) {
	t.Helper()
	hc, err := os.ReadFile(am.HTTPConfig())
	if err != nil {
		t.Fatal(err)
	}
	// The file a user would pass as --alert.config.file: the HTTP client
	// config (CA, client certificate, basic auth with a password_file) is
	// indented under http_config.
	config := fmt.Sprintf("alertmanagers:\n  - urls: [%s]\n    timeout: 2s\n    http_config:\n      %s\nretry: {initial_backoff: 100ms, max_backoff: 1s}\nspool: {directory: %s}\n",
		am.URL, strings.ReplaceAll(strings.TrimSpace(string(hc)), "\n", "\n      "), spoolDir)
	dir := t.TempDir()
	configFile := filepath.Join(dir, "alert.yml")
	writeFile(t, configFile, config)
	cfg, err := alertclient.LoadConfig(configFile)
	if err != nil {
		t.Fatal(err)
	}
	log := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("watch's log:\n%s", log)
		}
	})
	logger := slog.New(slog.NewTextHandler(log, nil))
	client, err := alertclient.New(alertclient.Options{Config: cfg, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	valueFile = filepath.Join(dir, "loadavg")
	writeFile(t, valueFile, "0.50 0.40 0.30 1/200 4242\n")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- watch(ctx, options{
			File: valueFile, Threshold: 4, Interval: 100 * time.Millisecond, Resend: time.Minute, Timeout: 2 * time.Second,
			Labels: map[string]string{"alertname": "LoadHigh", "instance": "test-node"}, Client: client, Logger: logger,
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watch: %v", err)
		}
	})
	return valueFile
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// logBuffer keeps the watcher's log, shown when a test fails. The
// client's background flush may still log after the test ended.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitActive waits until Alertmanager holds the alert, firing, with want
// in its summary.
func waitActive(t *testing.T, am *testenv.Alertmanager, want string) {
	t.Helper()
	testenv.Eventually(t, 20*time.Second, "alert active in Alertmanager", func() error {
		got, err := am.Alerts(query)
		if err != nil {
			return err
		}
		if len(got) != 1 {
			return fmt.Errorf("%d alerts, want 1: %+v", len(got), got)
		}
		a := got[0]
		if a.Status.State != "active" || a.Labels["instance"] != "test-node" || !strings.Contains(a.Annotations["summary"], want) {
			return fmt.Errorf("alert: %+v", a)
		}
		if !a.EndsAt.After(time.Now()) {
			return fmt.Errorf("alert already ended at %s", a.EndsAt)
		}
		return nil
	})
}

// waitResolved waits until Alertmanager holds no alert that has not ended.
func waitResolved(t *testing.T, am *testenv.Alertmanager) {
	t.Helper()
	testenv.Eventually(t, 20*time.Second, "alert resolved in Alertmanager", func() error {
		got, err := am.Alerts(query)
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
}

func TestRaiseAndResolve(t *testing.T) {
	am := testenv.StartAlertmanager(t, true)
	value := start(t, am, filepath.Join(t.TempDir(), "spool"))

	// Below the threshold: nothing is sent.
	time.Sleep(500 * time.Millisecond)
	if got, err := am.Alerts(query); err != nil || len(got) != 0 {
		t.Fatalf("below the threshold, Alertmanager holds %+v (%v)", got, err)
	}
	writeFile(t, value, "5.25 1.00 0.50 3/200 4242\n")
	waitActive(t, am, "is 5.25, threshold 4")
	writeFile(t, value, "4 1.00 0.50 3/200 4242\n") // at the threshold is not above it
	waitResolved(t, am)
	// And again: the same alert fires a second time.
	writeFile(t, value, "7\n")
	waitActive(t, am, "is 7, threshold 4")
}

// TestSpooledWhileAlertmanagerDown: an alert raised while no Alertmanager
// answers waits in the spool and arrives when Alertmanager is back.
func TestSpooledWhileAlertmanagerDown(t *testing.T) {
	am := testenv.StartAlertmanager(t, false)
	spool := filepath.Join(t.TempDir(), "spool")
	value := start(t, am, spool)
	am.Stop()
	writeFile(t, value, "9.5\n")
	testenv.Eventually(t, 20*time.Second, "alert spooled", func() error {
		if st := spoolStats(t, spool); st.Alerts != 1 {
			return fmt.Errorf("spool: %+v", st)
		}
		return nil
	})
	am.Start()
	waitActive(t, am, "is 9.5, threshold 4")
	testenv.Eventually(t, 20*time.Second, "spool empty", func() error {
		if st := spoolStats(t, spool); st.Alerts != 0 {
			return fmt.Errorf("spool: %+v", st)
		}
		return nil
	})
	writeFile(t, value, "1\n")
	waitResolved(t, am)
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

// TestRunUntilSignal runs the program as main does, configured by flags,
// and stops it as systemd would.
func TestRunUntilSignal(t *testing.T) {
	am := testenv.StartAlertmanager(t, false)
	dir := t.TempDir()
	value := filepath.Join(dir, "loadavg")
	writeFile(t, value, "12.5 1 1 1/1 1\n")
	var stderr logBuffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"--alertmanager.url=" + am.URL, "--http.config.file=" + am.HTTPConfig(), "--spool.dir=" + filepath.Join(dir, "spool"),
			"--value.file=" + value, "--threshold=4", "--interval=100ms", "--alert.name=LoadHigh", "--alert.label=instance=test-node"}, io.Discard, &stderr)
	}()
	waitActive(t, am, "is 12.5, threshold 4")
	// The alert arrived, so run is in its loop and handles SIGTERM.
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after SIGTERM:\n%s", code, &stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("still running 20s after SIGTERM:\n%s", &stderr)
	}
}

func TestRunRefusesBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no threshold", []string{"--alertmanager.url=https://127.0.0.1:1"}, 2, "--threshold"},
		{"no Alertmanager", []string{"--threshold=1"}, 1, "alertmanagers"},
		{"credentials in the URL", []string{"--threshold=1", "--alertmanager.url=https://u:secret@127.0.0.1:1"}, 1, "not in the URL"},
		{"missing config file", []string{"--threshold=1", "--alert.config.file=/nonexistent/alert.yml"}, 1, "/nonexistent/alert.yml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(tt.args, io.Discard, &stderr)
			if code != tt.code || !strings.Contains(stderr.String(), tt.want) || strings.Contains(stderr.String(), "secret") {
				t.Errorf("exit %d, want %d with %q:\n%s", code, tt.code, tt.want, stderr.String())
			}
		})
	}
}
