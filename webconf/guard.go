package webconf

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"
)

// Refusal reasons: the reason label of warden_http_requests_refused_total,
// and the text the audit line gives for each.
var refusalText = map[string]string{
	"no_credentials":               "no credentials",
	"unknown_user":                 "unknown user",
	"wrong_password":               "wrong password",
	"token_not_recognised":         "token not recognised",
	"forbidden_path":               "forbidden path",
	"rate_limited":                 "too many new credentials, not checked",
	"tls_no_client_certificate":    "no client certificate",
	"tls_unknown_authority":        "client certificate signed by unknown authority",
	"tls_certificate_expired":      "client certificate expired or not yet valid",
	"tls_san_not_allowed":          "client certificate has no allowed SAN",
	"tls_bad_certificate":          "client certificate rejected",
	"tls_plain_http":               "plain HTTP request to the TLS port",
	"tls_handshake_failed":         "TLS handshake failed",
	"tls_client_rejected_our_cert": "client rejected the server certificate",
}

// Identity is who a request authenticated as.
type Identity struct {
	// Names are the request's identities: "user:NAME", "token:NAME",
	// "cert:NAME" for each SAN and the CN of a verified client certificate.
	Names []string
	// Collectors limits what a scrape may collect; nil means no limit.
	Collectors []string
}

type identityKey struct{}

// IdentityFrom returns the identity the security layer put on a request's
// context, if any (public paths and unauthenticated servers have none).
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// guard authenticates and authorizes every request before the handler,
// logs and counts each refusal, and bounds what failed logins cost.
type guard struct {
	next   http.Handler
	logger *slog.Logger
	state  atomic.Pointer[state]

	// verified caches credentials that passed bcrypt, keyed by an HMAC
	// with a per-process key, so that a scrape with known credentials
	// costs no bcrypt and is never rate limited.
	cacheKey []byte
	mu       sync.Mutex
	verified map[[sha256.Size]byte]struct{}
	// checking holds the bcrypt checks in flight, so that clients sending
	// the same credentials at once (Prometheus replicas after a restart)
	// wait for one check instead of each spending a limiter token.
	checking map[[sha256.Size]byte]*check
	sources  map[string]*sourceLimiter
	global   *rate.Limiter
	limits   FailedAuth

	// auditLimit bounds audit lines, so that a flood of refusals cannot
	// turn logging into the attack; suppressed lines are counted and
	// reported in the next line that is written.
	auditLimit *rate.Limiter
	suppressed atomic.Int64

	refused   *prometheus.CounterVec
	succeeded *prometheus.CounterVec
	reloadOK  prometheus.Gauge
	reloadAt  prometheus.Gauge
	expiry    *prometheus.Desc
}

// check is one bcrypt comparison that others may wait for.
type check struct {
	done   chan struct{}
	reason string
	status int
}

type sourceLimiter struct {
	limiter  *rate.Limiter
	lastSeen time.Time
}

const (
	maxVerified = 4096
	maxSources  = 65536
	// limitedDelay holds a rate-limited answer back, so that a guessing
	// client waits instead of spending the exporter's CPU on refusals.
	limitedDelay = time.Second
	// auditPerSecond and auditBurst bound the audit lines written.
	auditPerSecond = 20
	auditBurst     = 100
)

func newGuard(next http.Handler, logger *slog.Logger, s *state) *guard {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic("crypto/rand failed: " + err.Error()) // cannot happen on Linux
	}
	g := &guard{
		next:       next,
		logger:     logger,
		cacheKey:   key,
		verified:   map[[sha256.Size]byte]struct{}{},
		checking:   map[[sha256.Size]byte]*check{},
		sources:    map[string]*sourceLimiter{},
		auditLimit: rate.NewLimiter(auditPerSecond, auditBurst),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warden_http_requests_refused_total",
			Help: "Requests refused by Warden's security layer, by reason.",
		}, []string{"reason"}),
		succeeded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warden_http_auth_success_total",
			Help: "Requests authenticated, by method (basic, bearer, cert).",
		}, []string{"method"}),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "warden_config_last_reload_successful",
			Help: "Whether the last reload of the web config and auth file succeeded.",
		}),
		reloadAt: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "warden_config_last_reload_success_timestamp_seconds",
			Help: "Time of the last successful load of the web config and auth file.",
		}),
		expiry: prometheus.NewDesc("warden_tls_certificate_expiry_timestamp_seconds",
			"Time after which a certificate of the web config (serving certificate, client CA) is no longer valid.",
			[]string{"file", "subject"}, nil),
	}
	for reason := range refusalText {
		g.refused.WithLabelValues(reason)
	}
	for _, m := range []string{"basic", "bearer", "cert"} {
		g.succeeded.WithLabelValues(m)
	}
	g.install(s)
	return g
}

