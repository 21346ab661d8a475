//go:build e2e

package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warden-exporter/warden/internal/testenv"
	"github.com/warden-exporter/warden/webconf/webconftest"
)

// secureNode is warden_node_exporter running with the configuration that
// `wardentool init` wrote.
type secureNode struct {
	addr string
	conf string
	proc *testenv.Process
}

func startSecureNode(t *testing.T, extraArgs ...string) *secureNode {
	t.Helper()
	addr := testenv.FreeAddr(t)
	conf := filepath.Join(t.TempDir(), "conf")
	code, stdout, stderr := testenv.Run(t, "", bins.Path("wardentool"), "init", "--dir", conf,
		"--host", "localhost", "--host", "127.0.0.1", "--target", addr)
	if code != 0 {
		t.Fatalf("wardentool init: exit %d\n%s%s", code, stdout, stderr)
	}
	args := append([]string{
		"--web.config.file=" + filepath.Join(conf, "web-config.yml"),
		"--web.listen-address=" + addr,
	}, extraArgs...)
	p := testenv.Start(t, bins.Path("warden_node_exporter"), args...)
	testenv.WaitListening(t, addr, p)
	return &secureNode{addr: addr, conf: conf, proc: p}
}

func (n *secureNode) path(name string) string { return filepath.Join(n.conf, name) }

func (n *secureNode) password(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(n.path("password"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// client returns an HTTPS client trusting the node's CA and presenting the
// given certificate files (none when certFile is empty).
func (n *secureNode) client(t *testing.T, certs ...tls.Certificate) *http.Client {
	t.Helper()
	caPEM, err := os.ReadFile(n.path("ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.crt holds no certificate")
	}
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: pool, Certificates: certs, ServerName: "localhost"},
			DisableKeepAlives: true,
		},
	}
}

