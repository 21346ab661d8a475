package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

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

// NodeExporterModule is the reference Warden's metrics must match.
const NodeExporterModule = "github.com/prometheus/node_exporter@v1.12.1"

// NodeExporter builds the reference node_exporter once into bin/peers.
func NodeExporter(t testing.TB) string {
	t.Helper()
	return installPeer(t, NodeExporterModule, "node_exporter")
}

// AmtoolModule is the amtool Warden's alert sending is compared with.
const AmtoolModule = "github.com/prometheus/alertmanager/cmd/amtool@v0.34.2"

// Amtool builds amtool v0.34.2 once into bin/peers.
func Amtool(t testing.TB) string {
	t.Helper()
	return installPeer(t, AmtoolModule, "amtool")
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
