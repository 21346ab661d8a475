package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-exporter/warden/internal/pki"
)

func TestCACommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	code, stdout, stderr := runTool(t, "", "ca", "init", "--dir", dir, "--name", "Fleet CA", "--permit-dns", "example.com", "--permit-ip", "10.0.0.0/8")
	if code != 0 {
		t.Fatalf("ca init: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "signs for DNS names in example.com and IP addresses in 10.0.0.0/8") {
		t.Errorf("ca init does not say what the CA signs for:\n%s", stdout)
	}
	a, err := pki.OpenAuthority(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.CA.CheckHosts([]string{"node1.example.org"}); err == nil {
		t.Error("the CA made with --permit-dns example.com permits node1.example.org")
	}

	if code, _, stderr := runTool(t, "", "ca", "init", "--dir", dir); code != 1 || !strings.Contains(stderr, "not empty") {
		t.Errorf("ca init on a CA: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runTool(t, "", "ca", "init", "--dir", filepath.Join(t.TempDir(), "x"), "--permit-ip", "10.0.0.0/33"); code != 1 || !strings.Contains(stderr, "--permit-ip") {
		t.Errorf("bad --permit-ip: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runTool(t, "", "ca", "drop-old", "--dir", dir); code != 1 || !strings.Contains(stderr, "no rotation is under way") {
		t.Errorf("drop-old without a rotation: exit %d, %s", code, stderr)
	}
	if code, stdout, stderr := runTool(t, "", "ca", "rotate", "--dir", dir); code != 0 || !strings.Contains(stdout, "cert trust") {
		t.Fatalf("ca rotate: exit %d, %s%s", code, stdout, stderr)
	}
	certs, err := pki.ParseCertificates(mustRead(t, filepath.Join(dir, pki.BundleFile)))
	if err != nil || len(certs) != 2 {
		t.Fatalf("bundle after rotate: %d certificates, %v", len(certs), err)
	}
	if code, _, stderr := runTool(t, "", "ca", "rotate", "--dir", dir); code != 1 || !strings.Contains(stderr, "drop-old") {
		t.Errorf("second rotate: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runTool(t, "", "ca", "drop-old", "--dir", dir); code != 0 {
		t.Fatalf("ca drop-old: exit %d, %s", code, stderr)
	}
	certs, _ = pki.ParseCertificates(mustRead(t, filepath.Join(dir, pki.BundleFile)))
	if len(certs) != 1 || certs[0].Subject.SerialNumber != "2" {
		t.Errorf("bundle after drop-old: %d certificates", len(certs))
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
