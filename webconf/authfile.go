package webconf

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v2"
)

// AuthConfig is the optional --web.auth.file: what Warden adds to
// exporter-toolkit's web config (which stays node_exporter-compatible).
type AuthConfig struct {
	// BearerTokens maps a token's name to "sha256:<64 hex digits>" of the
	// token, as `wardentool token new NAME` prints it.
	BearerTokens map[string]string `yaml:"bearer_tokens"`
	// PublicPaths are served without credentials (health checks).
	PublicPaths []string `yaml:"public_paths"`
	// Rules authorize identities; the first rule that names one of the
	// request's identities and its path decides. An authenticated request
	// that no rule matches gets 403. No rules: every authenticated
	// identity may reach every path.
	Rules []Rule `yaml:"rules"`
	// FailedAuth bounds how many credentials not seen before are checked.
	FailedAuth FailedAuth `yaml:"failed_auth"`
}

// Rule allows identities onto paths.
type Rule struct {
	// Identities are "user:NAME", "token:NAME", "cert:DNS-SAN" (or the CN
	// of a certificate without SANs), "cert:uri:URI", "cert:ip:IP", or "*"
	// for any authenticated identity.
	Identities []string `yaml:"identities"`
	// Paths are exact paths, or prefixes ending in "*" ("/*" is everything).
	Paths []string `yaml:"paths"`
	// Collectors, when set, limits what a scrape of the telemetry path
	// may collect, whatever collect[] asks for.
	Collectors []string `yaml:"collectors"`
}

// FailedAuth bounds the cost of password guessing. Credentials that were
// verified before are answered from a cache and never limited; only new
// ones cost a bcrypt computation, and only this many are computed.
type FailedAuth struct {
	PerSourcePerMinute float64 `yaml:"per_source_per_minute"`
	GlobalPerSecond    float64 `yaml:"global_per_second"`
}

// DefaultFailedAuth applies with no auth file, or when it leaves
// failed_auth out: enough for Prometheus servers whose password changed,
// far too little for guessing.
var DefaultFailedAuth = FailedAuth{PerSourcePerMinute: 10, GlobalPerSecond: 5}

const tokenHashPrefix = "sha256:"

var (
	tokenHashRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	tokenNameRE = regexp.MustCompile(`^[A-Za-z0-9_.@-]+$`)
)

// UnmarshalYAML applies defaults and validates.
func (c *AuthConfig) UnmarshalYAML(unmarshal func(any) error) error {
	type plain AuthConfig
	*c = AuthConfig{FailedAuth: DefaultFailedAuth}
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	if err := refuseLimitsWithoutValue(unmarshal); err != nil {
		return err
	}
	return c.validate()
}

// refuseLimitsWithoutValue refuses `rules:` or a rule's `collectors:`
// written without a value. Decoded as nil, they would mean no rules (every
// identity on every path) and no collector limit: the opposite of what the
// key is there for, and what a write cut right after the colon leaves
// (FuzzAuthFile found it). An empty list is written [].
func refuseLimitsWithoutValue(unmarshal func(any) error) error {
	var raw map[string]any
	if err := unmarshal(&raw); err != nil {
		return err
	}
	rules, given := raw["rules"]
	if given && rules == nil {
		return errors.New("rules: no value: list the rules, or leave the key out for none")
	}
	list, _ := rules.([]any)
	for i, r := range list {
		m, _ := r.(map[any]any) // a rule of another kind is refused by validate
		if collectors, given := m["collectors"]; given && collectors == nil {
			return fmt.Errorf("rules[%d]: collectors: no value: list the collectors, [] for none, or leave the key out for no limit", i)
		}
	}
	return nil
}

