package main

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-exporter/warden/internal/fleet"
	"github.com/warden-exporter/warden/internal/pki"
)

func TestCertRequestAndSign(t *testing.T) {
	dir := t.TempDir()
	caDir := filepath.Join(dir, "ca")
	if code, _, stderr := runTool(t, "", "ca", "init", "--dir", caDir, "--permit-dns", "example.com", "--permit-ip", "10.0.0.0/8"); code != 0 {
		t.Fatal(stderr)
	}
	request := func(node string, hosts ...string) string {
		t.Helper()
		args := []string{"cert", "request", "--out", filepath.Join(dir, node)}
		for _, h := range hosts {
			args = append(args, "--host", h)
		}
		if code, _, stderr := runTool(t, "", args...); code != 0 {
			t.Fatalf("cert request: exit %d: %s", code, stderr)
		}
		return filepath.Join(dir, node, fleet.ServerCSR)
	}

	good := request("node1", "node1.dc1.example.com", "10.0.0.1")
	out := filepath.Join(dir, "node1", fleet.ServerCert)
	code, _, stderr := runTool(t, "", "cert", "sign", "--ca", caDir, "--allow-host", "*.dc1.example.com", "--allow-host", "10.0.0.0/24", "--out", out, good)
	if code != 0 {
		t.Fatalf("cert sign: exit %d: %s", code, stderr)
	}
	cert, err := pki.ReadCertificate(out)
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.ReadKey(filepath.Join(dir, "node1", fleet.ServerKey))
	if err != nil || !pki.Matches(cert, key) {
		t.Fatalf("the signed certificate is not for the node's key: %v", err)
	}
	if cert.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth || cert.IPAddresses[0].String() != "10.0.0.1" {
		t.Errorf("certificate: usage %v, IPs %v", cert.ExtKeyUsage, cert.IPAddresses)
	}
	// Standard input and standard output, for pipes over ssh.
	code, stdout, stderr := runTool(t, string(mustRead(t, good)), "cert", "sign", "--ca", caDir, "--usage", "client", "-")
	if code != 0 || !strings.HasPrefix(stdout, "-----BEGIN CERTIFICATE-----") || !strings.Contains(stderr, "Signed") {
		t.Fatalf("cert sign -: exit %d\n%s%s", code, stdout, stderr)
	}

	for _, tt := range []struct {
		name  string
		hosts []string
		args  []string
		want  []string
	}{
		{"outside --allow-host", []string{"node2.dc2.example.com", "10.0.0.2"}, []string{"--allow-host", "*.dc1.example.com", "--allow-host", "10.0.0.0/24"},
			[]string{"not allowed by --allow-host *.dc1.example.com, 10.0.0.0/24: node2.dc2.example.com"}},
		{"outside the CA's constraints", []string{"node3.example.org", "192.168.1.3"}, nil,
			[]string{"the CA's name constraints do not permit node3.example.org, 192.168.1.3 (it signs only for DNS names in example.com and IP addresses in 10.0.0.0/8)"}},
		{"outside both", []string{"node4.example.org"}, []string{"--allow-host", "*.example.com"},
			[]string{"not allowed by --allow-host *.example.com: node4.example.org", "name constraints do not permit node4.example.org"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			csr := request(strings.ReplaceAll(tt.name, " ", "_"), tt.hosts...)
			out := filepath.Join(t.TempDir(), "server.crt")
			code, stdout, stderr := runTool(t, "", append(append([]string{"cert", "sign", "--ca", caDir, "--out", out}, tt.args...), csr)...)
			if code != 1 || stdout != "" {
				t.Fatalf("exit %d, stdout %q; want 1 and nothing", code, stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a refused request wrote %s", out)
			}
		})
	}
	if code, _, stderr := runTool(t, "", "cert", "sign", "--ca", caDir, "--allow-host", "[a-", good); code != 1 || !strings.Contains(stderr, "--allow-host") {
		t.Errorf("malformed pattern: exit %d, %s", code, stderr)
	}
}