// install makes s the state in force.
func (g *guard) install(s *state) {
	g.mu.Lock()
	g.limits = s.auth.FailedAuth
	g.global = rate.NewLimiter(rate.Limit(s.auth.FailedAuth.GlobalPerSecond), max(1, int(s.auth.FailedAuth.GlobalPerSecond)))
	g.sources = map[string]*sourceLimiter{}
	g.verified = map[[sha256.Size]byte]struct{}{}
	g.mu.Unlock()
	g.state.Store(s)
	g.reloadOK.Set(1)
	g.reloadAt.SetToCurrentTime()
}

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := g.state.Load()
	for k, v := range s.web.HTTPConfig.Header {
		w.Header().Set(k, v)
	}
	if s.limiter != nil && !s.limiter.Allow() {
		g.refuse(w, r, nil, "rate_limited", http.StatusTooManyRequests)
		return
	}
	if s.auth.isPublic(r.URL.Path) {
		g.next.ServeHTTP(w, r)
		return
	}

	var ids []string
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		leaf := r.TLS.VerifiedChains[0][0]
		names := append(append([]string{}, leaf.DNSNames...), leaf.EmailAddresses...)
		for _, ip := range leaf.IPAddresses {
			names = append(names, ip.String())
		}
		for _, u := range leaf.URIs {
			names = append(names, u.String())
		}
		if leaf.Subject.CommonName != "" {
			names = append(names, leaf.Subject.CommonName)
		}
		slices.Sort(names)
		for _, n := range slices.Compact(names) {
			ids = append(ids, "cert:"+n)
		}
		g.succeeded.WithLabelValues("cert").Inc()
	}

	needCredentials := len(s.users) > 0 || len(s.tokens) > 0
	authz := r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(authz, " ")
	switch {
	case strings.EqualFold(scheme, "Basic") && len(s.users) > 0:
		user, pass, ok := r.BasicAuth()
		if !ok {
			g.refuse(w, r, ids, "no_credentials", http.StatusUnauthorized)
			return
		}
		if reason, status := g.checkPassword(s, r, user, pass); reason != "" {
			g.refuse(w, r, append(ids, "user:"+user), reason, status)
			return
		}
		ids = append(ids, "user:"+user)
		g.succeeded.WithLabelValues("basic").Inc()
	case strings.EqualFold(scheme, "Bearer") && len(s.tokens) > 0:
		name, ok := s.tokenName(strings.TrimSpace(cred))
		if !ok {
			g.refuse(w, r, ids, "token_not_recognised", http.StatusUnauthorized)
			return
		}
		ids = append(ids, "token:"+name)
		g.succeeded.WithLabelValues("bearer").Inc()
	case needCredentials:
		// A verified client certificate is enough only where the auth
		// file's rules say so; without an auth file, as in
		// exporter-toolkit, basic_auth_users means a password is required.
		if len(ids) == 0 || len(s.auth.Rules) == 0 {
			g.refuse(w, r, ids, "no_credentials", http.StatusUnauthorized)
			return
		}
	}

	if len(ids) == 0 && len(s.auth.Rules) > 0 {
		g.refuse(w, r, ids, "no_credentials", http.StatusUnauthorized)
		return
	}
	id := Identity{Names: ids}
	if len(ids) > 0 {
		rule, ok := s.auth.authorize(ids, r.URL.Path)
		if !ok {
			g.refuse(w, r, ids, "forbidden_path", http.StatusForbidden)
			return
		}
		if rule != nil {
			id.Collectors = rule.Collectors
		}
	}
	g.next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
}

// checkPassword returns "" when the password is right, or the refusal.
func (g *guard) checkPassword(s *state, r *http.Request, user, pass string) (string, int) {
	hash, known := s.users[user]
	mac := hmac.New(sha256.New, g.cacheKey)
	mac.Write([]byte(user))
	mac.Write([]byte{0})
	mac.Write(hash)
	mac.Write([]byte{0})
	mac.Write([]byte(pass))
	var key [sha256.Size]byte
	mac.Sum(key[:0])

	g.mu.Lock()
	if _, cached := g.verified[key]; cached {
		g.mu.Unlock()
		return "", 0
	}
	if c, ok := g.checking[key]; ok {
		g.mu.Unlock()
		<-c.done
		return c.reason, c.status
	}
	if !g.allowAttempt(sourceOf(r)) {
		g.mu.Unlock()
		return "rate_limited", http.StatusTooManyRequests
	}
	c := &check{done: make(chan struct{})}
	g.checking[key] = c
	g.mu.Unlock()

	if !known {
		hash = s.decoy
	}
	err := bcrypt.CompareHashAndPassword(hash, []byte(pass))
	switch {
	case !known:
		c.reason, c.status = "unknown_user", http.StatusUnauthorized
	case err != nil:
		c.reason, c.status = "wrong_password", http.StatusUnauthorized
	}
	g.mu.Lock()
	delete(g.checking, key)
	if c.reason == "" {
		if len(g.verified) >= maxVerified {
			clear(g.verified)
		}
		g.verified[key] = struct{}{}
	}
	g.mu.Unlock()
	close(c.done)
	return c.reason, c.status
}