func (n *secureNode) clientCert(t *testing.T) tls.Certificate {
	t.Helper()
	c, err := tls.LoadX509KeyPair(n.path("client.crt"), n.path("client.key"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// scrape fetches /metrics with full credentials.
func (n *secureNode) scrape(t *testing.T, query string) string {
	t.Helper()
	status, body, err := fetch(n.client(t, n.clientCert(t)), "https://"+n.addr+"/metrics"+query, "prometheus", n.password(t))
	if err != nil || status != http.StatusOK {
		t.Fatalf("scrape: status %d, err %v, body %.300s", status, err, body)
	}
	return body
}

// fetch is webconftest.Get.
var fetch = webconftest.Get

// TestPrometheusScrapesOverMTLS is the foundation's promise: Debian's real
// Prometheus, given the scrape job `wardentool init` wrote, scrapes
// warden_node_exporter over TLS with a client certificate and basic auth.
func TestPrometheusScrapesOverMTLS(t *testing.T) {
	prometheus := testenv.Need(t, "prometheus")
	node := startSecureNode(t)

	job, err := os.ReadFile(node.path("prometheus-scrape.yml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	// The generated job, as is, under a short scrape interval for the test.
	content := "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n" + string(job)
	if err := os.WriteFile(cfg, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	promAddr := testenv.FreeAddr(t)
	p := testenv.Start(t, prometheus, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+promAddr)
	testenv.WaitListening(t, promAddr, p)

	testenv.Eventually(t, 90*time.Second, "up == 1 for the warden_node job", func() error {
		s, err := testenv.PromQuery(t.Context(), promAddr, `up{job="warden_node"}`)
		if err != nil {
			return err
		}
		if len(s) != 1 || s[0].Value != 1 {
			return fmt.Errorf("up = %+v", s)
		}
		return nil
	})
	testenv.Eventually(t, 30*time.Second, "node metrics in Prometheus", func() error {
		s, err := testenv.PromQuery(t.Context(), promAddr, `node_scrape_collector_success{job="warden_node"}`)
		if err != nil {
			return err
		}
		if len(s) < 5 {
			return fmt.Errorf("only %d collectors reported: %+v", len(s), s)
		}
		for _, x := range s {
			if x.Value != 1 {
				return fmt.Errorf("collector %s failed", x.Metric["collector"])
			}
		}
		load, err := testenv.PromQuery(t.Context(), promAddr, `node_load1{job="warden_node"}`)
		if err != nil || len(load) != 1 {
			return fmt.Errorf("node_load1: %+v, %w", load, err)
		}
		return nil
	})
}

// TestRefusals drives every way in that must be refused against the real
// daemon, and checks that nothing of /metrics comes back.
func TestRefusals(t *testing.T) {
	node := startSecureNode(t)
	url := "https://" + node.addr + "/metrics"
	password := node.password(t)

	foreign := webconftest.NewPKI(t, t.TempDir()).Client // from another CA

	tests := []struct {
		name       string
		client     *http.Client
		url        string
		user, pass string
		wantStatus int // 0: the connection must fail in the TLS handshake
	}{
		{"no client certificate", node.client(t), url, "prometheus", password, 0},
		{"client certificate from another CA", node.client(t, *foreign), url, "prometheus", password, 0},
		{"wrong password", node.client(t, node.clientCert(t)), url, "prometheus", password + "x", http.StatusUnauthorized},
		{"unknown user", node.client(t, node.clientCert(t)), url, "admin", password, http.StatusUnauthorized},
		{"no credentials", node.client(t, node.clientCert(t)), url, "", "", http.StatusUnauthorized},
		{"plain HTTP to the TLS port", http.DefaultClient, "http://" + node.addr + "/metrics", "prometheus", password, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, err := fetch(tt.client, tt.url, tt.user, tt.pass)
			if strings.Contains(body, "node_") {
				t.Errorf("refused request leaked metrics: %.200s", body)
			}
			if tt.wantStatus == 0 {
				if err == nil {
					t.Fatalf("TLS handshake succeeded, status %d", status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if status != tt.wantStatus {
				t.Errorf("status %d, want %d", status, tt.wantStatus)
			}
		})
	}
	// And the right credentials work, so the refusals above mean something.
	if body := node.scrape(t, ""); !strings.Contains(body, "node_load1 ") {
		t.Errorf("scrape with full credentials lacks node_load1")
	}
}

// TestPromtoolCheckMetrics runs Prometheus's own linter over a full scrape
// of Warden and of node_exporter v1.12.1 with default collectors. Warden
// keeps node_exporter's names, so the linter's complaints about those
// (node_memory_MemTotal_bytes is camelCase, node_entropy_available_bits
// is not in bytes) are accepted when node_exporter draws the same one, and
// camelCase ones always (kernel field names such as node_netstat_Tcp_InSegs
// appear only where the kernel has them). Any other problem fails.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := testenv.Need(t, "promtool")
	node := startSecureNode(t)
	refAddr := testenv.FreeAddr(t)
	ref := testenv.Start(t, testenv.NodeExporter(t), "--web.listen-address="+refAddr)
	testenv.WaitListening(t, refAddr, ref)

	lint := func(exposition string) (int, []string) {
		code, stdout, stderr := testenv.Run(t, exposition, promtool, "check", "metrics")
		var problems []string
		for _, line := range strings.Split(strings.TrimSpace(stdout+stderr), "\n") {
			if line != "" && !strings.HasSuffix(line, "metric names should be written in 'snake_case' not 'camelCase'") {
				problems = append(problems, line)
			}
		}
		return code, problems
	}
	_, theirs := lint(scrapePlain(t, refAddr))
	code, ours := lint(node.scrape(t, ""))
	var extra []string
	for _, p := range ours {
		if !slices.Contains(theirs, p) {
			extra = append(extra, p)
		}
	}
	if len(extra) > 0 || (code != 0 && code != 3) {
		t.Errorf("promtool check metrics: exit %d; problems node_exporter does not have:\n%s", code, strings.Join(extra, "\n"))
	}
}

func scrapePlain(t *testing.T, addr string) string {
	t.Helper()
	status, body, err := fetch(http.DefaultClient, "http://"+addr+"/metrics", "", "")
	if err != nil || status != http.StatusOK {
		t.Fatalf("scrape %s: %d %v", addr, status, err)
	}
	return body
}

// TestCollectFilter checks collect[] and exclude[] on the real daemon.
func TestCollectFilter(t *testing.T) {
	node := startSecureNode(t)
	body := node.scrape(t, "?collect[]=loadavg")
	if !strings.Contains(body, `node_scrape_collector_success{collector="loadavg"} 1`) {
		t.Errorf("collect[]=loadavg did not run loadavg")
	}
	if strings.Count(body, "node_scrape_collector_success{") != 1 {
		t.Errorf("collect[]=loadavg ran other collectors too")
	}
	body = node.scrape(t, "?exclude[]=loadavg")
	if strings.Contains(body, "node_load1") || !strings.Contains(body, "node_scrape_collector_success{") {
		t.Errorf("exclude[]=loadavg: loadavg present or nothing else ran")
	}
	status, body, err := fetch(node.client(t, node.clientCert(t)), "https://"+node.addr+"/metrics?collect[]=nosuch", "prometheus", node.password(t))
	if err != nil || status != http.StatusBadRequest || !strings.Contains(body, "nosuch") {
		t.Errorf("unknown collector: status %d body %q err %v", status, body, err)
	}
}

// TestStartRefusesBadConfig: the daemon exits non-zero before listening,
// naming the file and the problem.
func TestStartRefusesBadConfig(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "conf")
	if code, _, stderr := testenv.Run(t, "", bins.Path("wardentool"), "init", "--dir", conf); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	// The client's key does not belong to the server's certificate.
	key, err := os.ReadFile(filepath.Join(conf, "client.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(conf, "server.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	addr := testenv.FreeAddr(t)
	p := testenv.Start(t, bins.Path("warden_node_exporter"), "--web.config.file="+filepath.Join(conf, "web-config.yml"), "--web.listen-address="+addr)
	if code := p.Exited(20 * time.Second); code <= 0 {
		t.Fatalf("exit code %d, want non-zero", code)
	}
	out := p.Log()
	for _, want := range []string{"web-config.yml", "server.crt", "server.key", "private key does not match public key"} {
		if !strings.Contains(out, want) {
			t.Errorf("error output lacks %q:\n%s", want, out)
		}
	}
	code, _, stderr := testenv.Run(t, "", bins.Path("wardentool"), "check", "web-config", filepath.Join(conf, "web-config.yml"))
	if code != 1 || !strings.Contains(stderr, "do not form a valid pair") {
		t.Errorf("wardentool check: exit %d, %s", code, stderr)
	}
}
