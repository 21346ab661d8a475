package webconf

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Identity is who a request authenticated as.
type Identity struct {
	// Names are the request's identities: "user:NAME", "token:NAME", and
	// for a verified client certificate "cert:NAME" for each DNS SAN,
	// "cert:uri:URI", "cert:ip:IP", or "cert:CN" when it has no SAN.
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

// limitedDelay holds a rate-limited answer back, so that a guessing
// client waits instead of spending the exporter's CPU on refusals.
const limitedDelay = time.Second

// guard lets a request through to next only when decide says so: it
// gathers what the request presents, asks decide, and answers a refusal
// with an audit line and a count.
type guard struct {
	next      http.Handler
	state     *atomic.Pointer[state]
	passwords *passwords
	audit     *auditLog
	metrics   *securityMetrics
	// writeTimeout bounds writing a response without a scrape timeout.
	writeTimeout time.Duration
	share        *fairShare
}

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := g.state.Load()
	for k, v := range s.web.HTTPConfig.Header {
		w.Header().Set(k, v)
	}
	if s.limiter != nil && !s.limiter.Allow() {
		g.refuse(w, r, s, verdict{reason: ReasonRateLimited, status: http.StatusTooManyRequests})
		return
	}
	g.setWriteDeadline(w, r)
	if s.auth.isPublic(r.URL.Path) {
		if !g.share.acquire(sourceOf(r)) {
			g.refuse(w, r, s, verdict{reason: ReasonOverFairShare, status: http.StatusServiceUnavailable})
			return
		}
		defer g.share.release(sourceOf(r))
		g.next.ServeHTTP(w, r)
		return
	}
	v := decide(s.policy, g.present(s, r))
	if v.reason == "" {
		keys := []string{sourceOf(r), strings.Join(v.ids, ",")}
		if !g.share.acquire(keys...) {
			v = verdict{reason: ReasonOverFairShare, status: http.StatusServiceUnavailable, ids: v.ids}
		} else {
			defer g.share.release(keys...)
		}
	}
	if v.reason != "" {
		g.refuse(w, r, s, v)
		return
	}
	for _, m := range v.methods {
		g.metrics.succeeded.WithLabelValues(string(m)).Inc()
	}
	id := Identity{Names: v.ids}
	if v.rule != nil {
		id.Collectors = v.rule.Collectors
	}
	g.next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
}

// setWriteDeadline bounds writing the response to the scrape's timeout
// (X-Prometheus-Scrape-Timeout-Seconds, Prometheus gives up then anyway)
// or to writeTimeout, so that a client that stops reading cannot hold a
// handler, and its slot, for as long as its connection lives.
func (g *guard) setWriteDeadline(w http.ResponseWriter, r *http.Request) {
	d := g.writeTimeout
	if v := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 && secs < d.Seconds() {
			d = time.Duration(secs * float64(time.Second))
		}
	}
	// An error means the connection cannot take one (not HTTP/1 or 2):
	// the server's own timeouts still apply.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
}

// present gathers what r brings: the identities of its verified client
// certificate and its credentials, checked against s. A password is
// checked (bcrypt) only when the web config has users to check it against.
func (g *guard) present(s *state, r *http.Request) presented {
	c := presented{certNames: certNames(r), path: r.URL.Path}
	headers := r.Header.Values("Authorization")
	if c.headers = len(headers); c.headers > 1 {
		return c // refused unchecked: which one would count is ambiguous
	}
	for _, h := range headers {
		scheme, cred, _ := strings.Cut(h, " ")
		switch {
		case strings.EqualFold(scheme, "Basic"):
			c.basic = basicMalformed
			user, pass, ok := parseBasic(h)
			if !ok || !s.policy.users {
				continue
			}
			c.user = user
			c.basic = g.passwords.check(r.Context(), s, sourceOf(r), user, pass)
		case strings.EqualFold(scheme, "Bearer"):
			c.bearer = bearerUnknown
			if name, ok := s.tokenName(strings.TrimSpace(cred)); ok {
				c.bearer, c.tokenName = bearerKnown, name
			}
		}
	}
	return c
}

