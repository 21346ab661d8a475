package testenv

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/warden-exporter/warden/internal/testlog"
)

// stopGrace is how long Stop lets a program shut down after SIGTERM before
// it kills the program.
const stopGrace = 10 * time.Second

// Process is a program started for a test and stopped at its end.
//
// One goroutine, started with the program, is the only caller of cmd.Wait:
// it stores the program's state and then closes done. Every other method
// reads the state only after done is closed, which orders the write before
// the reads, and touches cmd only through cmd.Process, whose methods are
// safe beside Wait. So any number of goroutines may call Stop, Kill and
// Exited, at once and as often as they like.
type Process struct {
	cmd   *exec.Cmd
	log   *testlog.Buffer
	done  chan struct{}
	state *os.ProcessState // written once, before done is closed
}

// Log returns what the process printed so far.
func (p *Process) Log() string { return p.log.String() }

// PID returns the process ID.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Start runs a program with its output kept for the test log, and stops it
// when the test ends.
func Start(t testing.TB, path string, args ...string) *Process {
	t.Helper()
	p := &Process{cmd: exec.Command(path, args...), log: &testlog.Buffer{}, done: make(chan struct{})}
	p.cmd.Stdout = p.log
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	go func() {
		// Wait's error adds nothing to the state: the output goes to a
		// buffer whose writes cannot fail.
		p.cmd.Wait()
		p.state = p.cmd.ProcessState
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("output of %s:\n%s", filepath.Base(path), p.log.String())
		}
	})
	return p
}

// Stop sends SIGTERM, gives the program stopGrace to exit, then kills it.
// It returns once the program has exited; on one that already has, it
// does nothing.
func (p *Process) Stop() {
	// Once the program is waited for, Signal returns os.ErrProcessDone and
	// sends nothing, so a PID reused since cannot be hit.
	p.cmd.Process.Signal(syscall.SIGTERM)
	grace := time.NewTimer(stopGrace)
	defer grace.Stop()
	select {
	case <-p.done:
	case <-grace.C:
		p.Kill()
	}
}

// Kill sends SIGKILL and returns once the program has exited; on one that
// already has, it does nothing.
func (p *Process) Kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// Exited waits up to d for the program to exit and returns its exit code,
// or -1 if it is still running. Once the program has exited, every call
// returns the same code at once. A program killed by a signal gives 128
// plus the signal's number, as a shell reports it, not the -1 of a
// program still running.
func (p *Process) Exited(d time.Duration) int {
	// Looked at first so that a zero or tiny d cannot win against an
	// exit that already happened: select picks at random among ready cases.
	select {
	case <-p.done:
		return exitCode(p.state)
	default:
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-p.done:
		return exitCode(p.state)
	case <-timer.C:
		return -1
	}
}

// exitCode is the program's exit status, or 128 plus the signal that
// killed it, where os.ProcessState.ExitCode would say -1.
func exitCode(s *os.ProcessState) int {
	if s == nil {
		// Wait failed to reap the program, which only a foreign reaper
		// can cause: no code is known.
		return -1
	}
	if ws, ok := s.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return s.ExitCode()
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
