// Package prometheus_test checks the example Prometheus configuration and
// rules with Debian's promtool, as an operator would before deploying them.
package prometheus_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/common/config"
	"go.yaml.in/yaml/v2"
)

const promtool = "/usr/bin/promtool"

// run runs promtool in dir and fails the test unless it succeeds.
func run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	if _, err := os.Stat(promtool); err != nil {
		t.Fatalf("%s is missing: install Debian's prometheus package (`make test` does): %v", promtool, err)
	}
	cmd := exec.Command(promtool, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestCheckConfig runs `promtool check config`, which also checks the rule
// files and that every certificate, key, password and token file named
// exists: the files are made in a temporary directory standing for /etc.
func TestCheckConfig(t *testing.T) {
	content, err := os.ReadFile("prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	etc := filepath.Join(root, "etc", "prometheus")
	for _, f := range []string{"warden/ca.crt", "warden/client.crt", "warden/client.key", "warden/password", "warden/token",
		"alertmanager/ca.crt", "alertmanager/client.crt", "alertmanager/client.key", "alertmanager/password"} {
		path := filepath.Join(etc, f)
		if !strings.Contains(string(content), "/etc/prometheus/"+f) {
			t.Errorf("prometheus.yml does not use %s", path)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("placeholder\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rewritten := strings.ReplaceAll(string(content), "/etc/prometheus/", etc+"/")
	if err := os.WriteFile(filepath.Join(etc, "prometheus.yml"), []byte(rewritten), 0o600); err != nil {
		t.Fatal(err)
	}
	rules, err := os.ReadFile("warden-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(etc, "warden-rules.yml"), rules, 0o600); err != nil {
		t.Fatal(err)
	}
	out := run(t, etc, "check", "config", "--lint=all", "prometheus.yml")
	if !strings.Contains(out, "SUCCESS: 5 rules found") {
		t.Errorf("promtool did not check the rules:\n%s", out)
	}
}

// TestSecuredAsDocumented decodes the configuration with prometheus/common's
// HTTP client config, as Prometheus does, and checks that every job and
// the Alertmanagers are secured as the README says, with secrets in files.
func TestSecuredAsDocumented(t *testing.T) {
	content, err := os.ReadFile("prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		ScrapeConfigs []struct {
			JobName string                  `yaml:"job_name"`
			Scheme  string                  `yaml:"scheme"`
			HTTP    config.HTTPClientConfig `yaml:",inline"`
		} `yaml:"scrape_configs"`
		Alerting struct {
			Alertmanagers []struct {
				Scheme string                  `yaml:"scheme"`
				HTTP   config.HTTPClientConfig `yaml:",inline"`
			} `yaml:"alertmanagers"`
		} `yaml:"alerting"`
	}
	if err := yaml.Unmarshal(content, &cfg); err != nil {
		t.Fatal(err)
	}
	jobs := map[string]config.HTTPClientConfig{}
	for _, sc := range cfg.ScrapeConfigs {
		if sc.Scheme != "https" {
			t.Errorf("job %s: scheme %q, want https", sc.JobName, sc.Scheme)
		}
		jobs[sc.JobName] = sc.HTTP
	}
	mtls := func(what string, tc config.TLSConfig) {
		if tc.CAFile == "" || tc.CertFile == "" || tc.KeyFile == "" {
			t.Errorf("%s: tls_config needs ca_file, cert_file and key_file: %+v", what, tc)
		}
	}
	basic := func(what string, ba *config.BasicAuth) {
		if ba == nil || ba.Username == "" || ba.PasswordFile == "" || ba.Password != "" {
			t.Errorf("%s: want basic_auth with a password_file and no inline password: %+v", what, ba)
		}
	}
	node, ok := jobs["warden_node"]
	if !ok {
		t.Fatalf("no job warden_node in %v", jobs)
	}
	mtls("warden_node", node.TLSConfig)
	basic("warden_node", node.BasicAuth)

	token, ok := jobs["warden_node_token"]
	if !ok {
		t.Fatalf("no job warden_node_token in %v", jobs)
	}
	mtls("warden_node_token", token.TLSConfig)
	if a := token.Authorization; a == nil || a.Type != "Bearer" || a.CredentialsFile == "" || a.Credentials != "" || token.BasicAuth != nil {
		t.Errorf("warden_node_token: want authorization Bearer with a credentials_file only: %+v", a)
	}

	if len(cfg.Alerting.Alertmanagers) != 1 {
		t.Fatalf("%d alertmanagers entries, want 1", len(cfg.Alerting.Alertmanagers))
	}
	am := cfg.Alerting.Alertmanagers[0]
	if am.Scheme != "https" {
		t.Errorf("alertmanagers: scheme %q, want https", am.Scheme)
	}
	mtls("alertmanagers", am.HTTP.TLSConfig)
	basic("alertmanagers", am.HTTP.BasicAuth)
}

func TestCheckRules(t *testing.T) {
	out := run(t, ".", "check", "rules", "--lint=all", "warden-rules.yml")
	if !strings.Contains(out, "SUCCESS: 5 rules found") {
		t.Errorf("promtool check rules:\n%s", out)
	}
	// Each alert fires when, and only when, it should.
	run(t, ".", "test", "rules", "warden-rules.test.yml")
}
