package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Binaries is a directory of Warden's commands built for one run of a test
// binary. A test package declares one, Main fills it in before any test
// runs, and the tests only read it.
type Binaries struct {
	dir string
}

// Path returns the path of Warden's command name, such as "wardentool".
func (b *Binaries) Path(name string) string {
	if b.dir == "" {
		// A bare name would make exec search $PATH and could run an
		// installed Warden instead of the code under test.
		panic("testenv: Binaries.Path(" + name + ") before Main built the binaries")
	}
	return filepath.Join(b.dir, name)
}

// Main builds Warden's commands into a temporary directory, points bins at
// it, runs the tests and removes the directory: call it from TestMain.
func Main(m *testing.M, bins *Binaries) {
	dir, err := build()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// build compiles every command under cmd/ into a new temporary directory
// and returns it.
func build() (string, error) {
	dir, err := os.MkdirTemp("", "warden-bin")
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "github.com/warden-exporter/warden/cmd/...")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("build binaries: %w\n%s", err, out)
	}
	return dir, nil
}
