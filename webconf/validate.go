package webconf

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/prometheus/exporter-toolkit/web"
	"go.yaml.in/yaml/v2"
	"golang.org/x/crypto/bcrypt"
)

// Client auth types, as the web config file spells them.
const (
	noClientCert               = "NoClientCert"
	requestClientCert          = "RequestClientCert"
	requireAnyClientCert       = "RequireAnyClientCert"
	requireClientCert          = "RequireClientCert" // toolkit's old name for RequireAnyClientCert
	verifyClientCertIfGiven    = "VerifyClientCertIfGiven"
	requireAndVerifyClientCert = "RequireAndVerifyClientCert"
)

// webConfig is a web config file and the PEM files it names, each read
// once, so that what is validated is what is served.
type webConfig struct {
	path string
	cfg  *web.Config
	// cert, key and ca are the PEM contents, from files or inline; nil
	// when not configured or not readable (then problems says why).
	cert, key, ca []byte
	// files are the contents read, for change detection.
	files []fileSum
}

// Load reads a web config file the way exporter-toolkit does (strict YAML,
// its defaults, relative paths taken from the file's directory).
func Load(path string) (*web.Config, error) {
	content, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("web config %s: %w", path, err)
	}
	return parseWebConfig(path, content)
}

func parseWebConfig(path string, content []byte) (*web.Config, error) {
	if isEmptyYAML(content) {
		return nil, fmt.Errorf("web config %s: %w", path, errEmpty)
	}
	c := &web.Config{
		TLSConfig:  web.TLSConfig{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS13},
		HTTPConfig: web.HTTPConfig{HTTP2: true},
	}
	if err := yaml.UnmarshalStrict(content, c); err != nil {
		return nil, fmt.Errorf("web config %s: %w", path, err)
	}
	c.TLSConfig.SetDirectory(filepath.Dir(path))
	return c, nil
}

// MaxBcryptCost is the highest bcrypt cost a web config may use: cost 16
// already takes about four seconds per check on a server CPU.
const MaxBcryptCost = 16

// maxFileBytes bounds what is read of a configuration, certificate or
// key file: none is near it, and a path such as /dev/zero must not hang
// or exhaust the exporter.
const maxFileBytes = 1 << 20

// readFile reads a regular file of at most maxFileBytes.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxFileBytes)
	}
	return b, nil
}

// errEmpty is the error of a file with no YAML document: a file cut to
// nothing by a failed write must not load as "no requirements".
var errEmpty = errors.New("empty file: no YAML document")

// isEmptyYAML reports whether content holds no YAML value: nothing but
// blank lines, comments and markers (however spelled: "--- # web config"
// is one), or a null ("~", "&anchor"). The YAML parser decides, not a
// line filter: a null document decodes into a zeroed config without its
// UnmarshalYAML running, so an auth file "&0000" had failed-login limits
// of 0 (FuzzAuthFile found it).
func isEmptyYAML(content []byte) bool {
	var v any
	return yaml.Unmarshal(content, &v) == nil && v == nil
}

// Validate checks a web config file as the daemon does before it listens.
// It returns nil for an empty path (no TLS, no authentication), and
// otherwise every problem found, one error each, naming the file and the
// field. It checks more than exporter-toolkit does: that passwords are bcrypt
// hashes, that files are readable, that the key matches the certificate,
// that a client CA file holds certificates, that verifying client
// certificates has a CA to verify against (else Go trusts the system roots),
// and that client_allowed_sans only comes with verified client certificates
// (exporter-toolkit v0.20.0 panics on a connection without one).
func Validate(path string) error {
	if path == "" {
		return nil
	}
	w, err := readWebConfig(path)
	if err != nil {
		return err
	}
	_, _, err = newTLSConfig(w)
	return err
}

// readWebConfig reads the web config at path and the files it names, and
// checks them as Validate describes.
func readWebConfig(path string) (*webConfig, error) {
	content, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("web config %s: %w", path, err)
	}
	c, err := parseWebConfig(path, content)
	if err != nil {
		return nil, err
	}
	w := &webConfig{path: path, cfg: c, files: []fileSum{sumOf(path, content)}}
	var problems []error
	bad := func(field, format string, args ...any) {
		problems = append(problems, fmt.Errorf("web config %s: %s: %s", path, field, fmt.Sprintf(format, args...)))
	}
	checkMode(path, "file", false, bad)
	checkUsers(c, bad)
	if err := checkHeaders(c.HTTPConfig.Header); err != nil {
		bad("http_server_config", "headers: %v", err)
	}
	if t := &c.TLSConfig; t.IsEnabled() {
		w.cert = w.readPEM(t.TLSCertPath, t.TLSCert, "cert_file", "cert", bad)
		w.key = w.readPEM(t.TLSKeyPath, string(t.TLSKey), "key_file", "key", bad)
		if t.TLSKeyPath != "" {
			checkMode(t.TLSKeyPath, "key_file", true, bad)
		}
		if t.ClientCAs != "" || t.ClientCAsText != "" {
			w.ca = w.readPEM(t.ClientCAs, t.ClientCAsText, "client_ca_file", "client_ca", bad)
		}
		w.checkTLS(bad)
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	return w, nil
}

