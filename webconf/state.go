package webconf

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/exporter-toolkit/web"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"
)

// state is one consistent view of the web config, the files it names and
// the auth file. A reload builds a new one completely before it replaces
// the old.
type state struct {
	web  *web.Config
	auth *AuthConfig
	// policy is what the configuration requires of a request (decide).
	policy policy
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
	files []fileSum
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

// fileSum is what a file held when it was read: change detection compares
// content, not (mtime, size), which a same-size rewrite can keep.
type fileSum struct {
	path   string
	sum    [sha256.Size]byte
	exists bool
}

func sumOf(path string, content []byte) fileSum {
	return fileSum{path: path, sum: sha256.Sum256(content), exists: true}
}

// sums reads the files again.
func (s *state) sums() []fileSum {
	out := make([]fileSum, len(s.files))
	for i, f := range s.files {
		b, err := readFile(f.path)
		if err != nil {
			out[i] = fileSum{path: f.path}
			continue
		}
		out[i] = sumOf(f.path, b)
	}
	return out
}

// loadOptions are what a load needs besides the file names.
type loadOptions struct {
	// collectorLimits: the handler enforces rules' collectors:.
	collectorLimits bool
}

// loadState reads and checks the web config, the files it names and the
// auth file, each once.
func loadState(webPath, authPath string, opts loadOptions) (*state, error) {
	s := &state{web: &web.Config{}}
	if webPath != "" {
		w, err := readWebConfig(webPath)
		if err != nil {
			return nil, err
		}
		s.web = w.cfg
		s.files = w.files
		if s.tls, s.certs, err = newTLSConfig(w); err != nil {
			return nil, err
		}
	}
	auth, content, err := loadAuthFile(authPath)
	if err != nil {
		return nil, err
	}
	if authPath != "" {
		s.files = append(s.files, sumOf(authPath, content))
	}
	if !opts.collectorLimits {
		if err := auth.refuseCollectorLimits(authPath); err != nil {
			return nil, err
		}
	}
	s.auth = auth
	if err := s.loadCredentials(authPath); err != nil {
		return nil, err
	}
	if rl := s.web.RateLimiterConfig; rl.Interval != 0 {
		s.limiter = rate.NewLimiter(rate.Every(rl.Interval), rl.Burst)
	}
	requiresCert := s.tls != nil && (s.web.TLSConfig.ClientAuth == requireAndVerifyClientCert ||
		s.web.TLSConfig.ClientAuth == requireAnyClientCert || s.web.TLSConfig.ClientAuth == requireClientCert)
	s.policy = policy{clientCert: requiresCert, users: len(s.users) > 0, tokens: len(s.tokens) > 0, auth: auth}
	verifiesClients := s.tls != nil && s.web.TLSConfig.ClientAuth == requireAndVerifyClientCert
	s.secure = s.tls != nil && (len(s.users) > 0 || len(s.tokens) > 0 || verifiesClients)
	return s, nil
}

// loadCredentials takes the basic-auth users of the web config and the
// bearer tokens of the auth file.
func (s *state) loadCredentials(authPath string) error {
	s.users = make(map[string][]byte, len(s.web.Users))
	cost := bcrypt.MinCost
	for u, h := range s.web.Users {
		s.users[u] = []byte(h)
		if c, err := bcrypt.Cost([]byte(h)); err == nil && c > cost {
			cost = c
		}
	}
	if len(s.users) > 0 {
		var err error
		if s.decoy, err = bcrypt.GenerateFromPassword([]byte("warden decoy password"), cost); err != nil {
			return fmt.Errorf("decoy hash: %w", err)
		}
	}
	for name, h := range s.auth.BearerTokens {
		var t token
		if _, err := hex.Decode(t.digest[:], []byte(h[len(tokenHashPrefix):])); err != nil {
			return fmt.Errorf("auth file %s: bearer_tokens: %s: %w", authPath, name, err)
		}
		t.name = name
		s.tokens = append(s.tokens, t)
	}
	return nil
}

// newTLSConfig builds the tls.Config of w from the PEM contents read with
// it (the toolkit's ConfigToTLSConfig, given them inline, so that no file
// is read again), or nil when TLS is off. The serving certificate is
// parsed once here instead of on every handshake; a new one comes with a
// reload. It also returns the certificates whose expiry is exported.
func newTLSConfig(w *webConfig) (*tls.Config, []certInfo, error) {
	t := w.cfg.TLSConfig
	if !t.IsEnabled() {
		return nil, nil, nil
	}
	inline := t
	inline.TLSCertPath, inline.TLSKeyPath, inline.ClientCAs = "", "", ""
	inline.TLSCert, inline.TLSKey, inline.ClientCAsText = string(w.cert), config.Secret(w.key), string(w.ca)
	cfg, err := web.ConfigToTLSConfig(&inline)
	if err != nil {
		return nil, nil, fmt.Errorf("web config %s: %w", w.path, err)
	}
	pair, err := tls.X509KeyPair(w.cert, w.key)
	if err == nil && pair.Leaf == nil {
		pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0])
	}
	if err != nil {
		return nil, nil, fmt.Errorf("web config %s: %w", w.path, err)
	}
	cfg.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &pair, nil }
	if w.cfg.HTTPConfig.HTTP2 {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	} else {
		cfg.NextProtos = []string{"http/1.1"}
	}
	typedClientAuth(cfg)

	certs := []certInfo{{file: orInline(t.TLSCertPath), subject: pair.Leaf.Subject.String(), notAfter: pair.Leaf.NotAfter}}
	if w.ca != nil {
		cas, err := parseCerts(w.ca)
		if err != nil {
			return nil, nil, fmt.Errorf("web config %s: client_ca_file: %w", w.path, err)
		}
		for _, c := range cas {
			ci := certInfo{file: orInline(t.ClientCAs), subject: c.Subject.String(), notAfter: c.NotAfter}
			// Two CAs of one subject in a bundle (a rollover) would be one
			// series twice: the one that expires first is the one to watch.
			if i := slices.IndexFunc(certs, func(o certInfo) bool { return o.file == ci.file && o.subject == ci.subject }); i >= 0 {
				certs[i].notAfter = minTime(certs[i].notAfter, ci.notAfter)
				continue
			}
			certs = append(certs, ci)
		}
	}
	return cfg, certs, nil
}

