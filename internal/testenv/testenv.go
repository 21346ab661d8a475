// Package testenv runs Warden's binaries and their real peers (Debian's
// prometheus and prometheus-alertmanager, node_exporter v1.12.1) on
// loopback for the end-to-end tests and the benchmarks.
package testenv

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
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
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/warden-exporter/warden/internal/pki"
	"golang.org/x/crypto/bcrypt"
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
	return installPeer(t, NodeExporterModule, "node_exporter")
}

// installPeer runs `go install module` into bin/peers unless the binary is there.
func installPeer(t testing.TB, module, binary string) string {
	t.Helper()
	dir, err := peersDir()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, binary)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	cmd := exec.Command("go", "install", module)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install %s: %v\n%s", module, err, out)
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

// Alertmanager is Debian's prometheus-alertmanager serving TLS and basic
// auth (and, with mTLS, requiring a client certificate) on loopback.
type Alertmanager struct {
	Addr string
	URL  string
	// Dir holds the PKI: ca.crt, client.crt, client.key, and the password
	// file of user "warden".
	Dir          string
	PasswordFile string
	Proc         *Process
	args         []string
	t            testing.TB
}

// AlertmanagerUser is the basic-auth user of every test Alertmanager.
const AlertmanagerUser = "warden"

// StartAlertmanager starts an Alertmanager with its own web config. With
// mtls, it also requires a client certificate signed by Dir/ca.crt.
func StartAlertmanager(t testing.TB, mtls bool) *Alertmanager {
	t.Helper()
	bin := Need(t, "prometheus-alertmanager")
	dir := t.TempDir()
	ca, err := pki.NewCA("alertmanager test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	server, err := ca.Server("localhost", []string{"localhost", "127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.Client("warden-client", []string{"warden-client"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	path := func(n string) string { return filepath.Join(dir, n) }
	must(ca.WriteFiles(path("ca.crt"), ""))
	must(server.WriteFiles(path("server.crt"), path("server.key")))
	must(client.WriteFiles(path("client.crt"), path("client.key")))
	password := "am-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	must(os.WriteFile(path("password"), []byte(password+"\n"), 0o600))
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	must(err)
	web := fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\n", path("server.crt"), path("server.key"))
	if mtls {
		web += fmt.Sprintf("  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: %s\n", path("ca.crt"))
	}
	web += fmt.Sprintf("basic_auth_users:\n  %s: %q\n", AlertmanagerUser, hash)
	must(os.WriteFile(path("web.yml"), []byte(web), 0o600))
	must(os.WriteFile(path("alertmanager.yml"), []byte("route:\n  receiver: blackhole\n  group_wait: 1h\nreceivers:\n  - name: blackhole\n"), 0o600))

	addr := FreeAddr(t)
	am := &Alertmanager{Addr: addr, URL: "https://" + addr, Dir: dir, PasswordFile: path("password"), t: t}
	am.args = []string{bin, "--config.file=" + path("alertmanager.yml"), "--storage.path=" + path("data"),
		"--web.listen-address=" + addr, "--web.config.file=" + path("web.yml"), "--cluster.listen-address="}
	am.Start()
	return am
}

// Start (re)starts the Alertmanager and waits until it answers.
func (am *Alertmanager) Start() {
	am.t.Helper()
	am.Proc = Start(am.t, am.args[0], am.args[1:]...)
	WaitListening(am.t, am.Addr, am.Proc)
}

// Stop stops it; Start brings it back with the same data.
func (am *Alertmanager) Stop() { am.Proc.Stop() }

// HTTPConfig returns a prometheus/common HTTP client config file (amtool's
// --http.config.file format) with the CA, the client certificate and the
// basic-auth password file; what is left out is given by omit: "cert",
// "password" or "ca".
func (am *Alertmanager) HTTPConfig(omit ...string) string {
	am.t.Helper()
	has := func(s string) bool { return !slices.Contains(omit, s) }
	var b strings.Builder
	b.WriteString("tls_config:\n")
	if has("ca") {
		fmt.Fprintf(&b, "  ca_file: %s\n", filepath.Join(am.Dir, "ca.crt"))
	}
	if has("cert") {
		fmt.Fprintf(&b, "  cert_file: %s\n  key_file: %s\n", filepath.Join(am.Dir, "client.crt"), filepath.Join(am.Dir, "client.key"))
	}
	if has("password") {
		fmt.Fprintf(&b, "basic_auth:\n  username: %s\n  password_file: %s\n", AlertmanagerUser, am.PasswordFile)
	}
	f := filepath.Join(am.t.TempDir(), "http.yml")
	if err := os.WriteFile(f, []byte(b.String()), 0o600); err != nil {
		am.t.Fatal(err)
	}
	return f
}

// AMAlert is an alert as Alertmanager's API lists it.
type AMAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

// Alerts lists what Alertmanager holds, asked directly over its API with
// its own credentials (not through Warden's client).
func (am *Alertmanager) Alerts(query string) ([]AMAlert, error) {
	caPEM, err := os.ReadFile(filepath.Join(am.Dir, "ca.crt"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	cert, err := tls.LoadX509KeyPair(filepath.Join(am.Dir, "client.crt"), filepath.Join(am.Dir, "client.key"))
	if err != nil {
		return nil, err
	}
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}}}
	req, err := http.NewRequest(http.MethodGet, am.URL+"/api/v2/alerts?"+query, nil)
	if err != nil {
		return nil, err
	}
	pw, err := os.ReadFile(am.PasswordFile)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(AlertmanagerUser, strings.TrimSpace(string(pw)))
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("GET alerts: %d %s", resp.StatusCode, b)
	}
	var out []AMAlert
	return out, json.NewDecoder(resp.Body).Decode(&out)
}

// Kill sends SIGKILL and waits for the process to die.
func (p *Process) Kill() {
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Kill()
	<-p.done
}

// AmtoolModule is the amtool Warden's alert sending is compared with.
const AmtoolModule = "github.com/prometheus/alertmanager/cmd/amtool@v0.34.2"

// Amtool builds amtool v0.34.2 once into bin/peers.
func Amtool(t testing.TB) string {
	t.Helper()
	return installPeer(t, AmtoolModule, "amtool")
}
