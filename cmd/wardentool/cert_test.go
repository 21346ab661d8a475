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
	// A request comes from a node: one far larger than any is refused
	// after 64 KiB, not read whole (a 3 GB file ran out of memory).
	huge := filepath.Join(t.TempDir(), "huge.csr")
	if err := os.WriteFile(huge, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runTool(t, "", "cert", "sign", "--ca", caDir, huge); code != 1 || !strings.Contains(stderr, "larger than 64 KiB") {
		t.Errorf("a 1 MiB request: exit %d, %s", code, stderr)
	}
}

func TestCertRenewAndTrust(t *testing.T) {
	caDir, out := newFleet(t, "node1.example.com 10.0.0.1\n")
	node := filepath.Join(out, fleet.NodesDir, "node1.example.com")
	prom := filepath.Join(out, fleet.PrometheusDir)

	// Nothing due is success, so that a timer can run it.
	code, stdout, stderr := runTool(t, "", "cert", "renew", "--ca", caDir, "--dir", node, "--dir", prom, "--before", "30d")
	if code != 0 || strings.Count(stdout, "not due: expires in 36") != 2 {
		t.Fatalf("renew with nothing due: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runTool(t, "", "cert", "renew", "--ca", caDir, "--dir", node, "--before", "400d")
	if code != 0 || !strings.Contains(stdout, "server.crt: renewed (expires in 36") {
		t.Fatalf("renew within 400d: exit %d\n%s%s", code, stdout, stderr)
	}

	if code, _, stderr := runTool(t, "", "ca", "rotate", "--dir", caDir); code != 0 {
		t.Fatal(stderr)
	}
	code, _, stderr = runTool(t, "", "cert", "renew", "--ca", caDir, "--dir", node)
	if code != 1 || !strings.Contains(stderr, "does not trust the CA that signs now") {
		t.Fatalf("renew before trust: exit %d, %s", code, stderr)
	}
	code, stdout, stderr = runTool(t, "", "cert", "trust", "--ca", caDir, "--dir", node, "--dir", prom)
	if code != 0 || strings.Count(stdout, "now the CA's bundle") != 2 || !strings.Contains(stdout, `"SERIALNUMBER=1,CN=Warden CA,O=Warden" and "SERIALNUMBER=2,CN=Warden CA,O=Warden"`) {
		t.Fatalf("trust: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runTool(t, "", "cert", "renew", "--ca", caDir, "--dir", node, "--dir", prom)
	if code != 0 || strings.Count(stdout, "renewed (issued by") != 2 {
		t.Fatalf("renew after rotation: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, _ := runTool(t, "", "cert", "renew", "--ca", caDir, "--dir", node, "--dir", filepath.Join(out, "missing")); code != 1 || !strings.Contains(stdout, "not due") {
		t.Errorf("renew with one bad directory: exit %d, %s (the good one must still be done)", code, stdout)
	}
}
