package webconf

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/exporter-toolkit/web"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"
)

// state is one consistent view of the web config and the auth file. A
// reload builds a new one completely before it replaces the old.
type state struct {
	web  *web.Config
	auth *AuthConfig
	// tls is nil when TLS is off.
	tls *tls.Config
	// users maps basic-auth users to their bcrypt hashes.
	users map[string][]byte
	// decoy is checked for unknown users, at the cost of the real hashes,
	// so that unknown users and wrong passwords take the same time.
	decoy []byte
	// tokens maps sha256 digests of bearer tokens to their names.
	tokens []token
	// limiter is exporter-toolkit's rate_limit, applied before anything else.
	limiter *rate.Limiter
	// certs are the serving certificate and client CAs, for expiry metrics.
	certs []certInfo
	// secure reports whether TLS and some authentication are both on.
	secure bool
	// files are what a reload watches.
	files []fileStamp
}

type token struct {
	digest [sha256.Size]byte
	name   string
}

type certInfo struct {
	file     string
	subject  string
	notAfter time.Time
}

// fileStamp tells whether a file changed since it was read.
type fileStamp struct {
	path    string
	modTime time.Time
	size    int64
	exists  bool
}

func stamp(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{path: path}
	}
	return fileStamp{path: path, modTime: fi.ModTime(), size: fi.Size(), exists: true}
}

func (s *state) changed() bool {
	for _, f := range s.files {
		if stamp(f.path) != f {
			return true
		}
	}
	return false
}

// loadState reads and checks both files.
func loadState(webPath, authPath string) (*state, error) {
	s := &state{}
	for _, p := range []string{webPath, authPath} {
		if p != "" {
			s.files = append(s.files, stamp(p))
		}
	}
	s.web = &web.Config{}
	if webPath != "" {
		c, err := Load(webPath)
		if err != nil {
			return nil, err
		}
		if err := checkConfig(webPath, c); err != nil {
			return nil, err
		}
		s.web = c
	}
	auth, err := LoadAuthFile(authPath)
	if err != nil {
		return nil, err
	}
	s.auth = auth

	if s.web.TLSConfig.IsEnabled() {
		cfg, err := web.ConfigToTLSConfig(&s.web.TLSConfig)
		if err != nil {
			return nil, fmt.Errorf("web config %s: %w", webPath, err)
		}
		if s.web.HTTPConfig.HTTP2 {
			cfg.NextProtos = []string{"h2", "http/1.1"}
		} else {
			cfg.NextProtos = []string{"http/1.1"}
		}
		s.tls = cfg
		s.certs, err = certInfos(&s.web.TLSConfig)
		if err != nil {
			return nil, fmt.Errorf("web config %s: %w", webPath, err)
		}
	}

	s.users = make(map[string][]byte, len(s.web.Users))
	cost := bcrypt.MinCost
	for u, h := range s.web.Users {
		s.users[u] = []byte(h)
		if c, err := bcrypt.Cost([]byte(h)); err == nil && c > cost {
			cost = c
		}
	}
	if len(s.users) > 0 {
		s.decoy, err = bcrypt.GenerateFromPassword([]byte("warden decoy password"), cost)
		if err != nil {
			return nil, fmt.Errorf("decoy hash: %w", err)
		}
	}
	for name, h := range auth.BearerTokens {
		var t token
		if _, err := hex.Decode(t.digest[:], []byte(h[len(tokenHashPrefix):])); err != nil {
			return nil, fmt.Errorf("auth file %s: bearer_tokens: %s: %w", authPath, name, err)
		}
		t.name = name
		s.tokens = append(s.tokens, t)
	}
	if rl := s.web.RateLimiterConfig; rl.Interval != 0 {
		s.limiter = rate.NewLimiter(rate.Every(rl.Interval), rl.Burst)
	}

	verifiesClients := s.tls != nil && s.tls.ClientAuth == tls.RequireAndVerifyClientCert
	s.secure = s.tls != nil && (len(s.users) > 0 || len(s.tokens) > 0 || verifiesClients)
	return s, nil
}

// tokenName returns the name of the bearer token, comparing against every
// stored digest in constant time.
func (s *state) tokenName(tok string) (string, bool) {
	digest := sha256.Sum256([]byte(tok))
	name, found := "", 0
	for _, t := range s.tokens {
		if subtle.ConstantTimeCompare(digest[:], t.digest[:]) == 1 {
			name, found = t.name, 1
		}
	}
	return name, found == 1
}

// certInfos reads the serving certificate and the client CAs.
func certInfos(t *web.TLSConfig) ([]certInfo, error) {
	var out []certInfo
	add := func(file string, data []byte, onlyFirst bool) error {
		for {
			var block *pem.Block
			block, data = pem.Decode(data)
			if block == nil {
				return nil
			}
			if block.Type != "CERTIFICATE" {
				continue
			}
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			out = append(out, certInfo{file: file, subject: c.Subject.String(), notAfter: c.NotAfter})
			if onlyFirst {
				return nil
			}
		}
	}
	read := func(path, inline string) (string, []byte, error) {
		if path == "" {
			return "(inline)", []byte(inline), nil
		}
		b, err := os.ReadFile(path)
		return path, b, err
	}
	file, data, err := read(t.TLSCertPath, t.TLSCert)
	if err != nil {
		return nil, err
	}
	if err := add(file, data, true); err != nil {
		return nil, err
	}
	if t.ClientCAs != "" || t.ClientCAsText != "" {
		file, data, err := read(t.ClientCAs, t.ClientCAsText)
		if err != nil {
			return nil, err
		}
		if err := add(file, data, false); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no certificate found")
	}
	return out, nil
}