func (c *AuthConfig) validate() error {
	for name, h := range c.BearerTokens {
		if err := ValidateTokenName(name); err != nil {
			return fmt.Errorf("bearer_tokens: %w", err)
		}
		if !tokenHashRE.MatchString(h) {
			return fmt.Errorf("bearer_tokens: %s: the value must be sha256:<64 lower-case hex digits> as `wardentool token new` prints it, not the token itself", name)
		}
	}
	for _, p := range c.PublicPaths {
		if !strings.HasPrefix(p, "/") {
			return fmt.Errorf("public_paths: %q does not start with /", p)
		}
	}
	for i, r := range c.Rules {
		if len(r.Identities) == 0 || len(r.Paths) == 0 {
			return fmt.Errorf("rules[%d]: needs identities and paths", i)
		}
		for _, id := range r.Identities {
			kind, name, _ := strings.Cut(id, ":")
			switch {
			case id == "*":
			case (kind == "user" || kind == "token" || kind == "cert") && name != "":
				if kind == "token" {
					if _, ok := c.BearerTokens[name]; !ok {
						return fmt.Errorf("rules[%d]: identity %q: no such entry in bearer_tokens", i, id)
					}
				}
			default:
				return fmt.Errorf("rules[%d]: identity %q: use user:NAME, token:NAME, cert:NAME or *", i, id)
			}
		}
		for _, p := range r.Paths {
			if !strings.HasPrefix(p, "/") {
				return fmt.Errorf("rules[%d]: path %q does not start with /", i, p)
			}
		}
		if slices.Contains(r.Collectors, "") {
			return fmt.Errorf("rules[%d]: collectors: empty name", i)
		}
	}
	// Written so that .nan fails too; .inf would turn the limit off.
	if fa := c.FailedAuth; !(fa.PerSourcePerMinute > 0) || !(fa.GlobalPerSecond > 0) ||
		math.IsInf(fa.PerSourcePerMinute, 0) || math.IsInf(fa.GlobalPerSecond, 0) {
		return errors.New("failed_auth: per_source_per_minute and global_per_second must be positive (and finite)")
	}
	return nil
}

// refuseCollectorLimits returns an error naming the first rule with a
// collectors: limit, for an exporter that cannot enforce one.
func (c *AuthConfig) refuseCollectorLimits(path string) error {
	for i, r := range c.Rules {
		if r.Collectors != nil {
			return fmt.Errorf("auth file %s: rules[%d]: collectors: this exporter has no named collectors, so a collector limit cannot be enforced; remove it or limit paths instead", path, i)
		}
	}
	return nil
}

// LoadAuthFile reads and validates an auth file. An empty path gives the
// defaults: no tokens, no public paths, no rules.
func LoadAuthFile(path string) (*AuthConfig, error) {
	c, _, err := loadAuthFile(path)
	return c, err
}

// loadAuthFile is LoadAuthFile, also returning the content it read.
func loadAuthFile(path string) (*AuthConfig, []byte, error) {
	if path == "" {
		return &AuthConfig{FailedAuth: DefaultFailedAuth}, nil, nil
	}
	content, err := readFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("auth file %s: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o002 != 0 {
		return nil, nil, fmt.Errorf("auth file %s: writable by others (mode %#o): anyone on the host could change who gets in; chmod o-w", path, fi.Mode().Perm())
	}
	if isEmptyYAML(content) {
		return nil, nil, fmt.Errorf("auth file %s: %w", path, errEmpty)
	}
	c := &AuthConfig{FailedAuth: DefaultFailedAuth}
	if err := yaml.UnmarshalStrict(content, c); err != nil {
		return nil, nil, fmt.Errorf("auth file %s: %w", path, err)
	}
	return c, content, nil
}

// ValidateTokenName checks a bearer token's name.
func ValidateTokenName(name string) error {
	if !tokenNameRE.MatchString(name) {
		return fmt.Errorf("token name %q: use letters, digits, '_', '.', '@' and '-'", name)
	}
	return nil
}

// NewToken returns a random bearer token of 256 bits in URL-safe base64
// and its hash as the auth file stores it.
func NewToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("generate token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken returns "sha256:<hex>" of a token. A random 256-bit token
// needs no slow hash: it cannot be guessed, only stolen.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return tokenHashPrefix + hex.EncodeToString(sum[:])
}

// matchPath reports whether p matches pattern: exact, or a prefix when
// the pattern ends in "*".
func matchPath(pattern, p string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(p, prefix)
	}
	return pattern == p
}

// authorize returns the first rule matching one of ids and path, or nil.
func (c *AuthConfig) authorize(ids []string, path string) (*Rule, bool) {
	if len(c.Rules) == 0 {
		return nil, true
	}
	for i := range c.Rules {
		r := &c.Rules[i]
		if !slices.ContainsFunc(r.Paths, func(p string) bool { return matchPath(p, path) }) {
			continue
		}
		for _, want := range r.Identities {
			if want == "*" || slices.Contains(ids, want) {
				return r, true
			}
		}
	}
	return nil, false
}

func (c *AuthConfig) isPublic(path string) bool {
	return slices.ContainsFunc(c.PublicPaths, func(p string) bool { return matchPath(p, path) })
}
