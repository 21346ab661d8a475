package webconf

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"
)

// passwords checks basic credentials and bounds what failed logins cost.
// Credentials that passed bcrypt are cached, keyed by an HMAC with a
// per-process key, so that a scrape with known credentials costs no
// bcrypt and is never rate limited; only new credentials spend a token of
// their source's limiter and, once a check from that source has failed,
// of the global one.
type passwords struct {
	cacheKey []byte
	// gate lets one bcrypt check run at a time, so that guessing takes at
	// most one CPU from scrapes and TLS handshakes, however many clients
	// guess; checks for sources that have not failed go first.
	gate *gate

	mu       sync.Mutex
	verified map[[sha256.Size]byte]struct{}
	// checking holds the bcrypt checks in flight, so that clients sending
	// the same credentials at once (Prometheus replicas after a restart)
	// wait for one check instead of each spending a limiter token.
	checking map[[sha256.Size]byte]*check
	sources  map[string]*sourceLimiter
	// nextSweep is when a full sources map may next be swept of sources
	// not seen for a minute: at most once a second, not once per new
	// source under a flood.
	nextSweep time.Time
	// global bounds the checks of sources whose checks failed before;
	// those that have not failed are bounded by the gate alone, so that
	// guesses (which fail) cannot use up their budget. An attacker gets
	// one such check per address it controls.
	global *rate.Limiter
	limits FailedAuth
}

// check is one bcrypt comparison that others may wait for.
type check struct {
	done   chan struct{}
	result basicResult
}

type sourceLimiter struct {
	limiter  *rate.Limiter
	lastSeen time.Time
	// failed: a check from this source failed (wrong password, unknown user).
	failed bool
	// checking: the source's clean check is in flight. Until it is known
	// to pass, the source's other checks count as from a source that
	// failed: one address gets one clean check, not a burst of them.
	checking bool
}

const (
	maxVerified = 4096
	maxSources  = 65536
)

func newPasswords() *passwords {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic("crypto/rand failed: " + err.Error()) // cannot happen on Linux
	}
	return &passwords{
		cacheKey: key,
		gate:     &gate{},
		verified: map[[sha256.Size]byte]struct{}{},
		checking: map[[sha256.Size]byte]*check{},
		sources:  map[string]*sourceLimiter{},
	}
}

// setLimits applies the limits of a (re)load. The verified credentials
// stay: an entry is keyed by user, hash and password, so that one whose
// user or hash changed simply never matches again, while Prometheus's
// unchanged credentials need no new bcrypt check after a reload, when an
// attacker would otherwise find the budget cold. The limiters stay too,
// unless the limits changed.
func (p *passwords) setLimits(limits FailedAuth) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.global != nil && limits == p.limits {
		return
	}
	p.limits = limits
	p.global = rate.NewLimiter(rate.Limit(limits.GlobalPerSecond), max(1, int(limits.GlobalPerSecond)))
	p.sources = map[string]*sourceLimiter{}
}

// check returns what user and pass are against the users of s, source
// being the client's address for the failed-login limits.
func (p *passwords) check(ctx context.Context, s *state, source, user, pass string) basicResult {
	hash, known := s.users[user]
	mac := hmac.New(sha256.New, p.cacheKey)
	mac.Write([]byte(user))
	mac.Write([]byte{0})
	mac.Write(hash)
	mac.Write([]byte{0})
	mac.Write([]byte(pass))
	var key [sha256.Size]byte
	mac.Sum(key[:0])

	p.mu.Lock()
	if _, cached := p.verified[key]; cached {
		p.mu.Unlock()
		return basicRight
	}
	if c, ok := p.checking[key]; ok {
		p.mu.Unlock()
		<-c.done
		return c.result
	}
	sl, clean, ok := p.allowAttempt(limitedSource(source))
	if !ok {
		p.mu.Unlock()
		return basicRateLimited
	}
	c := &check{done: make(chan struct{})}
	p.checking[key] = c
	p.mu.Unlock()

	if !known {
		hash = s.decoy
	}
	var err error
	if p.gate.acquire(ctx, clean) {
		err = bcrypt.CompareHashAndPassword(hash, []byte(pass))
		p.gate.release()
	} else {
		// The client left while its check waited, or too many wait: no
		// CPU for it.
		err = errGateClosed
	}
	switch {
	case errors.Is(err, errGateClosed):
		c.result = basicRateLimited
	case !known:
		c.result = basicUnknownUser
	case err != nil:
		c.result = basicWrong
	default:
		c.result = basicRight
	}
	p.mu.Lock()
	delete(p.checking, key)
	// The source's own limiter, even if a reload has since replaced the
	// map: looked up again, it could be a newer one, whose clean check
	// this would end.
	if sl != nil {
		if c.result == basicWrong || c.result == basicUnknownUser {
			sl.failed = true
		}
		if clean {
			sl.checking = false
		}
	}
	if c.result == basicRight {
		if len(p.verified) >= maxVerified {
			clear(p.verified)
		}
		p.verified[key] = struct{}{}
	}
	p.mu.Unlock()
	close(c.done)
	return c.result
}

