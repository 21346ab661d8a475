package webconf_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/exporter-toolkit/web"
	"golang.org/x/crypto/bcrypt"

	"github.com/warden-exporter/warden/internal/testlog"
	"github.com/warden-exporter/warden/webconf"
	"github.com/warden-exporter/warden/webconf/webconftest"
)

// secured is a server with a web config requiring TLS (client certificates
// verified if given) and an auth file, whose handler answers with the
// identity the security layer found.
type secured struct {
	t        *testing.T
	pki      *webconftest.PKI
	addr     string
	srv      *webconf.Server
	log      *testlog.Buffer
	authPath string
	webPath  string
	tokens   map[string]string
}

const (
	adminPass = "admin-secret"
	promPass  = "prom-secret"
)

func newSecured(t *testing.T, authYAML string, extraWeb string) *secured {
	t.Helper()
	dir := t.TempDir()
	p := webconftest.NewPKI(t, dir)
	hash := func(pw string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	webYAML := fmt.Sprintf(`tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: VerifyClientCertIfGiven
  client_ca_file: ca.crt
basic_auth_users:
  admin: %q
  prometheus: %q
%s`, hash(adminPass), hash(promPass), extraWeb)
	webPath := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(webPath, []byte(webYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &secured{t: t, pki: p, log: &testlog.Buffer{}, tokens: map[string]string{}, webPath: webPath}
	for _, name := range []string{"ci-scraper", "other"} {
		tok, h, err := webconf.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		s.tokens[name] = tok
		authYAML = strings.ReplaceAll(authYAML, "HASH("+name+")", h)
	}
	if authYAML != "" {
		s.authPath = filepath.Join(dir, "auth.yml")
		if err := os.WriteFile(s.authPath, []byte(authYAML), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	addrs := []string{"127.0.0.1:0"}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := webconf.IdentityFrom(r.Context())
		fmt.Fprintf(w, "ok %s collectors=%v", strings.Join(id.Names, ","), id.Collectors)
	})
	srv, err := webconf.New(webconf.Options{
		Flags: &webconf.Flags{
			FlagConfig: &web.FlagConfig{WebListenAddresses: &addrs, WebSystemdSocket: new(bool), WebConfigFile: &webPath},
			AuthFile:   &s.authPath,
		},
		Handler:         h,
		Logger:          slog.New(slog.NewJSONHandler(s.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ReloadInterval:  50 * time.Millisecond,
		CollectorLimits: true, // h reports them; the framework enforces them
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s.srv = srv
	s.addr = srv.Addrs()[0].String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return s
}

// do sends a request; auth is "basic USER PASS", "bearer TOKEN" or "".
func (s *secured) do(path, auth string, withCert bool) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, "https://"+s.addr+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	f := strings.Fields(auth)
	switch {
	case len(f) == 3 && f[0] == "basic":
		req.SetBasicAuth(f[1], f[2])
	case len(f) == 2 && f[0] == "bearer":
		req.Header.Set("Authorization", "Bearer "+f[1])
	}
	cert := s.pki.Client
	if !withCert {
		cert = nil
	}
	resp, err := s.pki.HTTPClient(cert).Do(req)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (s *secured) refused(reason string) float64 {
	return counterValue(s.t, s.srv.Metrics(), "warden_http_requests_refused_total", "reason", reason)
}

func counterValue(t *testing.T, c prometheus.Collector, name, label, value string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue() + m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{%s=%q}", name, label, value)
	return 0
}

const rulesYAML = `bearer_tokens:
  ci-scraper: "HASH(ci-scraper)"
  other: "HASH(other)"
public_paths: [/-/healthy]
rules:
  - identities: ["user:admin"]
    paths: ["/*"]
  - identities: ["user:prometheus", "cert:prometheus.test"]
    paths: ["/metrics"]
  - identities: ["token:ci-scraper"]
    paths: ["/metrics"]
    collectors: [cpu, meminfo]
`

func TestAuthorizationRules(t *testing.T) {
	s := newSecured(t, rulesYAML, "")
	tests := []struct {
		name, path, auth string
		cert             bool
		wantStatus       int
		wantBody         string
	}{
		{"admin anywhere", "/debug/pprof/", "basic admin " + adminPass, false, 200, "ok user:admin collectors=[]"},
		{"prometheus on /metrics", "/metrics", "basic prometheus " + promPass, false, 200, "ok user:prometheus collectors=[]"},
		{"prometheus elsewhere", "/debug/pprof/", "basic prometheus " + promPass, false, 403, "Forbidden"},
		{"token limited to two collectors", "/metrics", "bearer " + s.tokens["ci-scraper"], false, 200, "ok token:ci-scraper collectors=[cpu meminfo]"},
		{"token elsewhere", "/", "bearer " + s.tokens["ci-scraper"], false, 403, "Forbidden"},
		{"token no rule names", "/metrics", "bearer " + s.tokens["other"], false, 403, "Forbidden"},
		{"unknown token", "/metrics", "bearer " + s.tokens["ci-scraper"] + "x", false, 401, "Unauthorized"},
		{"certificate alone on /metrics", "/metrics", "", true, 200, "ok cert:prometheus.test"},
		{"certificate alone elsewhere", "/", "", true, 403, "Forbidden"},
		{"nothing", "/metrics", "", false, 401, "Unauthorized"},
		{"public path without credentials", "/-/healthy", "", false, 200, "ok  collectors=[]"},
		{"wrong password with a good certificate", "/metrics", "basic prometheus nope", true, 401, "Unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := s.do(tt.path, tt.auth, tt.cert)
			if status != tt.wantStatus || !strings.HasPrefix(body, tt.wantBody) {
				t.Errorf("status %d body %q, want %d %q", status, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
	if n := s.refused("forbidden_path"); n != 4 {
		t.Errorf("forbidden_path refusals: %v, want 4", n)
	}
	if n := s.refused("token_not_recognised"); n != 1 {
		t.Errorf("token_not_recognised refusals: %v, want 1", n)
	}
	// Only requests let in count as successes: of the three with a known
	// token, two were refused (forbidden path).
	if n := counterValue(t, s.srv.Metrics(), "warden_http_auth_success_total", "method", "bearer"); n != 1 {
		t.Errorf("bearer successes: %v, want 1", n)
	}
	if n := counterValue(t, s.srv.Metrics(), "warden_http_auth_success_total", "method", "cert"); n != 1 {
		t.Errorf("cert successes: %v, want 1 (the wrong password with a good certificate is no success)", n)
	}
}

func TestNoAuthFileKeepsToolkitSemantics(t *testing.T) {
	s := newSecured(t, "", "")
	if status, _ := s.do("/anything", "basic prometheus "+promPass, false); status != 200 {
		t.Errorf("basic auth: %d", status)
	}
	// basic_auth_users means a password is required, certificate or not.
	if status, _ := s.do("/", "", true); status != 401 {
		t.Errorf("certificate without password: %d, want 401", status)
	}
	if status, _ := s.do("/-/healthy", "", false); status != 401 {
		t.Errorf("health path without public_paths: %d, want 401", status)
	}
}

func TestAuditLogNamesReasonNotSecret(t *testing.T) {
	s := newSecured(t, rulesYAML, "")
	s.do("/metrics", "basic prometheus hunter2-guess", false)
	s.do("/metrics", "basic mallory "+promPass, false)
	s.do("/metrics", "bearer not-"+s.tokens["other"], false)
	s.do("/debug/pprof/", "basic prometheus "+promPass, false)
	log := s.log.String()
	for _, want := range []string{`"reason":"wrong password"`, `"reason":"unknown user"`, `"reason":"token not recognised"`, `"reason":"forbidden path"`, `"identity":"user:mallory"`, `"remote_addr":"127.0.0.1:`} {
		if !strings.Contains(log, want) {
			t.Errorf("audit log lacks %s:\n%s", want, log)
		}
	}
	for _, secret := range []string{"hunter2-guess", promPass, s.tokens["other"]} {
		if strings.Contains(log, secret) {
			t.Errorf("audit log contains a credential %q", secret)
		}
	}
}

func TestTLSRefusalsAreAudited(t *testing.T) {
	path, _ := fixtureDir(t, "mtls-basic.good.yml")
	logs := &testlog.Buffer{}
	addrs := []string{"127.0.0.1:0"}
	srv, err := webconf.New(webconf.Options{
		Flags:   &webconf.Flags{FlagConfig: &web.FlagConfig{WebListenAddresses: &addrs, WebSystemdSocket: new(bool), WebConfigFile: &path}},
		Handler: http.NotFoundHandler(),
		Logger:  slog.New(slog.NewJSONHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() { cancel(); <-done }()

	other := webconftest.NewPKI(t, t.TempDir())
	client := other.HTTPClient(other.Client)
	client.Transport.(*http.Transport).TLSClientConfig.InsecureSkipVerify = true
	if _, err := client.Get("https://" + srv.Addrs()[0].String() + "/"); err == nil {
		t.Fatal("a client certificate from another CA was accepted")
	}
	want := "client certificate signed by unknown authority"
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), want) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), want) {
		t.Errorf("no audit line %q:\n%s", want, logs.String())
	}
	if n := counterValue(t, srv.Metrics(), "warden_http_requests_refused_total", "reason", "tls_unknown_authority"); n != 1 {
		t.Errorf("tls_unknown_authority refusals: %v", n)
	}
}

// Guesses beyond the limits get 429 without a bcrypt computation, while a
// client whose credentials were verified before is never limited.
func TestFailedLoginsAreBounded(t *testing.T) {
	s := newSecured(t, rulesYAML+"failed_auth: {per_source_per_minute: 3, global_per_second: 100}\n", "")
	if status, _ := s.do("/metrics", "basic prometheus "+promPass, false); status != 200 {
		t.Fatalf("first good login: %d", status)
	}
	statuses := map[int]int{}
	for i := range 6 {
		status, _ := s.do("/metrics", fmt.Sprintf("basic prometheus guess%d", i), false)
		statuses[status]++
	}
	// The good login used one of the three attempts.
	if statuses[401] != 2 || statuses[429] != 4 {
		t.Errorf("statuses of 6 guesses: %v, want 2×401 then 4×429", statuses)
	}
	if status, _ := s.do("/metrics", "basic prometheus "+promPass, false); status != 200 {
		t.Errorf("verified credentials were limited: %d", status)
	}
	if n := s.refused("rate_limited"); n != 4 {
		t.Errorf("rate_limited refusals: %v", n)
	}
}

// A reload keeps the credentials verified before it (and the limiters,
// when the limits did not change): Prometheus is not sent back to a
// bcrypt check, and a budget an attacker used up stays used up.
func TestReloadKeepsVerifiedCredentials(t *testing.T) {
	limits := "failed_auth: {per_source_per_minute: 1, global_per_second: 100}\n"
	s := newSecured(t, rulesYAML+limits, "")
	if status, _ := s.do("/metrics", "basic prometheus "+promPass, false); status != 200 {
		t.Fatalf("first login: %d", status)
	}
	// A change that weakens nothing: a token's hash.
	_, hash, err := webconf.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	content := strings.Replace(s.authContent(), webconf.HashToken(s.tokens["other"]), hash, 1)
	if err := os.WriteFile(s.authPath, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return strings.Contains(s.log.String(), "configuration reloaded") })
	if status, _ := s.do("/metrics", "basic prometheus guess", false); status != 429 {
		t.Errorf("a guess after the reload: %d, want 429 (the source's budget was used)", status)
	}
	if status, _ := s.do("/metrics", "basic prometheus "+promPass, false); status != 200 {
		t.Errorf("verified credentials after the reload: %d, want 200 without a new check", status)
	}
}

func TestCertificateExpiryMetric(t *testing.T) {
	s := newSecured(t, "", "")
	want := fmt.Sprintf(`# HELP warden_tls_certificate_expiry_timestamp_seconds Time after which a certificate of the web config (serving certificate, client CA) is no longer valid.
# TYPE warden_tls_certificate_expiry_timestamp_seconds gauge
warden_tls_certificate_expiry_timestamp_seconds{file=%q,subject=%q} %d
warden_tls_certificate_expiry_timestamp_seconds{file=%q,subject=%q} %d
`, s.pki.Path("ca.crt"), s.pki.CACert.Subject.String(), s.pki.CACert.NotAfter.Unix(),
		s.pki.Path("server.crt"), s.pki.Server.Leaf.Subject.String(), s.pki.Server.Leaf.NotAfter.Unix())
	if err := testutil.CollectAndCompare(s.srv.Metrics(), strings.NewReader(want), "warden_tls_certificate_expiry_timestamp_seconds"); err != nil {
		t.Error(err)
	}
}

func TestAuthFileReload(t *testing.T) {
	s := newSecured(t, rulesYAML, "")
	tok := s.tokens["ci-scraper"]
	if status, _ := s.do("/metrics", "bearer "+tok, false); status != 200 {
		t.Fatalf("token before reload: %d", status)
	}
	reloadOK := func() float64 { return gaugeValue(t, s.srv.Metrics(), "warden_config_last_reload_successful") }

	// A broken file: the last good one stays in force.
	if err := os.WriteFile(s.authPath, []byte("bearer_tokens: {ci-scraper: not-a-hash}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return reloadOK() == 0 })
	if status, _ := s.do("/metrics", "bearer "+tok, false); status != 200 {
		t.Errorf("token after a bad reload: %d, want the old file in force", status)
	}
	if !strings.Contains(s.log.String(), "bearer_tokens: ci-scraper: the value must be sha256") {
		t.Errorf("bad reload not logged with its reason:\n%s", s.log.String())
	}

	// A good file: the new rules apply.
	newTok, hash, err := webconf.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	fresh := strings.ReplaceAll(strings.ReplaceAll(rulesYAML, "HASH(ci-scraper)", hash), "HASH(other)", webconf.HashToken(s.tokens["other"]))
	if err := os.WriteFile(s.authPath, []byte(fresh), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return reloadOK() == 1 })
	if status, _ := s.do("/metrics", "bearer "+newTok, false); status != 200 {
		t.Errorf("new token after reload: %d", status)
	}
	if status, _ := s.do("/metrics", "bearer "+tok, false); status != 401 {
		t.Errorf("removed token after reload: %d, want 401", status)
	}
}

// A file cut short (a full disk, an in-place rewrite caught half way) or
// rewritten without a protection is not installed: the last good
// configuration stays in force and the refusal says what it would remove.
func TestReloadRefusesWeakerConfig(t *testing.T) {
	cut := func(content, before string) string { return content[:strings.Index(content, before)] }
	tests := []struct {
		name     string
		file     string // "auth" or "web"
		content  func(s *secured) string
		wantLog  string
		stillReq func(s *secured) bool // the protection still holds
	}{
		{"auth file emptied", "auth", func(*secured) string { return "" }, "empty file",
			func(s *secured) bool {
				_, body := s.do("/metrics", "bearer "+s.tokens["ci-scraper"], false)
				return strings.Contains(body, "collectors=[cpu meminfo]")
			}},
		{"auth file cut before a collector limit", "auth", func(s *secured) string { return cut(s.authContent(), "    collectors:") }, "the collector limit of rules[2] (token:ci-scraper)",
			func(s *secured) bool {
				_, body := s.do("/metrics", "bearer "+s.tokens["ci-scraper"], false)
				return strings.Contains(body, "collectors=[cpu meminfo]")
			}},
		{"auth file without rules", "auth", func(s *secured) string { return cut(s.authContent(), "rules:") }, "every rule of the auth file",
			func(s *secured) bool {
				status, _ := s.do("/debug/pprof/", "basic prometheus "+promPass, false)
				return status == 403
			}},
		{"web config turning HTTP/2 off", "web", func(s *secured) string { return s.webContent() + "http_server_config:\n  http2: false\n" }, "http2 changed",
			// Needs a restart: the server's protocol handlers are set up at start.
			func(s *secured) bool {
				status, _ := s.do("/metrics", "basic prometheus "+promPass, true)
				return status == 200
			}},
		{"web config cut after basic_auth_users:", "web", func(s *secured) string { return cut(s.webContent(), "basic_auth_users:") + "basic_auth_users:\n" }, "the password requirement",
			// Without users, a wrong password would be ignored and the certificate let in.
			func(s *secured) bool {
				status, _ := s.do("/metrics", "basic prometheus nope", true)
				return status == 401
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSecured(t, rulesYAML, "")
			path := s.authPath
			if tt.file == "web" {
				path = s.webPath
			}
			if err := os.WriteFile(path, []byte(tt.content(s)), 0o600); err != nil {
				t.Fatal(err)
			}
			waitFor(t, func() bool { return strings.Contains(s.log.String(), tt.wantLog) })
			if v := gaugeValue(t, s.srv.Metrics(), "warden_config_last_reload_successful"); v != 0 {
				t.Errorf("warden_config_last_reload_successful %v, want 0", v)
			}
			if !tt.stillReq(s) {
				t.Error("the protection was lifted")
			}
		})
	}
}

// A replacement of the same size that keeps the modification time is
// still seen: change detection reads content.
func TestReloadSeesSameSizeSameMtime(t *testing.T) {
	s := newSecured(t, rulesYAML, "")
	fi, err := os.Stat(s.authPath)
	if err != nil {
		t.Fatal(err)
	}
	newTok, hash, err := webconf.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	content := strings.Replace(s.authContent(), webconf.HashToken(s.tokens["ci-scraper"]), hash, 1)
	if len(content) != int(fi.Size()) {
		t.Fatalf("replacement changes the size: %d vs %d", len(content), fi.Size())
	}
	if err := os.WriteFile(s.authPath, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(s.authPath, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { status, _ := s.do("/metrics", "bearer "+newTok, false); return status == 200 })
}

func (s *secured) authContent() string { return s.read(s.authPath) }
func (s *secured) webContent() string  { return s.read(s.webPath) }

func (s *secured) read(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		s.t.Fatal(err)
	}
	return string(b)
}

// gaugeValue returns the value of an unlabelled gauge that c collects.
func gaugeValue(t *testing.T, c prometheus.Collector, name string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no %s", name)
	return 0
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBadAuthFileRefusedAtStart(t *testing.T) {
	dir := t.TempDir()
	for name, tt := range map[string]struct{ content, want string }{
		"token in clear": {"bearer_tokens: {ci: abc}\n", "bearer_tokens: ci: the value must be sha256"},
		"unknown key":    {"rulez: []\n", "field rulez not found"},
		"rule bad id":    {"rules: [{identities: [admin], paths: [/]}]\n", `rules[0]: identity "admin": use user:NAME`},
		"rule no token":  {"rules: [{identities: [\"token:x\"], paths: [/]}]\n", `rules[0]: identity "token:x": no such entry in bearer_tokens`},
		"relative path":  {"public_paths: [healthy]\n", `public_paths: "healthy" does not start with /`},
		"zero rate":      {"failed_auth: {per_source_per_minute: 0, global_per_second: 1}\n", "failed_auth: per_source_per_minute and global_per_second must be positive"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".yml")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			addrs := []string{"127.0.0.1:0"}
			empty := ""
			_, err := webconf.New(webconf.Options{
				Flags:   &webconf.Flags{FlagConfig: &web.FlagConfig{WebListenAddresses: &addrs, WebSystemdSocket: new(bool), WebConfigFile: &empty}, AuthFile: &path},
				Handler: http.NotFoundHandler(),
				Logger:  slog.New(slog.DiscardHandler),
			})
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error naming %s and %q", err, path, tt.want)
			}
		})
	}
}

// The refusal says which of TLS and authentication is missing.
func TestInsecureRefusalNamesWhatIsMissing(t *testing.T) {
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	basicOnly := filepath.Join(dir, "basic.yml")
	if err := os.WriteFile(basicOnly, []byte("basic_auth_users:\n  u: "+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := ""
	for path, want := range map[string]string{basicOnly: "no TLS (a password would cross the network in clear)", empty: "no TLS and no authentication"} {
		addrs := []string{"0.0.0.0:0"}
		_, err := webconf.New(webconf.Options{
			Flags:   &webconf.Flags{FlagConfig: &web.FlagConfig{WebListenAddresses: &addrs, WebSystemdSocket: new(bool), WebConfigFile: &path}},
			Handler: http.NotFoundHandler(),
			Logger:  slog.New(slog.DiscardHandler),
		})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("web config %q: got %v, want %q", path, err, want)
		}
	}
}

func TestInsecureServesLoopbackOnly(t *testing.T) {
	empty := ""
	newServer := func(addr string, allow bool) (*webconf.Server, error) {
		addrs := []string{addr}
		return webconf.New(webconf.Options{
			Flags:   &webconf.Flags{FlagConfig: &web.FlagConfig{WebListenAddresses: &addrs, WebSystemdSocket: new(bool), WebConfigFile: &empty}, AllowInsecure: &allow},
			Handler: http.NotFoundHandler(),
			Logger:  slog.New(slog.DiscardHandler),
		})
	}
	srv, err := newServer(":0", false)
	if err != nil {
		t.Fatal(err)
	}
	stop := func(srv *webconf.Server) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		srv.Serve(ctx) // closes the listeners
	}
	defer stop(srv)
	if got := srv.Addrs()[0].String(); !strings.HasPrefix(got, "127.0.0.1:") {
		t.Errorf("insecure :0 bound %s, want loopback", got)
	}
	// An address the operator named is served as named or refused, never
	// silently rebound to loopback.
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", "192.0.2.1:9100", "example.org:9100", "vsock://:9100"} {
		if _, err := newServer(addr, false); err == nil || !strings.Contains(err.Error(), "--web.allow-insecure") || !strings.Contains(err.Error(), addr) {
			t.Errorf("%s: got %v, want a refusal naming the address and --web.allow-insecure", addr, err)
		}
	}
	srv, err = newServer("0.0.0.0:0", true)
	if err != nil {
		t.Fatal(err)
	}
	defer stop(srv)
	if got := srv.Addrs()[0].String(); strings.HasPrefix(got, "127.0.0.1:") {
		t.Errorf("--web.allow-insecure 0.0.0.0:0 bound %s, want all addresses", got)
	}
	srv, err = newServer(":0", true)
	if err != nil {
		t.Fatal(err)
	}
	defer stop(srv)
	if got := srv.Addrs()[0].String(); strings.HasPrefix(got, "127.0.0.1:") {
		t.Errorf("--web.allow-insecure :0 bound %s, want all addresses", got)
	}
}

// A flood of refusals is counted in full but logged within a budget, so
// that logging cannot become the attack.
func TestAuditLinesAreBounded(t *testing.T) {
	s := newSecured(t, rulesYAML, "")
	const n = 300
	for range n {
		s.do("/metrics", "", false)
	}
	if got := s.refused("no_credentials"); got != n {
		t.Errorf("no_credentials refusals: %v, want %d", got, n)
	}
	lines := strings.Count(s.log.String(), `"msg":"request refused"`)
	if lines >= n || lines == 0 {
		t.Errorf("%d audit lines for %d refusals; want some, and fewer", lines, n)
	}
	// The rest are merged, with their count, at the next flush.
	waitFor(t, func() bool { return loggedRefusals(t, s.log.String(), "") == n })
}

// Guesses against an existing user are never reduced to an anonymous
// count: every one is in the log under the user and the source, either
// as its own line or in a merged line's count.
func TestAuditKeepsGuessesAgainstUsers(t *testing.T) {
	// Limits high enough that every guess is checked (and refused at once).
	s := newSecured(t, rulesYAML+"failed_auth: {per_source_per_minute: 100000, global_per_second: 100000}\n", "")
	const n = 300
	for i := range n {
		s.do("/metrics", fmt.Sprintf("basic admin guess-%d", i), false)
	}
	waitFor(t, func() bool { return loggedRefusals(t, s.log.String(), "admin") == n })
	if strings.Contains(s.log.String(), "guess-") {
		t.Error("the audit log holds a password")
	}
}

// loggedRefusals adds up the refusals in a JSON log: one per
// "request refused" line, count per "requests refused" line; with user,
// only those naming that user.
func loggedRefusals(t *testing.T, log, user string) int {
	t.Helper()
	n := 0
	for _, line := range strings.Split(log, "\n") {
		if line == "" {
			continue
		}
		var e struct {
			Msg   string `json:"msg"`
			User  string `json:"user"`
			Count int    `json:"count"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if user != "" && e.User != user {
			continue
		}
		switch e.Msg {
		case "request refused":
			n++
		case "requests refused":
			n += e.Count
		}
	}
	return n
}

// Clients sending the same right credentials at once, as Prometheus
// replicas do after a restart, wait for one bcrypt check: none is refused.
func TestConcurrentSameCredentialsAreCheckedOnce(t *testing.T) {
	s := newSecured(t, rulesYAML+"failed_auth: {per_source_per_minute: 1, global_per_second: 1}\n", "")
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	for i := range statuses {
		wg.Go(func() { statuses[i], _ = s.do("/metrics", "basic prometheus "+promPass, false) })
	}
	wg.Wait()
	for i, st := range statuses {
		if st != http.StatusOK {
			t.Errorf("client %d: status %d", i, st)
		}
	}
}
