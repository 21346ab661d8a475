package webconf

// Fuzz targets for the two files the exporter takes from its operator: the
// web config (with the files it names) and the auth file. `make fuzz` runs
// them; `go test` replays testdata/fuzz/ and the fixtures as seeds. Each
// asserts what an accepted file promises, not only that nothing panics.

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v2"
	"golang.org/x/crypto/bcrypt"

	"github.com/warden-exporter/warden/internal/pki"
)

// fuzzFixtureDir writes what the web config fixtures refer to: a CA, a
// server and a client certificate with their keys, a file that is not a
// certificate, and a directory. It is webconftest.NewPKI's layout, made
// with internal/pki directly: these targets test unexported functions, and
// webconftest imports webconf (through webconf/exporter).
func fuzzFixtureDir(f *testing.F) string {
	f.Helper()
	dir := f.TempDir()
	ca, err := pki.NewCA("fuzz CA", time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	server, err := ca.Server("localhost", []string{"localhost", "127.0.0.1"}, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	client, err := ca.Client("prometheus.test", []string{"prometheus.test"}, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	for _, err := range []error{
		ca.WriteFiles(filepath.Join(dir, "ca.crt"), ""),
		server.WriteFiles(filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")),
		client.WriteFiles(filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key")),
		os.WriteFile(filepath.Join(dir, "empty.crt"), []byte("not a certificate\n"), 0o644),
		os.Mkdir(filepath.Join(dir, "subdir"), 0o755),
	} {
		if err != nil {
			f.Fatal(err)
		}
	}
	return dir
}

// addFixtures adds the files matching pattern as seeds.
func addFixtures(f *testing.F, pattern string) {
	f.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures %s: %v", pattern, err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// checkNamesFile fails t unless every error err joins starts with prefix:
// whatever is wrong, the operator is told which file.
func checkNamesFile(t *testing.T, err error, prefix string) {
	t.Helper()
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		if !strings.HasPrefix(e.Error(), prefix) {
			t.Errorf("error does not start with %q: %v", prefix, e)
		}
	}
}

// checkNotEmpty fails t when content, which a loader accepted, holds no
// YAML value: a file cut to nothing by a failed write must not load as "no
// requirements", however the nothing is spelled (comments, markers).
func checkNotEmpty(t *testing.T, content []byte) {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(content, &v); err == nil && v == nil {
		t.Errorf("accepted a file without a YAML value: %q", content)
	}
}

// maxFuzzCost bounds the bcrypt cost of the hashes a fuzzed config may
// hold for the load to be tried: the decoy hash is made at the highest
// cost, and a cost of 31 takes days (the operator's choice, not a bug).
const maxFuzzCost = bcrypt.MinCost + 2

// FuzzWebConfig checks Validate, what `wardentool check web-config` and the
// daemon's start run. Every error names the file. A file Validate accepts
// loads into a serving state as it is (the content hashed is the content
// read), and holds what Validate promises: bcrypt hashes of one cost,
// allowed headers, a key that pairs with the certificate, client
// certificates verified only against a configured CA, allowed SANs only
// with verified certificates, and some YAML value.
func FuzzWebConfig(f *testing.F) {
	dir := fuzzFixtureDir(f)
	addFixtures(f, "testdata/*.yml")
	path := filepath.Join(dir, "web-config.yml")
	f.Fuzz(func(t *testing.T, content []byte) {
		if c, err := parseWebConfig(path, content); err == nil {
			// Files outside the fixture directory are the machine's, not
			// the input's (and /dev/zero never ends).
			for _, p := range []string{c.TLSConfig.TLSCertPath, c.TLSConfig.TLSKeyPath, c.TLSConfig.ClientCAs} {
				if p != "" && !strings.HasPrefix(filepath.Clean(p), dir+string(filepath.Separator)) {
					t.Skip("names a file outside the fixture directory")
				}
			}
		}
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		err := Validate(path)
		if err != nil {
			checkNamesFile(t, err, "web config "+path+": ")
			return
		}
		checkNotEmpty(t, content)
		c, err := Load(path)
		if err != nil {
			t.Fatalf("Validate accepted what Load refuses: %v", err)
		}
		if err := checkHeaders(c.HTTPConfig.Header); err != nil {
			t.Errorf("accepted header: %v", err)
		}
		cost := 0
		for u, h := range c.Users {
			uc, err := bcrypt.Cost([]byte(h))
			if err != nil {
				t.Fatalf("accepted user %q without a bcrypt hash: %v", u, err)
			}
			if cost != 0 && uc != cost {
				t.Errorf("accepted bcrypt costs %d and %d", cost, uc)
			}
			cost = uc
		}
		if cost > maxFuzzCost {
			return
		}

		s, err := loadState(path, "", loadOptions{})
		if err != nil {
			t.Fatalf("Validate accepted what does not load: %v", err)
		}
		if len(s.files) == 0 || s.files[0].sum != sha256.Sum256(content) {
			t.Errorf("state does not come from the content validated")
		}
		if len(s.users) > 0 {
			if dc, err := bcrypt.Cost(s.decoy); err != nil || dc != cost {
				t.Errorf("decoy cost %d (%v), users' %d", dc, err, cost)
			}
		}
		tc := c.TLSConfig
		if !tc.IsEnabled() {
			if s.tls != nil || s.policy.clientCert {
				t.Errorf("TLS off in the file, on in the state")
			}
			return
		}
		if s.tls == nil {
			t.Fatal("TLS on in the file, off in the state")
		}
		cert, err := s.tls.GetCertificate(&tls.ClientHelloInfo{})
		if err != nil || cert == nil || cert.Leaf == nil {
			t.Fatalf("no serving certificate: %v", err)
		}
		if len(s.certs) == 0 || !s.certs[0].notAfter.Equal(cert.Leaf.NotAfter) {
			t.Errorf("expiry metric does not follow the serving certificate")
		}
		if s.tls.ClientAuth >= tls.VerifyClientCertIfGiven && s.tls.ClientCAs == nil {
			t.Errorf("client certificates verified (%v) without a client CA: Go would use the system roots", s.tls.ClientAuth)
		}
		if len(tc.ClientAllowedSans) > 0 && tc.ClientAuth != requireAndVerifyClientCert {
			t.Errorf("client_allowed_sans accepted with client_auth_type %q", tc.ClientAuth)
		}
		required := slices.Contains([]string{requireAndVerifyClientCert, requireAnyClientCert, requireClientCert}, tc.ClientAuth)
		if s.policy.clientCert != required {
			t.Errorf("client_auth_type %q: policy requires a certificate: %v", tc.ClientAuth, s.policy.clientCert)
		}
		if tc.ClientAuth == requireAndVerifyClientCert && s.tls.VerifyConnection == nil {
			t.Errorf("a required certificate is not checked on every handshake")
		}
	})
}

// FuzzAuthFile checks LoadAuthFile. Every error names the file. A file it
// accepts has only identities and paths that can match (valid token names
// and hashes, known tokens, paths from /), finite positive failed-login
// limits, no limit written down that reads as no limit (a `rules:` or a
// rule's `collectors:` left without a value, as a cut file leaves them),
// and loads into a serving state, which refuses its collector limits for
// an exporter that cannot enforce them.
func FuzzAuthFile(f *testing.F) {
	dir := f.TempDir()
	path := filepath.Join(dir, "auth.yml")
	f.Fuzz(func(t *testing.T, content []byte) {
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := LoadAuthFile(path)
		if err != nil {
			checkNamesFile(t, err, "auth file "+path+": ")
			return
		}
		checkNotEmpty(t, content)
		for name, h := range c.BearerTokens {
			if ValidateTokenName(name) != nil || !tokenHashRE.MatchString(h) {
				t.Errorf("accepted bearer token %q: %q", name, h)
			}
		}
		for _, p := range c.PublicPaths {
			if !strings.HasPrefix(p, "/") {
				t.Errorf("accepted public path %q", p)
			}
		}
		limits := false
		for i, r := range c.Rules {
			if len(r.Identities) == 0 || len(r.Paths) == 0 {
				t.Errorf("rules[%d]: accepted without identities or paths", i)
			}
			for _, id := range r.Identities {
				kind, name, _ := strings.Cut(id, ":")
				_, known := c.BearerTokens[name]
				switch {
				case id == "*", (kind == "user" || kind == "cert") && name != "", kind == "token" && known:
				default:
					t.Errorf("rules[%d]: accepted identity %q", i, id)
				}
			}
			for _, p := range r.Paths {
				if !strings.HasPrefix(p, "/") {
					t.Errorf("rules[%d]: accepted path %q", i, p)
				}
			}
			if slices.Contains(r.Collectors, "") {
				t.Errorf("rules[%d]: accepted an empty collector name", i)
			}
			limits = limits || r.Collectors != nil
		}
		for _, v := range []float64{c.FailedAuth.PerSourcePerMinute, c.FailedAuth.GlobalPerSecond} {
			if !(v > 0) || math.IsInf(v, 0) {
				t.Errorf("accepted failed_auth limit %v", v)
			}
		}
		checkLimitsWrittenDown(t, content, c)

		s, err := loadState("", path, loadOptions{collectorLimits: true})
		if err != nil {
			t.Fatalf("LoadAuthFile accepted what does not load: %v", err)
		}
		if len(s.tokens) != len(c.BearerTokens) || s.policy.tokens != (len(c.BearerTokens) > 0) {
			t.Errorf("%d tokens in the file, %d in the state", len(c.BearerTokens), len(s.tokens))
		}
		for _, tok := range s.tokens {
			if h := c.BearerTokens[tok.name]; h != tokenHashPrefix+hex.EncodeToString(tok.digest[:]) {
				t.Errorf("token %q: digest %x in the state, %q in the file", tok.name, tok.digest, h)
			}
		}
		_, err = loadState("", path, loadOptions{})
		if limits != (err != nil) {
			t.Errorf("collector limits %v, load without enforcement: %v", limits, err)
		}
	})
}

// checkLimitsWrittenDown fails t when a `rules:` key, or a rule's
// `collectors:` key, is in content but reads as no limit: left without a
// value, it is what a write cut after the colon leaves.
func checkLimitsWrittenDown(t *testing.T, content []byte, c *AuthConfig) {
	t.Helper()
	var raw struct {
		Rules []map[string]any `yaml:"rules"`
	}
	var top map[string]any
	if yaml.Unmarshal(content, &top) != nil || yaml.Unmarshal(content, &raw) != nil {
		return
	}
	if v, ok := top["rules"]; ok && v == nil && c.Rules == nil {
		t.Errorf("rules: given without a value, read as no rules (every identity everywhere)")
	}
	for i, r := range raw.Rules {
		if v, ok := r["collectors"]; ok && v == nil && i < len(c.Rules) && c.Rules[i].Collectors == nil {
			t.Errorf("rules[%d]: collectors: given without a value, read as no limit", i)
		}
	}
}
