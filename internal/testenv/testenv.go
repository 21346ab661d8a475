// Package testenv runs Warden's binaries and their real peers (Debian's
// prometheus and prometheus-alertmanager, node_exporter v1.12.1) on
// loopback for the end-to-end tests and the benchmarks.
package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binDir holds the binaries built by Main.
var binDir string

// Main builds Warden's binaries, runs the tests and removes the binaries:
// call it from TestMain.
func Main(m *testing.M) {
	dir, err := os.MkdirTemp("", "warden-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	cmd := exec.Command("go", "build", "-o", dir+"/", "github.com/warden-exporter/warden/cmd/...")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build binaries: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Bin returns the path of one of Warden's binaries built by Main.
func Bin(name string) string { return filepath.Join(binDir, name) }

// Need fails the test when a program the tests run is not installed:
// `make test` installs them, and a missing one must not pass silently.
func Need(t testing.TB, program string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err != nil {
		t.Fatalf("%s is not installed; run `make test`, which installs it", program)
	}
	return path
}

// FreeAddr returns a loopback address with a port free at the time of the call.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Process is a program started for a test and stopped at its end.
type Process struct {
	cmd  *exec.Cmd
	log  *syncBuffer
	done chan error
}

// Log returns what the process printed so far.
func (p *Process) Log() string { return p.log.String() }

// PID returns the process ID.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// syncBuffer is a bytes.Buffer safe for a writing process and a reading test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Start runs a program with its output kept for the test log.
func Start(t testing.TB, path string, args ...string) *Process {
	t.Helper()
	p := &Process{cmd: exec.Command(path, args...), log: &syncBuffer{}, done: make(chan error, 1)}
	p.cmd.Stdout = p.log
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("output of %s:\n%s", filepath.Base(path), p.log.String())
		}
	})
	return p
}

// Stop sends SIGTERM and waits, then kills.
func (p *Process) Stop() {
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// Exited waits up to d for the process to exit and returns its exit code,
// or -1 if it is still running.
func (p *Process) Exited(d time.Duration) int {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(d):
		return -1
	}
}

// WaitListening waits until addr accepts TCP connections.
func WaitListening(t testing.TB, addr string, p *Process) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		if code := p.Exited(100 * time.Millisecond); code >= 0 {
			t.Fatalf("process exited with %d before listening on %s:\n%s", code, addr, p.log)
		}
	}
	t.Fatalf("nothing listens on %s after 20s:\n%s", addr, p.log)
}

// Run runs a program to completion and returns its exit code and output.
func Run(t testing.TB, stdin string, path string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			t.Fatalf("run %s: %v", path, err)
		}
		code = exitErr.ExitCode()
	}
	return code, stdout.String(), stderr.String()
}

// PromSample is one sample of a Prometheus instant query result.
type PromSample struct {
	Metric map[string]string
	Value  float64
}

// PromQuery runs an instant query against a Prometheus server.
func PromQuery(addr, query string) ([]PromSample, error) {
	resp, err := http.Get("http://" + addr + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var r struct {
		Status string
		Error  string
		Data   struct {
			Result []struct {
				Metric map[string]string
				Value  [2]any
			}
		}
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("decode %s: %w", body, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %s: %s", query, r.Error)
	}
	var out []PromSample
	for _, s := range r.Data.Result {
		str, _ := s.Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return nil, fmt.Errorf("value %v: %w", s.Value, err)
		}
		out = append(out, PromSample{Metric: s.Metric, Value: v})
	}
	return out, nil
}

// Eventually polls f until it returns nil or the timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = f(); err == nil {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s: not true after %s: %v", what, timeout, err)
}

// NodeExporterModule is the reference Warden's metrics must match.
const NodeExporterModule = "github.com/prometheus/node_exporter@v1.12.1"

// NodeExporter builds the reference node_exporter once into bin/peers.
func NodeExporter(t testing.TB) string {
	t.Helper()
	dir, err := peersDir()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "node_exporter")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	cmd := exec.Command("go", "install", NodeExporterModule)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install %s: %v\n%s", NodeExporterModule, err, out)
	}
	return path
}

// peersDir is bin/peers in the module's root, where peers are installed.
func peersDir() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	return filepath.Join(filepath.Dir(strings.TrimSpace(string(out))), "bin", "peers"), nil
}
