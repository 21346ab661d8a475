package webconf

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

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

// Load reads a web config file the way exporter-toolkit does (strict YAML,
// its defaults, relative paths taken from the file's directory).
func Load(path string) (*web.Config, error) {
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("web config %s: %w", path, err)
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
	c, err := Load(path)
	if err != nil {
		return err
	}
	return checkConfig(path, c)
}

// checkConfig validates c, loaded from path, as Validate describes.
func checkConfig(path string, c *web.Config) error {
	var problems []error
	bad := func(field, format string, args ...any) {
		problems = append(problems, fmt.Errorf("web config %s: %s: %s", path, field, fmt.Sprintf(format, args...)))
	}

	users := make([]string, 0, len(c.Users))
	for u := range c.Users {
		users = append(users, u)
	}
	slices.Sort(users)
	for _, u := range users {
		if _, err := bcrypt.Cost([]byte(c.Users[u])); err != nil {
			bad("basic_auth_users", "user %q: password is not a bcrypt hash (make one with `wardentool hash-password`): %v", u, err)
		}
	}

	t := &c.TLSConfig
	if t.IsEnabled() {
		validateTLS(t, bad)
	}
	if len(problems) == 0 {
		// Anything else the toolkit itself would refuse (unknown cipher,
		// forbidden header) is refused here too, before listening.
		if err := web.Validate(path); err != nil {
			bad("web config", "%v", err)
		}
	}
	return errors.Join(problems...)
}

func validateTLS(t *web.TLSConfig, bad func(field, format string, args ...any)) {
	certPEM, certOK := readPEM(t.TLSCertPath, t.TLSCert, "cert_file", "cert", bad)
	keyPEM, keyOK := readPEM(t.TLSKeyPath, string(t.TLSKey), "key_file", "key", bad)
	if certOK && keyOK {
		if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
			bad("cert_file/key_file", "%s and %s do not form a valid pair: %v", orInline(t.TLSCertPath), orInline(t.TLSKeyPath), err)
		}
	}

	hasCA := t.ClientCAs != "" || t.ClientCAsText != ""
	if hasCA {
		if caPEM, ok := readPEM(t.ClientCAs, t.ClientCAsText, "client_ca_file", "client_ca", bad); ok {
			if n := countCerts(caPEM); n == 0 {
				bad("client_ca_file", "%s holds no PEM certificate", orInline(t.ClientCAs))
			}
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

// readPEM returns the content of path, or inline when path is empty.
func readPEM(path, inline, pathField, inlineField string, bad func(field, format string, args ...any)) ([]byte, bool) {
	switch {
	case path != "":
		b, err := os.ReadFile(path)
		if err != nil {
			bad(pathField, "%v", err)
			return nil, false
		}
		return b, true
	case inline != "":
		return []byte(inline), true
	default:
		bad(pathField, "missing: TLS needs one of %s or %s", pathField, inlineField)
		return nil, false
	}
}

func countCerts(b []byte) int {
	n := 0
	for {
		var block *pem.Block
		block, b = pem.Decode(bytes.TrimSpace(b))
		if block == nil {
			return n
		}
		if block.Type == "CERTIFICATE" {
			if _, err := x509.ParseCertificate(block.Bytes); err == nil {
				n++
			}
		}
	}
}

func orInline(path string) string {
	if path == "" {
		return "(inline)"
	}
	return path
}