// parseBasic decodes one Basic Authorization header value.
func parseBasic(value string) (user, pass string, ok bool) {
	r := http.Request{Header: http.Header{"Authorization": {value}}}
	return r.BasicAuth()
}

// certNames returns the identities of the verified client certificate of
// r, sorted, or nil: "cert:NAME" for each DNS SAN, "cert:uri:URI" for each
// URI SAN and "cert:ip:IP" for each IP SAN, as client_allowed_sans
// checks SANs. The subject's CN counts ("cert:CN") only for a certificate
// without any SAN, so that a CN cannot claim a name its SANs do not give.
// E-mail SANs name no identity.
func certNames(r *http.Request) []string {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		return nil
	}
	leaf := r.TLS.VerifiedChains[0][0]
	var ids []string
	for _, n := range leaf.DNSNames {
		if !strings.Contains(n, ":") { // not a DNS name; would pass for uri: or ip:
			ids = append(ids, "cert:"+n)
		}
	}
	for _, u := range leaf.URIs {
		ids = append(ids, "cert:uri:"+u.String())
	}
	for _, ip := range leaf.IPAddresses {
		ids = append(ids, "cert:ip:"+ip.String())
	}
	hasSAN := len(ids) > 0 || len(leaf.EmailAddresses) > 0
	if cn := leaf.Subject.CommonName; !hasSAN && cn != "" && !strings.Contains(cn, ":") {
		ids = append(ids, "cert:"+cn)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

func sourceOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (g *guard) refuse(w http.ResponseWriter, r *http.Request, s *state, v verdict) {
	// A refused client does not keep its connection for the idle timeout
	// (HTTP/2: the connection is shut down gracefully).
	w.Header().Set("Connection", "close")
	g.metrics.refused.WithLabelValues(string(v.reason)).Inc()
	e := auditEntry{reason: v.reason, remote: r.RemoteAddr, source: sourceOf(r),
		args: []any{"identity", strings.Join(v.ids, ","), "method", r.Method, "path", r.URL.Path, "status", v.status}}
	for _, id := range v.ids { // decide put the user it checked among them
		if user, ok := strings.CutPrefix(id, "user:"); ok {
			if _, exists := s.users[user]; exists {
				e.user = user
			}
		}
	}
	g.audit.refused(e)
	if v.status == http.StatusTooManyRequests {
		select {
		case <-time.After(limitedDelay):
		case <-r.Context().Done():
		}
	}
	if v.status == http.StatusUnauthorized {
		if s.policy.users {
			w.Header().Add("WWW-Authenticate", `Basic realm="warden"`)
		}
		if s.policy.tokens {
			w.Header().Add("WWW-Authenticate", `Bearer realm="warden"`)
		}
	}
	http.Error(w, http.StatusText(v.status), v.status)
}

// errorLog receives net/http's error log. TLS handshakes no longer reach
// it (tlsListener does them), so what arrives is logged as it is.
type errorLog struct{ logger *slog.Logger }

func (e errorLog) Write(p []byte) (int, error) {
	e.logger.Error("http server", "err", strings.TrimSpace(string(p)))
	return len(p), nil
}

// fairShare counts each client's requests in flight, by source address
// and by identity, and keeps any one below a share of the handler's bound.
type fairShare struct {
	limit    int // 0: no limit
	mu       sync.Mutex
	inFlight map[string]int
}

func newFairShare(maxRequests int) *fairShare {
	f := &fairShare{inFlight: map[string]int{}}
	if maxRequests > 0 {
		f.limit = max(1, maxRequests/4)
	}
	return f
}

// acquire takes a place for every key, or none when one of them is full.
func (f *fairShare) acquire(keys ...string) bool {
	if f.limit == 0 {
		return true
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range keys {
		if k != "" && f.inFlight[k] >= f.limit {
			return false
		}
	}
	for _, k := range keys {
		if k != "" {
			f.inFlight[k]++
		}
	}
	return true
}

func (f *fairShare) release(keys ...string) {
	if f.limit == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range keys {
		if k == "" {
			continue
		}
		if f.inFlight[k]--; f.inFlight[k] <= 0 {
			delete(f.inFlight, k)
		}
	}
}
