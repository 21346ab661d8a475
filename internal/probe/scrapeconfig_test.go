package probe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestJobs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("sd/a.json", `[{"targets": ["10.0.0.1:9100"], "labels": {"node": "n1"}}]`)
	write("sd/b.yml", "- targets: ['10.0.0.2:9100']\n  labels: {node: n2}\n")
	write("password", "pw\n")
	write("prometheus.yml", `global:
  scrape_interval: 15s
  scrape_timeout: 7s
rule_files: [rules.yml]
scrape_configs:
  - job_name: fleet
    scheme: https
    metrics_path: /m
    tls_config: {ca_file: ca.crt}
    basic_auth: {username: prometheus, password_file: password}
    static_configs:
      - targets: ['10.0.0.3:9100']
    file_sd_configs:
      - files: ['sd/*.json', 'sd/*.yml']
    relabel_configs:
      - source_labels: [__address__]
        target_label: instance
  - job_name: other
    scrape_timeout: 3s
    bearer_token_file: password
    static_configs:
      - targets: ['10.0.0.9:80']
`)
	targets, notes, err := Jobs(filepath.Join(dir, "prometheus.yml"), "fleet")
	if err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for _, tg := range targets {
		addrs = append(addrs, tg.Address+" "+tg.Labels["node"])
	}
	if got := strings.Join(addrs, ","); got != "10.0.0.3:9100 ,10.0.0.1:9100 n1,10.0.0.2:9100 n2" {
		t.Errorf("targets %s", got)
	}
	tg := targets[1]
	if tg.Job != "fleet" || tg.Scheme != "https" || tg.MetricsPath != "/m" || tg.Timeout != 7*time.Second ||
		tg.HTTP.TLSConfig.CAFile != filepath.Join(dir, "ca.crt") || tg.HTTP.BasicAuth.PasswordFile != filepath.Join(dir, "password") {
		t.Errorf("target %+v", tg)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "relabel_configs") {
		t.Errorf("notes %v", notes)
	}

	all, _, err := Jobs(filepath.Join(dir, "prometheus.yml"), "")
	if err != nil || len(all) != 4 {
		t.Fatalf("every job: %d targets, %v", len(all), err)
	}
	other := all[3]
	if other.Scheme != "http" || other.Timeout != 3*time.Second || other.HTTP.Authorization == nil || other.HTTP.Authorization.CredentialsFile != filepath.Join(dir, "password") {
		t.Errorf("job other: %+v", other)
	}

	for _, tt := range []struct{ job, content, want string }{
		{"none", "scrape_configs: []\n", `no scrape job "none"`},
		{"", "scrape_configs:\n  - job_name: x\n    file_sd_configs: [{files: [missing/*.json]}]\n", "no such file"},
		{"", "scrape_configs:\n  - job_name: x\n    basic_auth: {username: a}\n    bearer_token: t\n", "at most one of basic_auth"},
	} {
		write("bad.yml", tt.content)
		if _, _, err := Jobs(filepath.Join(dir, "bad.yml"), tt.job); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.content, err, tt.want)
		}
	}
}
