//go:build e2e

package e2e

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warden-exporter/warden/internal/testenv"
)

// tokenNode is warden_node_exporter with `wardentool init`'s certificates,
// client certificates verified when given, basic auth, and an auth file
// with two bearer tokens made by `wardentool token new`.
type tokenNode struct {
	*secureNode
	tokenFiles map[string]string
}

func startTokenNode(t *testing.T, rules string) *tokenNode {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "conf")
	addr := testenv.FreeAddr(t)
	if code, _, stderr := testenv.Run(t, "", bins.Path("wardentool"), "init", "--dir", conf, "--host", "localhost", "--target", addr); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	web, err := os.ReadFile(filepath.Join(conf, "web-config.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// Token clients need not present a certificate.
	web = []byte(strings.Replace(string(web), "RequireAndVerifyClientCert", "VerifyClientCertIfGiven", 1))
	if err := os.WriteFile(filepath.Join(conf, "web-config.yml"), web, 0o640); err != nil {
		t.Fatal(err)
	}
	n := &tokenNode{tokenFiles: map[string]string{}}
	var entries []string
	for _, name := range []string{"prometheus-token", "limited"} {
		file := filepath.Join(dir, name)
		code, stdout, stderr := testenv.Run(t, "", bins.Path("wardentool"), "token", "new", name, "--token-file", file)
		if code != 0 {
			t.Fatalf("token new: %s", stderr)
		}
		for _, l := range strings.Split(stdout, "\n") {
			if strings.HasPrefix(l, name+": ") {
				entries = append(entries, "  "+l)
			}
		}
		n.tokenFiles[name] = file
	}
	auth := "bearer_tokens:\n" + strings.Join(entries, "\n") + "\n" + rules
	authPath := filepath.Join(conf, "auth.yml")
	if err := os.WriteFile(authPath, []byte(auth), 0o640); err != nil {
		t.Fatal(err)
	}
	p := testenv.Start(t, bins.Path("warden_node_exporter"), "--web.config.file="+filepath.Join(conf, "web-config.yml"),
		"--web.auth.file="+authPath, "--web.listen-address="+addr)
	testenv.WaitListening(t, addr, p)
	n.secureNode = &secureNode{addr: addr, conf: conf, proc: p}
	return n
}

func (n *tokenNode) token(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(n.tokenFiles[name])
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func (n *tokenNode) get(t *testing.T, path, bearer string, certs ...tls.Certificate) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "https://"+n.addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := n.client(t, certs...).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

const e2eRules = `public_paths: [/-/healthy]
rules:
  - identities: ["user:prometheus"]
    paths: ["/*"]
  - identities: ["token:prometheus-token"]
    paths: ["/metrics"]
  - identities: ["token:limited"]
    paths: ["/metrics"]
    collectors: [cpu, meminfo]
`

// TestPrometheusScrapesWithBearerToken: Debian's Prometheus scrapes with
// authorization.credentials_file and no client certificate.
func TestPrometheusScrapesWithBearerToken(t *testing.T) {
	prometheus := testenv.Need(t, "prometheus")
	n := startTokenNode(t, e2eRules)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global: {scrape_interval: 1s, scrape_timeout: 1s}
scrape_configs:
  - job_name: token
    scheme: https
    tls_config: {ca_file: %s, server_name: localhost}
    authorization: {credentials_file: %s}
    static_configs: [{targets: ['%s']}]
`, n.path("ca.crt"), n.tokenFiles["prometheus-token"], n.addr)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	promAddr := testenv.FreeAddr(t)
	p := testenv.Start(t, prometheus, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+promAddr)
	testenv.WaitListening(t, promAddr, p)
	testenv.Eventually(t, 90*time.Second, "up == 1 with a bearer token", func() error {
		s, err := testenv.PromQuery(t.Context(), promAddr, `up{job="token"}`)
		if err != nil {
			return err
		}
		if len(s) != 1 || s[0].Value != 1 {
			return fmt.Errorf("up = %+v", s)
		}
		m, err := testenv.PromQuery(t.Context(), promAddr, `warden_http_auth_success_total{job="token",method="bearer"} > 0`)
		if err != nil || len(m) != 1 {
			return fmt.Errorf("bearer successes: %+v %w", m, err)
		}
		return nil
	})
}

// TestSecurityRulesOnDaemon drives the auth file's rules through the real daemon.
func TestSecurityRulesOnDaemon(t *testing.T) {
	n := startTokenNode(t, e2eRules)
	password := n.password(t)

	// Limited token: only cpu and meminfo, whatever collect[] says.
	status, body := n.get(t, "/metrics?collect[]=loadavg&collect[]=cpu", n.token(t, "limited"))
	if status != 200 || !strings.Contains(body, `node_scrape_collector_success{collector="cpu"} 1`) ||
		strings.Contains(body, "node_load1") || strings.Contains(body, `collector="loadavg"`) {
		t.Errorf("limited token with collect[]=loadavg,cpu: status %d, loadavg present or cpu missing", status)
	}
	status, body = n.get(t, "/metrics", n.token(t, "limited"))
	if status != 200 || strings.Count(body, "node_scrape_collector_success{") != 2 {
		t.Errorf("limited token: status %d, %d collectors ran, want 2", status, strings.Count(body, "node_scrape_collector_success{"))
	}
	// Full token: everything on /metrics, nothing elsewhere.
	if status, body := n.get(t, "/metrics", n.token(t, "prometheus-token")); status != 200 || !strings.Contains(body, "node_load1 ") {
		t.Errorf("full token: status %d", status)
	}
	if status, _ := n.get(t, "/", n.token(t, "prometheus-token")); status != 403 {
		t.Errorf("token on /: status %d, want 403", status)
	}
	// Unknown token, no credentials, public health path.
	if status, _ := n.get(t, "/metrics", "nope"+n.token(t, "limited")); status != 401 {
		t.Errorf("unknown token: status %d, want 401", status)
	}
	if status, body := n.get(t, "/metrics", ""); status != 401 || strings.Contains(body, "node_") {
		t.Errorf("no credentials: status %d", status)
	}
	if status, body := n.get(t, "/-/healthy", ""); status != 200 || !strings.Contains(body, "Healthy") {
		t.Errorf("public health path: status %d %q", status, body)
	}
	if status, _ := n.get(t, "/-/ready", ""); status != 401 {
		t.Errorf("/-/ready is not public here: status %d, want 401", status)
	}

	// The refusals are counted on /metrics and audited without secrets.
	scrape := n.scrape(t, "")
	for _, want := range []string{
		`warden_http_requests_refused_total{reason="forbidden_path"} 1`,
		`warden_http_requests_refused_total{reason="token_not_recognised"} 1`,
		`warden_http_requests_refused_total{reason="no_credentials"} 2`,
		`warden_tls_certificate_expiry_timestamp_seconds{file="` + n.path("server.crt") + `"`,
	} {
		if !strings.Contains(scrape, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	log := n.proc.Log()
	for _, want := range []string{`reason="token not recognised"`, `reason="forbidden path"`, `identity=token:prometheus-token`} {
		if !strings.Contains(log, want) {
			t.Errorf("daemon log lacks %s", want)
		}
	}
	for _, secret := range []string{password, n.token(t, "limited"), n.token(t, "prometheus-token")} {
		if strings.Contains(log, secret) {
			t.Error("daemon log holds a credential")
		}
	}
}

// TestInsecureNonLoopbackRefused: without TLS and authentication the daemon
// will not serve a non-loopback address unless told to.
func TestInsecureNonLoopbackRefused(t *testing.T) {
	p := testenv.Start(t, bins.Path("warden_node_exporter"), "--web.listen-address=192.0.2.1:9100")
	if code := p.Exited(20 * time.Second); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(p.Log(), "--web.allow-insecure") {
		t.Errorf("error does not name --web.allow-insecure:\n%s", p.Log())
	}
	addr := testenv.FreeAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	p = testenv.Start(t, bins.Path("warden_node_exporter"), "--web.listen-address=:"+port)
	testenv.WaitListening(t, "127.0.0.1:"+port, p)
	if !strings.Contains(p.Log(), "serving loopback only") {
		t.Errorf("no warning that only loopback is served:\n%s", p.Log())
	}
}

// TestBadAuthFileRefusedAtStart: the daemon exits before listening and
// names the file and the field.
func TestBadAuthFileRefusedAtStart(t *testing.T) {
	auth := filepath.Join(t.TempDir(), "auth.yml")
	if err := os.WriteFile(auth, []byte("bearer_tokens:\n  ci: my-secret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := testenv.Start(t, bins.Path("warden_node_exporter"), "--web.listen-address=127.0.0.1:0", "--web.auth.file="+auth)
	if code := p.Exited(20 * time.Second); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, want := range []string{auth, "bearer_tokens: ci: the value must be sha256"} {
		if !strings.Contains(p.Log(), want) {
			t.Errorf("error lacks %q:\n%s", want, p.Log())
		}
	}
	if strings.Contains(p.Log(), "my-secret-token") {
		t.Error("the error repeats the secret")
	}
}
