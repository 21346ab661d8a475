// Package scripts_test checks the scripts behind `make run`, `make test` and
// `make test-deps` by running them, and that what the README's commands
// build is ignored by git.
package scripts_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warden-exporter/warden/internal/testenv"
)

var bins testenv.Binaries

func TestMain(m *testing.M) { testenv.Main(m, &bins) }

// run runs a program with a deadline and returns its exit code, its
// combined output and how long it took.
func run(t *testing.T, env []string, name string, args ...string) (int, string, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	if ctx.Err() != nil {
		t.Fatalf("%s %v: still running after a minute:\n%s", name, args, out)
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out), took
	case errors.As(err, &exitErr):
		return exitErr.ExitCode(), string(out), took
	}
	t.Fatalf("%s %v: %v", name, args, err)
	return -1, "", 0
}

// `make run PORT=N` serves on N, and the curl command it prints scrapes
// it with the password read from a file.
func TestRunServesOnPort(t *testing.T) {
	curl := testenv.Need(t, "curl")
	addr := testenv.FreeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	dir := filepath.Join(t.TempDir(), ".warden")
	p := testenv.Start(t, "./run.sh", filepath.Dir(bins.Path("wardentool")), dir, port)
	testenv.WaitListening(t, addr, p)

	line := regexp.MustCompile(`(?m)^  curl .*$`).FindString(p.Log())
	if line == "" {
		t.Fatalf("no curl command printed:\n%s", p.Log())
	}
	if strings.Contains(line, "$(") || strings.Contains(line, " -u ") || !strings.Contains(line, "--netrc-file "+dir+"/netrc") {
		t.Errorf("the printed command does not take the password from a file: %s", line)
	}
	if !strings.HasSuffix(line, "https://"+addr+"/metrics") {
		t.Errorf("the printed command scrapes another address than %s: %s", addr, line)
	}
	args := append([]string{"--fail", "--silent", "--show-error", "--max-time", "30"}, strings.Fields(line)[1:]...)
	code, out, _ := run(t, nil, curl, args...)
	if code != 0 || !strings.Contains(out, "\nnode_cpu_seconds_total{") {
		t.Errorf("the printed curl command: exit %d\n%.300s", code, out)
	}
}

// With PORT taken, `make run` stops at once and names a free port.
func TestRunSaysWhichPortIsFree(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	dir := filepath.Join(t.TempDir(), ".warden")
	code, out, took := run(t, nil, "./run.sh", filepath.Dir(bins.Path("wardentool")), dir, port)
	m := regexp.MustCompile(`^make run: 127\.0\.0\.1:` + port + ` is already in use \(another node_exporter\?\); choose another port: make run PORT=(\d+)\n$`).FindStringSubmatch(out)
	if code != 1 || m == nil || took > 10*time.Second {
		t.Fatalf("exit %d after %v, output %q", code, took, out)
	}
	if free, _ := strconv.Atoi(m[1]); free <= 0 || m[1] == port {
		t.Errorf("suggested port %s", m[1])
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("wrote a configuration before finding the port taken")
	}
}

// The Makefile hands PORT to the script.
func TestMakeRunTakesPort(t *testing.T) {
	testenv.Need(t, "make")
	code, out, _ := run(t, nil, "make", "-C", "../..", "--no-print-directory", "-n", "run", "PORT=9123")
	if code != 0 || !strings.Contains(out, "internal/scripts/run.sh bin .warden 9123\n") {
		t.Errorf("make -n run PORT=9123: exit %d\n%s", code, out)
	}
}

// `make test` ends with one line per stage: result and time, and the
// stages after a failure are not run.
func TestStageSummary(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "make")
	// $1 is --no-print-directory, $2 the stage.
	script := "#!/bin/sh\necho \"ran $2\"\n[ \"$2\" != broken ]\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	code, out, _ := run(t, []string{"MAKE=" + fake}, "./test.sh", "first", "broken", "last")
	want := regexp.MustCompile(`(?s)ran first\n.*ran broken\n` +
		`\nmake test: FAIL at broken in 0m0\ds\n` +
		`  first +ok +0m0\ds\n` +
		`  broken +FAIL +0m0\ds\n` +
		`  last +not run *\n$`)
	if code == 0 || !want.MatchString(out) || strings.Contains(out, "ran last") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
	code, out, _ = run(t, []string{"MAKE=" + fake}, "./test.sh", "first", "last")
	if code != 0 || !regexp.MustCompile(`\nmake test: PASS in 0m0\ds\n  first +ok +0m0\ds\n  last +ok +0m0\ds\n$`).MatchString(out) {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

// As a user who is not root and has no passwordless sudo, test-deps
// stops within seconds, before installing anything, with one line naming
// what is missing.
func TestDepsWithoutRootStopAtOnce(t *testing.T) {
	// asUser runs a command as the user without root.
	asUser := func(args ...string) (int, string, time.Duration) {
		return run(t, []string{"LC_ALL=C"}, args[0], args[1:]...)
	}
	script := "test-deps.sh"
	if os.Getuid() == 0 {
		// The script in a directory nobody can read, run as nobody.
		dir, err := os.MkdirTemp("", "warden-test-deps")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		b, err := os.ReadFile("test-deps.sh")
		if err != nil {
			t.Fatal(err)
		}
		script = filepath.Join(dir, "test-deps.sh")
		if err := os.WriteFile(script, b, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		setpriv := testenv.Need(t, "setpriv")
		asUser = func(args ...string) (int, string, time.Duration) {
			return run(t, []string{"LC_ALL=C"}, setpriv, append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", "--"}, args...)...)
		}
	}
	if code, _, _ := asUser("sh", "-c", "sudo -n true"); code == 0 {
		t.Skip("this user has passwordless sudo")
	}
	code, out, took := asUser("bash", script)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 1 || took > 10*time.Second || !strings.HasPrefix(lines[0], "test-deps: FAIL: needs root or passwordless sudo: ") {
		t.Fatalf("exit %d after %v:\n%s", code, took, out)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "test-deps: FAIL: needs ") {
			t.Errorf("line %q does not say what is missing", l)
		}
	}
}

// What `go build` of an example or a command leaves in the clone is ignored.
func TestBuildOutputsIgnored(t *testing.T) {
	git := testenv.Need(t, "git")
	if code, _, _ := run(t, nil, git, "-C", "../..", "rev-parse", "--git-dir"); code != 0 {
		t.Skip("not a git checkout")
	}
	for _, path := range []string{
		"queue_exporter", "hello_exporter", "alert_on_threshold", "wardentool", "warden_node_exporter",
		"examples/hello_exporter/hello_exporter", "examples/queue_exporter/queue_exporter",
		"examples/alert_on_threshold/alert_on_threshold", ".warden/netrc", "bin/wardentool",
	} {
		if code, out, _ := run(t, nil, git, "-C", "../..", "check-ignore", "--no-index", "-q", path); code != 0 {
			t.Errorf("git does not ignore %s (exit %d %s)", path, code, out)
		}
	}
	for _, path := range []string{"packaging/default/warden_node_exporter", "cmd/wardentool/main.go", "examples/hello_exporter/main.go"} {
		if code, _, _ := run(t, nil, git, "-C", "../..", "check-ignore", "--no-index", "-q", path); code == 0 {
			t.Errorf("git ignores %s, a source file", path)
		}
	}
}
