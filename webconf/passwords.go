package webconf

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"
)

// passwords checks basic credentials and bounds what failed logins cost.
// Credentials that passed bcrypt are cached, keyed by an HMAC with a
// per-process key, so that a scrape with known credentials costs no
// bcrypt and is never rate limited; only new credentials spend a token of
// their source's and the global limiter.
type passwords struct {
	cacheKey []byte
	// bcrypts bounds the bcrypt checks that run at once to one, so that
	// guessing takes at most one CPU from scrapes and TLS handshakes,
	// whatever the number of guessing connections.
	bcrypts chan struct{}

	mu       sync.Mutex
	verified map[[sha256.Size]byte]struct{}
	// checking holds the bcrypt checks in flight, so that clients sending
	// the same credentials at once (Prometheus replicas after a restart)
	// wait for one check instead of each spending a limiter token.
	checking map[[sha256.Size]byte]*check
	sources  map[string]*sourceLimiter
	global   *rate.Limiter
	// clean is the budget of sources whose checks have not failed yet:
	// guesses (which fail) cannot use it up for them. Each source draws
	// on it until its first failure, so an attacker gets at most one clean
	// check per address it controls.
	clean  *rate.Limiter
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
		bcrypts:  make(chan struct{}, 1),
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
	p.clean = rate.NewLimiter(rate.Limit(cleanFactor*limits.GlobalPerSecond), max(1, int(cleanFactor*limits.GlobalPerSecond)))
	p.sources = map[string]*sourceLimiter{}
}

// cleanFactor sizes the clean budget against the global one: sources
// draw on it once each, so it may be larger.
const cleanFactor = 4

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
	if !p.allowAttempt(source) {
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
	select {
	case p.bcrypts <- struct{}{}:
		err = bcrypt.CompareHashAndPassword(hash, []byte(pass))
		<-p.bcrypts
	case <-ctx.Done():
		// The client left while its check waited: no CPU for it.
		err = ctx.Err()
	}
	switch {
	case errors.Is(err, ctx.Err()) && ctx.Err() != nil:
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
	if sl, ok := p.sources[source]; ok && (c.result == basicWrong || c.result == basicUnknownUser) {
		sl.failed = true
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

// allowAttempt takes a token from the source's and the global limiter.
// The caller holds p.mu.
func (p *passwords) allowAttempt(source string) bool {
	now := time.Now()
	sl, ok := p.sources[source]
	if !ok {
		if len(p.sources) >= maxSources {
			for k, v := range p.sources {
				if now.Sub(v.lastSeen) > time.Minute {
					delete(p.sources, k)
				}
			}
		}
		perMinute := p.limits.PerSourcePerMinute
		sl = &sourceLimiter{limiter: rate.NewLimiter(rate.Limit(perMinute/60), max(1, int(perMinute)))}
		p.sources[source] = sl
	}
	sl.lastSeen = now
	// Check the source first: one source's guesses must not use up the
	// global budget that others need.
	if !sl.limiter.AllowN(now, 1) {
		return false
	}
	if !sl.failed && p.clean.AllowN(now, 1) {
		return true
	}
	return p.global.AllowN(now, 1)
}
