package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v2"
	"golang.org/x/crypto/bcrypt"

	"github.com/warden-exporter/warden/internal/setup"
	"github.com/warden-exporter/warden/internal/testenv"
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
		"client.key": 0o600, "password": 0o600, "netrc": 0o600, "web-config.yml": 0o640, "prometheus-scrape.yml": 0o644,
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
	checkNoPasswordInCommands(t, stdout)
	// Lifetimes and where to look before they end.
	for _, want := range []string{
		"server valid until " + time.Now().Add(setup.LeafValidity).UTC().Format(time.DateOnly),
		"CA until " + time.Now().Add(setup.CAValidity).UTC().Format(time.DateOnly),
		"wardentool cert renew", "warden_tls_certificate_expiry_timestamp_seconds",
		"--web.listen-address=:9100", // a DNS name as target: every address
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("init's output lacks %q:\n%s", want, stdout)
		}
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

// The commands init prints work as printed, pasted into a shell in the
// directory where init ran: the exporter listens where the scrape job
// scrapes, and curl gets the metrics with the password from a file.
func TestInitPrintedCommandsWork(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binaries")
	}
	curl := testenv.Need(t, "curl")
	work := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(work, "bin")+string(filepath.Separator),
		"github.com/warden-exporter/warden/cmd/wardentool", "github.com/warden-exporter/warden/cmd/warden_node_exporter")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// inWork runs a printed command line in a shell in work.
	inWork := func(line string) []string { return []string{"-c", "cd " + work + " && exec " + line} }

	addr := testenv.FreeAddr(t)
	code, stdout, stderr := testenv.Run(t, "", "sh", inWork("bin/wardentool init --dir conf --host localhost --host 127.0.0.1 --target "+addr)...)
	if code != 0 {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	checkNoPasswordInCommands(t, stdout)
	lines := strings.Split(stdout, "\n")
	printed := func(after string) string {
		i := slices.Index(lines, after)
		if i < 0 || i+1 >= len(lines) {
			t.Fatalf("no line after %q in:\n%s", after, stdout)
		}
		return strings.TrimSpace(lines[i+1])
	}
	start, scrape := printed("Start the exporter:"), printed("Scrape it:")
	if want := "./bin/warden_node_exporter --web.config.file=" + filepath.Join(work, "conf", "web-config.yml") + " --web.listen-address=" + addr; start != want {
		t.Errorf("start command %q, want %q", start, want)
	}
	p := testenv.Start(t, "sh", inWork(start)...)
	testenv.WaitListening(t, addr, p)

	if !strings.HasPrefix(scrape, "curl ") {
		t.Fatalf("scrape command %q", scrape)
	}
	code, metrics, stderr := testenv.Run(t, "", "sh", inWork(curl+" --fail --silent --show-error --max-time 30"+strings.TrimPrefix(scrape, "curl"))...)
	if code != 0 || !strings.Contains(metrics, "\nnode_cpu_seconds_total{") {
		t.Fatalf("the printed curl command: exit %d, %s\n%.300s", code, stderr, metrics)
	}
	// The netrc file is what carries the password.
	withoutNetrc := regexp.MustCompile(` --netrc-file \S+`).ReplaceAllString(scrape, "")
	code, _, stderr = testenv.Run(t, "", "sh", inWork(curl+" --fail --silent --show-error --max-time 30"+strings.TrimPrefix(withoutNetrc, "curl"))...)
	if code == 0 || !strings.Contains(stderr, "401") {
		t.Errorf("without --netrc-file: exit %d, %s", code, stderr)
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
	if !strings.Contains(stderr, "warning: --cost 5 is below 10") {
		t.Errorf("no warning for a cost below 10: %q", stderr)
	}
	if _, _, stderr := runTool(t, "pw\n", "hash-password", "--cost", "10"); stderr != "" {
		t.Errorf("warned about the default cost: %q", stderr)
	}

	for _, tt := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"empty", "\n", nil, "empty password"},
		{"too long", strings.Repeat("x", 73), nil, "at most 72"},
		{"cost below bcrypt's minimum", "pw\n", []string{"--cost", "3"}, "below bcrypt's minimum 4"},
		{"cost that takes hours", "pw\n", []string{"--cost", "31"}, "--cost 31 is above 14: each step doubles the time of every login check"},
		{"cost beyond bcrypt", "pw\n", []string{"--cost", "40"}, "--cost 40 is above 14"},
		{"cost just too high", "pw\n", []string{"--cost", "15"}, "--cost 15 is above 14"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// A refusal is immediate; a cost of 31 that is not refused
			// would hash for hours (the goroutine is left to the end of
			// the test binary).
			type result struct {
				code           int
				stdout, stderr string
			}
			done := make(chan result, 1)
			go func() {
				code, stdout, stderr := runTool(t, tt.stdin, append([]string{"hash-password"}, tt.args...)...)
				done <- result{code, stdout, stderr}
			}()
			select {
			case r := <-done:
				if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, tt.want) {
					t.Errorf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("hash-password %v still running after 5s: not refused", tt.args)
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

	// Exit codes and lines for an empty file, a missing one, and basic
	// auth without TLS (valid, but the password crosses the network in
	// clear: a warning, a problem with --strict).
	empty := filepath.Join(dir, "empty.yml")
	missing := filepath.Join(dir, "missing.yml")
	cleartext := filepath.Join(dir, "cleartext.yml")
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.DefaultCost)
	if err != nil {
		t.Fatal(err)
	}
	for file, content := range map[string]string{empty: "# nothing\n", cleartext: "basic_auth_users:\n  alice: " + string(hash) + "\n"} {
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name       string
		args       []string
		code       int
		okFiles    []string
		errorLines []string
	}{
		{"empty", []string{empty}, 1, nil, []string{"web config " + empty + ": empty file"}},
		{"missing", []string{missing, good}, 1, []string{good}, []string{"web config " + missing + ": open " + missing + ": no such file or directory"}},
		{"two missing", []string{missing, missing + "2"}, 1, nil, []string{missing + ": no such file", missing + "2: no such file"}},
		{"basic auth without TLS", []string{cleartext}, 0, []string{cleartext}, []string{"web config " + cleartext + ": warning: basic_auth_users without tls_server_config: passwords cross the network in clear"}},
		{"basic auth without TLS, strict", []string{"--strict", cleartext}, 1, nil, []string{"web config " + cleartext + ": warning: basic_auth_users without tls_server_config"}},
		{"good, strict", []string{"--strict", good}, 0, []string{good}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runTool(t, "", append([]string{"check", "web-config"}, tt.args...)...)
			var lines []string
			if s := strings.TrimSpace(stderr); s != "" {
				lines = strings.Split(s, "\n")
			}
			if code != tt.code || len(lines) != len(tt.errorLines) {
				t.Fatalf("exit %d with %d lines on stderr, want %d with %d:\n%s", code, len(lines), tt.code, len(tt.errorLines), stderr)
			}
			for i, want := range tt.errorLines {
				if !strings.Contains(lines[i], want) {
					t.Errorf("line %d: %q, want %q", i+1, lines[i], want)
				}
			}
			var want string
			for _, f := range tt.okFiles {
				want += f + ": OK\n"
			}
			if stdout != want {
				t.Errorf("stdout %q, want %q", stdout, want)
			}
		})
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
	// A symbolic link put in its place is not followed, and nothing is
	// left beside it (the token goes to a temporary file first). Both held
	// when the file was created exclusively too: this guards the linking
	// against a regression.
	target := filepath.Join(t.TempDir(), "elsewhere")
	link := filepath.Join(filepath.Dir(file), "linked")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runTool(t, "", "token", "new", "ci", "--token-file", link); code != 1 || !strings.Contains(stderr, "file exists") {
		t.Errorf("--token-file through a symbolic link: exit %d %s", code, stderr)
	}
	if _, err := os.Stat(target); err == nil {
		t.Error("the token was written through a symbolic link")
	}
	if entries, _ := os.ReadDir(filepath.Dir(file)); len(entries) != 2 {
		t.Errorf("token directory holds %d entries, want the token file and the link", len(entries))
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

// checkNoPasswordInCommands fails when a command in out would show a
// password to ps or the shell's history: a command substitution of a file,
// or curl's -u/--user.
func checkNoPasswordInCommands(t *testing.T, out string) {
	t.Helper()
	if m := regexp.MustCompile(`\$\(cat |-u |--user |\buser *=`).FindString(out); m != "" {
		t.Errorf("a printed command passes the password on its command line (%q):\n%s", m, out)
	}
	if !strings.Contains(out, "--netrc-file ") {
		t.Errorf("the printed curl command does not read the password from a file:\n%s", out)
	}
}

// For scripts, 2 means "not delivered": a usage error of alert or silence
// is invalid input, exit 1.
func TestSilenceUsageErrorExitsOne(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"silence", "query", "--no-such-flag"}, strings.NewReader(""), &stdout, &stderr); code != 1 {
		t.Errorf("exit %d, want 1\n%s", code, stderr.String())
	}
}
