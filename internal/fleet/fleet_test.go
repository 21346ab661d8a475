package fleet

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/config"
	"go.yaml.in/yaml/v2"
	"golang.org/x/crypto/bcrypt"

	"github.com/warden-exporter/warden/internal/pki"
	"github.com/warden-exporter/warden/internal/setup"
	"github.com/warden-exporter/warden/webconf"
)

// newAuthority makes a CA directory for a test.
func newAuthority(t testing.TB, opts pki.CAOptions) *pki.Authority {
	t.Helper()
	opts.CommonName = "test fleet CA"
	a, err := pki.InitAuthority(filepath.Join(t.TempDir(), "ca"), opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func testNodes(n int) []Node {
	nodes := make([]Node, n)
	for i := range nodes {
		name := fmt.Sprintf("node%d.example.com", i+1)
		addr := fmt.Sprintf("10.0.%d.%d", (i+1)/250, (i+1)%250+1)
		nodes[i] = Node{Name: name, Hosts: []string{name, addr}, Host: addr, Line: fmt.Sprintf("hosts.txt:%d", i+1)}
	}
	return nodes
}

// The names are setup's, so that Renew and Trust work on what
// `wardentool init` wrote too.
func TestFileNamesAreSetups(t *testing.T) {
	for ours, theirs := range map[string]string{CACert: setup.CACert, ServerCert: setup.ServerCert, ServerKey: setup.ServerKey,
		ClientCert: setup.ClientCert, ClientKey: setup.ClientKey, PasswordFile: setup.PasswordFile, WebConfig: setup.WebConfig} {
		if ours != theirs {
			t.Errorf("fleet writes %s where setup writes %s", ours, theirs)
		}
	}
}

func TestInit(t *testing.T) {
	a := newAuthority(t, pki.CAOptions{})
	out := filepath.Join(t.TempDir(), "fleet")
	nodes := testNodes(3)
	res, err := Init(Options{Authority: a, Nodes: nodes, Out: out, Port: 9101, BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	if res.Nodes != 3 || res.Job != DefaultJob {
		t.Errorf("result %+v", res)
	}
	prom := func(name string) string { return filepath.Join(out, PrometheusDir, name) }
	node := func(n Node, name string) string { return filepath.Join(out, NodesDir, n.Name, name) }

	modes := map[string]os.FileMode{
		prom(""): 0o700, prom(ClientCert): 0o644, prom(ClientKey): 0o600, prom(CACert): 0o644, prom(PasswordFile): 0o600,
		prom(Targets): 0o644, prom(PrometheusJob): 0o644,
	}
	for _, n := range nodes {
		for name, mode := range map[string]os.FileMode{"": 0o700, ServerCert: 0o644, ServerKey: 0o600, CACert: 0o644, WebConfig: 0o600} {
			modes[node(n, name)] = mode
		}
	}
	for path, want := range modes {
		fi, err := os.Stat(path)
		if err != nil {
			t.Error(err)
			continue
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %#o, want %#o", path, got, want)
		}
	}

	password := strings.TrimSpace(string(mustRead(t, prom(PasswordFile))))
	client := mustCert(t, prom(ClientCert))
	if len(client.DNSNames)+len(client.IPAddresses) != 0 || client.Subject.CommonName != ClientName {
		t.Errorf("client certificate: CN %q, SANs %v %v; want CN %s and no SAN", client.Subject.CommonName, client.DNSNames, client.IPAddresses, ClientName)
	}
	for _, n := range nodes {
		// The web config is one the exporter loads, and asks for the password.
		if err := webconf.Validate(node(n, WebConfig)); err != nil {
			t.Fatal(err)
		}
		web, err := webconf.Load(node(n, WebConfig))
		if err != nil {
			t.Fatal(err)
		}
		if err := bcrypt.CompareHashAndPassword([]byte(web.Users[Username]), []byte(password)); err != nil {
			t.Errorf("%s: the password file does not match the web config's hash: %v", n.Name, err)
		}
		if web.TLSConfig.ClientAuth != "RequireAndVerifyClientCert" {
			t.Errorf("%s: client_auth_type %q", n.Name, web.TLSConfig.ClientAuth)
		}
		// Prometheus verifies the node at its target address; the node
		// verifies Prometheus's client certificate.
		server := mustCert(t, node(n, ServerCert))
		if !slices.Equal(server.DNSNames, []string{n.Name}) || len(server.IPAddresses) != 1 || server.IPAddresses[0].String() != n.Host {
			t.Errorf("%s: SANs %v %v, want its name and address", n.Name, server.DNSNames, server.IPAddresses)
		}
		verify(t, server, prom(CACert), n.Host, x509.ExtKeyUsageServerAuth)
		verify(t, client, node(n, CACert), "", x509.ExtKeyUsageClientAuth)
	}

	var groups []targetGroup
	if err := json.Unmarshal(mustRead(t, prom(Targets)), &groups); err != nil {
		t.Fatal(err)
	}
	if len(groups) != 3 || groups[1].Targets[0] != nodes[1].Host+":9101" || groups[1].Labels[NodeLabel] != nodes[1].Name {
		t.Errorf("targets.json: %+v", groups)
	}

	var job struct {
		ScrapeConfigs []struct {
			JobName       string                  `yaml:"job_name"`
			Scheme        string                  `yaml:"scheme"`
			HTTP          config.HTTPClientConfig `yaml:",inline"`
			FileSDConfigs []struct {
				Files []string `yaml:"files"`
			} `yaml:"file_sd_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.UnmarshalStrict(mustRead(t, prom(PrometheusJob)), &job); err != nil {
		t.Fatal(err)
	}
	sc := job.ScrapeConfigs[0]
	if sc.JobName != DefaultJob || sc.Scheme != "https" || sc.HTTP.TLSConfig.CAFile != prom(CACert) || sc.HTTP.TLSConfig.KeyFile != prom(ClientKey) ||
		sc.HTTP.BasicAuth.PasswordFile != prom(PasswordFile) || sc.FileSDConfigs[0].Files[0] != prom(Targets) {
		t.Errorf("scrape job: %+v", sc)
	}
	if bytes := mustRead(t, prom(PrometheusJob)); strings.Contains(string(bytes), password) {
		t.Error("the scrape job holds the password")
	}

	// Serial numbers come from the CA's counter, one each.
	if next, err := a.Reserve(1); err != nil || next.Int64() != 5 {
		t.Errorf("next serial %v, %v; want 5 after 4 certificates", next, err)
	}
	if _, err := Init(Options{Authority: a, Nodes: nodes, Out: out}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("second init into the same directory: %v", err)
	}
}

// An empty --out of another user's is refused: it is theirs to fill.
func TestInitRefusesAnotherUsersEmptyDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a directory to another user")
	}
	a := newAuthority(t, pki.CAOptions{})
	out := t.TempDir()
	if err := os.Chown(out, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	_, err := Init(Options{Authority: a, Nodes: testNodes(1), Out: out, BcryptCost: bcrypt.MinCost})
	if err == nil || !strings.Contains(err.Error(), "belongs to uid 65534") {
		t.Fatalf("err %v, want a refusal naming the owner", err)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("wrote %d entries into a refused directory", len(entries))
	}
}

func TestInitRefusesNamesOutsideTheConstraints(t *testing.T) {
	a := newAuthority(t, pki.CAOptions{PermittedDNSDomains: []string{"example.com"}})
	nodes := testNodes(2)
	nodes[1].Hosts = append(nodes[1].Hosts, "node2.example.org")
	out := filepath.Join(t.TempDir(), "fleet")
	_, err := Init(Options{Authority: a, Nodes: nodes, Out: out})
	var ce *pki.ConstraintError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "inventory hosts.txt:2") {
		t.Fatalf("error %v, want a constraint error naming line 2", err)
	}
	// 10.0.0.x: no IP is permitted either, on both lines.
	if !strings.Contains(err.Error(), "inventory hosts.txt:1") {
		t.Errorf("the address of line 1 is outside the constraints too: %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("wrote %s before refusing: %v", out, err)
	}
}

func verify(t *testing.T, cert *x509.Certificate, caFile, host string, usage x509.ExtKeyUsage) {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(mustRead(t, caFile)) {
		t.Fatalf("%s holds no certificate", caFile)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: host, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		t.Errorf("%s against %s: %v", cert.Subject.CommonName, caFile, err)
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustCert(t testing.TB, path string) *x509.Certificate {
	t.Helper()
	c, err := pki.ReadCertificate(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// BenchmarkInit1000 issues bundles for 1,000 nodes (key, certificate, CA
// bundle and web config each) and Prometheus's files. The goal is
// under 30 seconds; `go test -bench Init1000 -benchtime 1x` reports it.
func BenchmarkInit1000(b *testing.B) {
	a := newAuthority(b, pki.CAOptions{})
	nodes := testNodes(1000)
	for i := 0; b.Loop(); i++ {
		out := filepath.Join(b.TempDir(), fmt.Sprint(i))
		if _, err := Init(Options{Authority: a, Nodes: nodes, Out: out}); err != nil {
			b.Fatal(err)
		}
	}
}