// errNoClientCertificate is the handshake error of a client that sent no
// certificate where one is required.
var errNoClientCertificate = errors.New("client sent no certificate")

// sanNotAllowedError is the handshake error of a verified client
// certificate without any of client_allowed_sans.
type sanNotAllowedError struct{ err error }

func (e sanNotAllowedError) Error() string { return e.err.Error() }
func (e sanNotAllowedError) Unwrap() error { return e.err }

// typedClientAuth makes every client-certificate refusal of cfg a typed
// error that tlsReason can name, and makes the checks hold on resumed
// sessions too. Go reports a missing required certificate only as text,
// so a required certificate is asked for as "if given" (Go still
// verifies any certificate sent, with typed errors) and its absence
// refused in VerifyConnection, which Go calls on every handshake, resumed
// ones included. exporter-toolkit's client_allowed_sans check moves there
// from VerifyPeerCertificate, which Go skips on resumption: a client
// whose name a reload removed from the list could otherwise come back in
// with a session ticket from before it. decide refuses a request without
// a verified certificate as well, so the requirement does not rest on
// this hook alone.
func typedClientAuth(cfg *tls.Config) {
	required := false
	switch cfg.ClientAuth {
	case tls.RequireAndVerifyClientCert:
		cfg.ClientAuth, required = tls.VerifyClientCertIfGiven, true
	case tls.RequireAnyClientCert:
		cfg.ClientAuth, required = tls.RequestClientCert, true
	}
	verify := cfg.VerifyPeerCertificate
	cfg.VerifyPeerCertificate = nil
	if verify == nil && !required {
		return
	}
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			if required {
				return errNoClientCertificate
			}
			return nil
		}
		if verify == nil {
			return nil
		}
		raw := make([][]byte, len(cs.PeerCertificates))
		for i, c := range cs.PeerCertificates {
			raw[i] = c.Raw
		}
		if err := verify(raw, cs.VerifiedChains); err != nil {
			return sanNotAllowedError{err}
		}
		return nil
	}
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

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