func checkUsers(c *web.Config, bad func(field, format string, args ...any)) {
	users := make([]string, 0, len(c.Users))
	for u := range c.Users {
		users = append(users, u)
	}
	slices.Sort(users)
	costs := map[int][]string{}
	for _, u := range users {
		cost, err := bcrypt.Cost([]byte(c.Users[u]))
		if err != nil {
			bad("basic_auth_users", "user %q: password is not a bcrypt hash (make one with `wardentool hash-password`): %v", u, err)
			continue
		}
		if cost > MaxBcryptCost {
			bad("basic_auth_users", "user %q: bcrypt cost %d is above %d: every check of a new password (and the decoy hash made at each load) would take minutes to days; each step doubles the time", u, cost, MaxBcryptCost)
		}
		costs[cost] = append(costs[cost], u)
	}
	if len(costs) > 1 {
		// The decoy hash checked for unknown users has one cost; a user
		// of a lower cost would answer a wrong password faster than an
		// unknown user is answered, which tells who exists.
		var parts []string
		for _, cost := range slices.Sorted(maps.Keys(costs)) {
			parts = append(parts, fmt.Sprintf("cost %d (%s)", cost, strings.Join(costs[cost], ", ")))
		}
		bad("basic_auth_users", "bcrypt costs differ: %s; a wrong password would then answer faster for some users than for unknown ones, which tells who exists: hash every password at one cost", strings.Join(parts, ", "))
	}
}

// checkMode refuses a file others may write (a configuration) or read (a
// private key); group read stays allowed (0640 root:warden).
func checkMode(path, field string, secret bool, bad func(field, format string, args ...any)) {
	fi, err := os.Stat(path)
	if err != nil {
		return // reading it reports why
	}
	switch mode := fi.Mode().Perm(); {
	case mode&0o002 != 0:
		bad(field, "%s is writable by others (mode %#o): anyone on the host could change it; chmod o-w", path, mode)
	case secret && mode&0o004 != 0:
		bad(field, "%s is readable by others (mode %#o): it holds a secret; chmod o-r", path, mode)
	}
}

// allowedHeaders are the response headers a web config may set, with
// their allowed values (none: any value). They are exporter-toolkit
// v0.20.0's (web/handler.go, unexported there); TestHeadersAsToolkit
// checks that both refuse and accept the same.
var allowedHeaders = map[string][]string{
	"Strict-Transport-Security": nil,
	"X-Content-Type-Options":    {"nosniff"},
	"X-Frame-Options":           {"deny", "sameorigin"},
	"X-XSS-Protection":          nil,
	"Content-Security-Policy":   nil,
}

func checkHeaders(headers map[string]string) error {
	for k, v := range headers {
		values, ok := allowedHeaders[k]
		if !ok {
			return fmt.Errorf("HTTP header %q can not be configured", k)
		}
		if len(values) > 0 && !slices.Contains(values, v) {
			return fmt.Errorf("invalid value for %s. Expected one of: %q, but got: %q", k, values, v)
		}
	}
	return nil
}

func (w *webConfig) checkTLS(bad func(field, format string, args ...any)) {
	t := &w.cfg.TLSConfig
	if w.cert != nil && w.key != nil {
		if _, err := tls.X509KeyPair(w.cert, w.key); err != nil {
			bad("cert_file/key_file", "%s and %s do not form a valid pair: %v", orInline(t.TLSCertPath), orInline(t.TLSKeyPath), err)
		}
	}
	hasCA := t.ClientCAs != "" || t.ClientCAsText != ""
	if w.ca != nil {
		if certs, _ := parseCerts(w.ca); len(certs) == 0 {
			bad("client_ca_file", "%s holds no PEM certificate", orInline(t.ClientCAs))
		}
	}
	switch t.ClientAuth {
	case "", noClientCert:
		if hasCA {
			bad("client_auth_type", "client_ca_file is set but client_auth_type is %q, so client certificates would never be asked for; use RequireAndVerifyClientCert", t.ClientAuth)
		}
	case requestClientCert, requireAnyClientCert, requireClientCert:
	case verifyClientCertIfGiven, requireAndVerifyClientCert:
		if !hasCA {
			bad("client_auth_type", "%s needs client_ca_file: without it Go would verify client certificates against the system roots", t.ClientAuth)
		}
	default:
		bad("client_auth_type", "unknown value %q (one of NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert)", t.ClientAuth)
	}
	if len(t.ClientAllowedSans) > 0 && t.ClientAuth != requireAndVerifyClientCert {
		bad("client_allowed_sans", "needs client_auth_type RequireAndVerifyClientCert (is %q): the SANs of a certificate that is not required and verified prove nothing", t.ClientAuth)
	}
}

// readPEM returns the content of path, or inline when path is empty, or
// nil after reporting why there is none.
func (w *webConfig) readPEM(path, inline, pathField, inlineField string, bad func(field, format string, args ...any)) []byte {
	switch {
	case path != "":
		b, err := readFile(path)
		if err != nil {
			w.files = append(w.files, fileSum{path: path})
			bad(pathField, "%v", err)
			return nil
		}
		w.files = append(w.files, sumOf(path, b))
		return b
	case inline != "":
		return []byte(inline)
	default:
		bad(pathField, "missing: TLS needs one of %s or %s", pathField, inlineField)
		return nil
	}
}

// parseCerts returns the certificates of the PEM blocks of type
// CERTIFICATE in b; other blocks are skipped. It is Warden's one reader
// of certificate files.
func parseCerts(b []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return certs, nil
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return certs, err
		}
		certs = append(certs, c)
	}
}

func orInline(path string) string {
	if path == "" {
		return "(inline)"
	}
	return path
}
