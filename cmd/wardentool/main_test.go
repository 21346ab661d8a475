package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v2"
	"golang.org/x/crypto/bcrypt"

	"github.com/warden-exporter/warden/webconf"
)

func runTool(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, strings.NewReader(stdin), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "conf")
	code, stdout, stderr := runTool(t, "", "init", "--dir", dir, "--host", "node1.example", "--host", "10.0.0.7")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	modes := map[string]os.FileMode{
		"ca.crt": 0o644, "server.crt": 0o644, "server.key": 0o600, "client.crt": 0o644,
		"client.key": 0o600, "password": 0o600, "web-config.yml": 0o640, "prometheus-scrape.yml": 0o644,
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(modes) {
		t.Errorf("wrote %d files, want %d", len(entries), len(modes))
	}
	for name, want := range modes {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Error(err)
			continue
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", name, got, want)
		}
	}
	if err := webconf.Validate(filepath.Join(dir, "web-config.yml")); err != nil {
		t.Errorf("the web config init wrote is not valid: %v", err)
	}

	password, err := os.ReadFile(filepath.Join(dir, "password"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stdout, strings.TrimSpace(string(password))) {
		t.Error("init printed the password")
	}
	cfg, err := webconf.Load(filepath.Join(dir, "web-config.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TLSConfig.ClientAuth != "RequireAndVerifyClientCert" {
		t.Errorf("client_auth_type %q", cfg.TLSConfig.ClientAuth)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(cfg.Users["prometheus"]), bytes.TrimSpace(password)); err != nil {
		t.Errorf("the password file does not match the hash: %v", err)
	}

	var job struct {
		ScrapeConfigs []struct {
			Scheme        string `yaml:"scheme"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
			TLSConfig map[string]string `yaml:"tls_config"`
			BasicAuth map[string]string `yaml:"basic_auth"`
		} `yaml:"scrape_configs"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "prometheus-scrape.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &job); err != nil {
		t.Fatal(err)
	}
	sc := job.ScrapeConfigs[0]
	if sc.Scheme != "https" || sc.StaticConfigs[0].Targets[0] != "node1.example:9100" ||
		sc.TLSConfig["cert_file"] != filepath.Join(dir, "client.crt") || sc.BasicAuth["password_file"] != filepath.Join(dir, "password") {
		t.Errorf("scrape job: %+v", sc)
	}
}

func TestInitRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	keep := filepath.Join(dir, "keep.txt")
	if err := os.WriteFile(keep, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runTool(t, "", "init", "--dir", dir)
	if code != 1 || !strings.Contains(stderr, "not empty") || !strings.Contains(stderr, "--force") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "web-config.yml")); err == nil {
		t.Error("wrote into a non-empty directory without --force")
	}
	if code, _, stderr := runTool(t, "", "init", "--dir", dir, "--force"); code != 0 {
		t.Fatalf("--force: exit %d: %s", code, stderr)
	}
	if b, err := os.ReadFile(keep); err != nil || string(b) != "mine" {
		t.Error("--force removed a file init does not write")
	}
}

func TestHashPassword(t *testing.T) {
	code, stdout, stderr := runTool(t, "correct horse\n", "hash-password", "--cost", "5")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	hash := strings.TrimSpace(stdout)
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("correct horse")); err != nil {
		t.Errorf("hash %q does not match the password: %v", hash, err)
	}
	if cost, _ := bcrypt.Cost([]byte(hash)); cost != 5 {
		t.Errorf("cost %d, want 5", cost)
	}

	for _, tt := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"empty", "\n", nil, "empty password"},
		{"too long", strings.Repeat("x", 73), nil, "at most 72"},
		{"cost out of range", "pw\n", []string{"--cost", "40"}, "--cost 40 is out of range"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runTool(t, tt.stdin, append([]string{"hash-password"}, tt.args...)...)
			if code != 1 || stdout != "" || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d stdout %q stderr %q", code, stdout, stderr)
			}
		})
	}

	// The password is never an argument.
	if code, _, _ := runTool(t, "", "hash-password", "secret"); code != 2 {
		t.Errorf("a password argument was accepted (exit %d)", code)
	}
}

func TestCheckWebConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "conf")
	if code, _, stderr := runTool(t, "", "init", "--dir", dir); code != 0 {
		t.Fatal(stderr)
	}
	good := filepath.Join(dir, "web-config.yml")
	bad := filepath.Join(dir, "bad.yml")
	content := "basic_auth_users:\n  alice: plaintext\n  bob: also-plain\ntls_server_config:\n  cert_file: server.crt\n  key_file: client.key\n"
	if err := os.WriteFile(bad, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runTool(t, "", "check", "web-config", good)
	if code != 0 || !strings.Contains(stdout, good+": OK") {
		t.Errorf("good file: exit %d, %s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runTool(t, "", "check", "web-config", good, bad)
	if code != 1 {
		t.Errorf("bad file: exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 3 {
		t.Errorf("want one line per problem (3), got:\n%s", stderr)
	}
	for _, want := range []string{`user "alice"`, `user "bob"`, "do not form a valid pair"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stdout, good+": OK") {
		t.Errorf("the good file among bad ones was not reported OK: %s", stdout)
	}
}

func TestTokenNew(t *testing.T) {
	code, stdout, stderr := runTool(t, "", "token", "new", "ci-scraper")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var token, line string
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		switch {
		case strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "ci-scraper: "):
			line = l
		default:
			token = l
		}
	}
	if len(token) < 43 || strings.ContainsAny(token, "+/=") {
		t.Errorf("token %q: want at least 256 bits in URL-safe characters", token)
	}
	var entry map[string]string
	if err := yaml.UnmarshalStrict([]byte(line), &entry); err != nil {
		t.Fatalf("paste line %q: %v", line, err)
	}
	if entry["ci-scraper"] != webconf.HashToken(token) {
		t.Errorf("paste line %q does not hold the token's hash", line)
	}

	file := filepath.Join(t.TempDir(), "token")
	code, stdout, _ = runTool(t, "", "token", "new", "ci", "--token-file", file)
	b, err := os.ReadFile(file)
	if code != 0 || err != nil {
		t.Fatalf("--token-file: exit %d, %v", code, err)
	}
	if strings.Contains(stdout, strings.TrimSpace(string(b))) {
		t.Error("--token-file printed the token too")
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %o", fi.Mode().Perm())
	}
	if code, _, stderr := runTool(t, "", "token", "new", "ci", "--token-file", file); code != 1 || !strings.Contains(stderr, "file exists") {
		t.Errorf("overwrote a token file: exit %d %s", code, stderr)
	}
	if code, _, stderr := runTool(t, "", "token", "new", "bad name"); code != 1 || !strings.Contains(stderr, `token name "bad name"`) {
		t.Errorf("bad name: exit %d %s", code, stderr)
	}
}

func TestAlertDryRunAndInvalidInput(t *testing.T) {
	code, stdout, stderr := runTool(t, "", "alert", "send", "--dry-run", "DiskFull", "severity=page", "--annotation=summary=full", "--start=2026-11-23T10:00:00Z")
	if code != 0 {
		t.Fatalf("dry run: exit %d %s", code, stderr)
	}
	var payload []struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		StartsAt    string            `json:"startsAt"`
	}
	if err := json.Unmarshal([]byte(stdout), &payload); err != nil {
		t.Fatalf("dry run printed %q: %v", stdout, err)
	}
	if len(payload) != 1 || payload[0].Labels["alertname"] != "DiskFull" || payload[0].Labels["severity"] != "page" ||
		payload[0].Annotations["summary"] != "full" || !strings.HasPrefix(payload[0].StartsAt, "2026-11-23T10:00:00") {
		t.Errorf("payload %+v", payload)
	}

	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no alertmanager", []string{"alert", "send", "A"}, "no Alertmanager"},
		{"bad label", []string{"alert", "send", "--alertmanager.url=https://127.0.0.1:1", "A", "0x=1"}, `invalid label name "0x"`},
		{"bad time", []string{"alert", "send", "--alertmanager.url=https://127.0.0.1:1", "A", "--start=yesterday"}, "--start \"yesterday\": want RFC3339"},
		{"unknown flag", []string{"alert", "send", "--nosuch"}, "unknown long flag"},
		{"args and file", []string{"alert", "send", "--alertmanager.url=https://127.0.0.1:1", "A", "--file=-"}, "either as arguments or with --file"},
		{"credentials in URL", []string{"alert", "send", "--alertmanager.url=https://u:p@127.0.0.1:1", "A"}, "put credentials in http_config"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runTool(t, "", tt.args...)
			if code != 1 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, want 1 with %q: %s", code, tt.want, stderr)
			}
		})
	}
}

// --help-man and completion scripts print only what was asked for.
func TestGeneratedDocsAreClean(t *testing.T) {
	for _, flag := range []string{"--help-man", "--completion-script-bash", "--completion-script-zsh"} {
		code, stdout, stderr := runTool(t, "", flag)
		if code != 0 || strings.Contains(stdout, "usage: ") || stderr != "" {
			t.Errorf("%s: exit %d, usage in stdout %v, stderr %q", flag, code, strings.Contains(stdout, "usage: "), stderr)
		}
	}
}
