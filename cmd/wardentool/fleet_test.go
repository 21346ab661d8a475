package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-exporter/warden/internal/fleet"
)

// newFleet runs ca init and fleet init on an inventory, and returns the
// CA's and the fleet's directories.
func newFleet(t *testing.T, inventory string, caArgs ...string) (caDir, out string) {
	t.Helper()
	dir := t.TempDir()
	caDir, out = filepath.Join(dir, "ca"), filepath.Join(dir, "fleet")
	if code, _, stderr := runTool(t, "", append([]string{"ca", "init", "--dir", caDir}, caArgs...)...); code != 0 {
		t.Fatalf("ca init: exit %d: %s", code, stderr)
	}
	inv := filepath.Join(dir, "hosts.txt")
	if err := os.WriteFile(inv, []byte(inventory), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runTool(t, "", "fleet", "init", "--ca", caDir, "--inventory", inv, "--out", out, "--port", "9200")
	if code != 0 {
		t.Fatalf("fleet init: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "Issued certificates for") || strings.Contains(stdout, string(mustRead(t, filepath.Join(out, fleet.PrometheusDir, fleet.PasswordFile)))) {
		t.Errorf("fleet init output:\n%s", stdout)
	}
	return caDir, out
}

func TestFleetInit(t *testing.T) {
	_, out := newFleet(t, "node1.example.com 10.0.0.1\nnode2.example.com 10.0.0.2\n")
	for _, n := range []string{"node1.example.com", "node2.example.com"} {
		for _, f := range []string{fleet.ServerCert, fleet.ServerKey, fleet.CACert, fleet.WebConfig} {
			if _, err := os.Stat(filepath.Join(out, fleet.NodesDir, n, f)); err != nil {
				t.Error(err)
			}
		}
	}
	if targets := string(mustRead(t, filepath.Join(out, fleet.PrometheusDir, fleet.Targets))); !strings.Contains(targets, `"10.0.0.2:9200"`) {
		t.Errorf("targets.json:\n%s", targets)
	}
}

func TestFleetInitRefusals(t *testing.T) {
	dir := t.TempDir()
	caDir := filepath.Join(dir, "ca")
	if code, _, stderr := runTool(t, "", "ca", "init", "--dir", caDir, "--permit-dns", "example.com"); code != 0 {
		t.Fatal(stderr)
	}
	inv := filepath.Join(dir, "hosts.txt")
	if err := os.WriteFile(inv, []byte("node1.example.com\nnode2.example.org\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runTool(t, "", "fleet", "init", "--ca", caDir, "--inventory", inv, "--out", filepath.Join(dir, "fleet"))
	if code != 1 || !strings.Contains(stderr, "hosts.txt:2: the CA's name constraints do not permit node2.example.org") {
		t.Errorf("fleet init outside the constraints: exit %d, %s", code, stderr)
	}
	code, _, stderr = runTool(t, "", "fleet", "init", "--ca", filepath.Join(dir, "none"), "--inventory", inv, "--out", filepath.Join(dir, "fleet"))
	if code != 1 || !strings.Contains(stderr, "none") {
		t.Errorf("fleet init without a CA: exit %d, %s", code, stderr)
	}
}