// limitedSource is the source that failed logins are counted against:
// the address, or for IPv6 its /64, which one host commonly holds whole
// (as fail2ban and most rate limiters count them). Otherwise a guesser
// with a /64 would be ever new sources, each with a clean check.
func limitedSource(source string) string {
	a, err := netip.ParseAddr(source)
	if err != nil || !a.Is6() || a.Is4In6() {
		return source
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}

// allowAttempt takes a token from the source's limiter and, for a source
// whose checks failed before or has a clean check in flight, from the
// global one. It reports whether the attempt is clean: the source's only
// check in flight, and no failure yet; and returns the source's limiter,
// nil for a source not kept. The caller holds p.mu.
func (p *passwords) allowAttempt(source string) (sl *sourceLimiter, clean, ok bool) {
	now := time.Now()
	sl, found := p.sources[source]
	if !found {
		if len(p.sources) >= maxSources && now.After(p.nextSweep) {
			for k, v := range p.sources {
				if now.Sub(v.lastSeen) > time.Minute && !v.checking {
					delete(p.sources, k)
				}
			}
			p.nextSweep = now.Add(time.Second)
		}
		if len(p.sources) >= maxSources {
			// Full of sources seen within the minute: a flood from many
			// addresses. A new one is not kept, and its check counts as
			// from a source that failed.
			return nil, false, p.global.AllowN(now, 1)
		}
		perMinute := p.limits.PerSourcePerMinute
		sl = &sourceLimiter{limiter: rate.NewLimiter(rate.Limit(perMinute/60), max(1, int(perMinute)))}
		p.sources[source] = sl
	}
	sl.lastSeen = now
	// Check the source first: one source's guesses must not use up the
	// global budget that others need.
	if !sl.limiter.AllowN(now, 1) {
		return sl, false, false
	}
	if !sl.failed && !sl.checking {
		sl.checking = true
		return sl, true, true
	}
	return sl, false, p.global.AllowN(now, 1)
}

// errGateClosed: a check was given up before it ran.
var errGateClosed = errors.New("check not run")

// maxWaiting bounds the checks waiting at the gate, per kind.
const maxWaiting = 64

// gate runs one check at a time. Waiting checks of clean sources go
// before those of sources that failed, and among clean ones the newest
// goes first (a client that gave up and came back, as Prometheus does at
// each scrape, is not queued behind a crowd of stale first attempts).
type gate struct {
	mu           sync.Mutex
	busy         bool
	clean, dirty []*waiter
}

// waiter is one check at the gate: ready is closed when it is let in
// (ok) or turned away.
type waiter struct {
	ready chan struct{}
	ok    bool
}

// acquire waits for the gate until ctx ends; false means the check must
// not run.
func (g *gate) acquire(ctx context.Context, clean bool) bool {
	g.mu.Lock()
	if !g.busy {
		g.busy = true
		g.mu.Unlock()
		return true
	}
	q := &g.dirty
	if clean {
		q = &g.clean
	}
	if len(*q) >= maxWaiting {
		if !clean {
			g.mu.Unlock()
			return false
		}
		close((*q)[0].ready) // the oldest clean waiter gives way
		*q = (*q)[1:]
	}
	w := &waiter{ready: make(chan struct{})}
	*q = append(*q, w)
	g.mu.Unlock()
	select {
	case <-w.ready:
	case <-ctx.Done():
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if i := slices.Index(*q, w); i >= 0 { // ctx ended while waiting
		*q = slices.Delete(*q, i, i+1)
		return false
	}
	if w.ok && ctx.Err() != nil { // let in as the client left: pass it on
		g.releaseLocked()
		return false
	}
	return w.ok
}

func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.releaseLocked()
}

func (g *gate) releaseLocked() {
	var next *waiter
	switch {
	case len(g.clean) > 0: // newest first
		next = g.clean[len(g.clean)-1]
		g.clean = g.clean[:len(g.clean)-1]
	case len(g.dirty) > 0: // oldest first
		next = g.dirty[0]
		g.dirty = g.dirty[1:]
	default:
		g.busy = false
		return
	}
	next.ok = true
	close(next.ready)
}