// allowAttempt takes a token from the source's and the global limiter.
// The caller holds g.mu.
func (g *guard) allowAttempt(source string) bool {
	now := time.Now()
	sl, ok := g.sources[source]
	if !ok {
		if len(g.sources) >= maxSources {
			for k, v := range g.sources {
				if now.Sub(v.lastSeen) > time.Minute {
					delete(g.sources, k)
				}
			}
		}
		perMinute := g.limits.PerSourcePerMinute
		sl = &sourceLimiter{limiter: rate.NewLimiter(rate.Limit(perMinute/60), max(1, int(perMinute)))}
		g.sources[source] = sl
	}
	sl.lastSeen = now
	// Check the source first: one source's guesses must not use up the
	// global budget that others need.
	if !sl.limiter.AllowN(now, 1) {
		return false
	}
	return g.global.AllowN(now, 1)
}

func sourceOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (g *guard) refuse(w http.ResponseWriter, r *http.Request, ids []string, reason string, status int) {
	g.refused.WithLabelValues(reason).Inc()
	g.audit("remote_addr", r.RemoteAddr,
		"identity", strings.Join(ids, ","),
		"method", r.Method,
		"path", r.URL.Path,
		"reason", refusalText[reason],
		"status", status)
	if status == http.StatusTooManyRequests {
		select {
		case <-time.After(limitedDelay):
		case <-r.Context().Done():
		}
	}
	if status == http.StatusUnauthorized {
		s := g.state.Load()
		if len(s.users) > 0 {
			w.Header().Add("WWW-Authenticate", `Basic realm="warden"`)
		}
		if len(s.tokens) > 0 {
			w.Header().Add("WWW-Authenticate", `Bearer realm="warden"`)
		}
	}
	http.Error(w, http.StatusText(status), status)
}

// audit writes one refusal line, unless refusals come faster than the
// audit budget; then they are counted and the count is added to the next
// line written.
func (g *guard) audit(args ...any) {
	if !g.auditLimit.Allow() {
		g.suppressed.Add(1)
		return
	}
	if n := g.suppressed.Swap(0); n > 0 {
		args = append(args, "suppressed_before", n)
	}
	g.logger.Warn("request refused", args...)
}

// Describe implements prometheus.Collector.
func (g *guard) Describe(ch chan<- *prometheus.Desc) {
	g.refused.Describe(ch)
	g.succeeded.Describe(ch)
	g.reloadOK.Describe(ch)
	g.reloadAt.Describe(ch)
	ch <- g.expiry
}

// Collect implements prometheus.Collector.
func (g *guard) Collect(ch chan<- prometheus.Metric) {
	g.refused.Collect(ch)
	g.succeeded.Collect(ch)
	g.reloadOK.Collect(ch)
	g.reloadAt.Collect(ch)
	for _, c := range g.state.Load().certs {
		ch <- prometheus.MustNewConstMetric(g.expiry, prometheus.GaugeValue, float64(c.notAfter.Unix()), c.file, c.subject)
	}
}

// handshakeReason names the cause of a TLS handshake failure that
// net/http reports only through its error log.
func handshakeReason(msg string) string {
	switch {
	case strings.Contains(msg, "client didn't provide a certificate"):
		return "tls_no_client_certificate"
	case strings.Contains(msg, "unknown authority"):
		return "tls_unknown_authority"
	case strings.Contains(msg, "expired or is not yet valid"):
		return "tls_certificate_expired"
	case strings.Contains(msg, "could not find allowed SANs"):
		return "tls_san_not_allowed"
	case strings.Contains(msg, "client sent an HTTP request to an HTTPS server"):
		return "tls_plain_http"
	case strings.Contains(msg, "remote error: tls: bad certificate"), strings.Contains(msg, "remote error: tls: unknown certificate authority"):
		return "tls_client_rejected_our_cert"
	case strings.Contains(msg, "failed to verify certificate"), strings.Contains(msg, "bad certificate"):
		return "tls_bad_certificate"
	}
	return "tls_handshake_failed"
}

// errorLogWriter receives net/http's error log: TLS handshake failures
// become audit lines and refusal counts; anything else is logged as is.
type errorLogWriter struct{ g *guard }

func (e errorLogWriter) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	rest, ok := strings.CutPrefix(msg, "http: TLS handshake error from ")
	if !ok {
		e.g.logger.Error("http server", "err", msg)
		return len(p), nil
	}
	addr, cause, _ := strings.Cut(rest, ": ")
	if cause == "EOF" || strings.HasSuffix(cause, "connection reset by peer") {
		// A port scan or health check that closed the connection.
		e.g.logger.Debug("TLS connection closed during handshake", "remote_addr", addr)
		return len(p), nil
	}
	reason := handshakeReason(cause)
	e.g.refused.WithLabelValues(reason).Inc()
	e.g.audit("remote_addr", addr, "identity", "", "reason", refusalText[reason], "err", cause)
	return len(p), nil
}
