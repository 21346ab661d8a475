package webconf

import (
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

const (
	// auditPerSecond and auditBurst bound the audit lines written one per
	// refusal; beyond them, refusals are merged (see auditLog).
	auditPerSecond = 20
	auditBurst     = 100
	// maxMerged bounds the merged entries by source; past it, refusals
	// are merged by user and reason alone (see auditLog).
	maxMerged = 10000
	// maxMergedLines bounds the lines one flush writes; the rest wait.
	maxMergedLines = 1000
)

// auditEntry is one refusal. It never holds a credential.
type auditEntry struct {
	reason Reason
	// remote is the client's address; source its host.
	remote, source string
	// user is the name of an existing basic-auth user the request tried,
	// or "". A name that is no user is attacker's text and not a key.
	user string
	// args are further slog key-value pairs for the single line.
	args []any
}

type auditKey struct {
	source, user string
	reason       Reason
}

type merged struct {
	count int64
	since time.Time
}

// auditLog writes one line per refusal within a budget, so that a flood
// of refusals cannot turn logging into the attack. Refusals over the
// budget are merged by (source, reason, user) into counts that a flush
// writes as "requests refused" lines with count and since. Past maxMerged
// distinct keys (an attacker with a /64 of IPv6 sources has plenty), they
// are merged by (reason, user) alone, written with source "(many)": a
// guess against an existing user is never reduced to an anonymous count,
// and the memory and the lines a flood costs stay bounded (users are the
// configured ones, reasons a fixed set).
type auditLog struct {
	logger *slog.Logger
	limit  *rate.Limiter

	mu       sync.Mutex
	pending  map[auditKey]*merged
	overflow map[auditKey]int64 // source ""
}

func newAuditLog(logger *slog.Logger) *auditLog {
	return &auditLog{
		logger:   logger,
		limit:    rate.NewLimiter(auditPerSecond, auditBurst),
		pending:  map[auditKey]*merged{},
		overflow: map[auditKey]int64{},
	}
}

// refused records one refusal.
func (a *auditLog) refused(e auditEntry) {
	if a.limit.Allow() {
		args := append([]any{"remote_addr", e.remote}, e.args...)
		if e.user != "" {
			args = append(args, "user", e.user)
		}
		a.logger.Warn("request refused", append(args, "reason", e.reason.Text())...)
		return
	}
	k := auditKey{source: e.source, user: e.user, reason: e.reason}
	a.mu.Lock()
	defer a.mu.Unlock()
	if m, ok := a.pending[k]; ok {
		m.count++
		return
	}
	if len(a.pending) >= maxMerged {
		a.overflow[auditKey{user: e.user, reason: e.reason}]++
		return
	}
	a.pending[k] = &merged{count: 1, since: time.Now()}
}

// flush writes the merged refusals.
func (a *auditLog) flush() {
	type line struct {
		key auditKey
		merged
	}
	a.mu.Lock()
	var lines []line
	for k, m := range a.pending {
		if len(lines) == maxMergedLines {
			break
		}
		lines = append(lines, line{k, *m})
		delete(a.pending, k)
	}
	overflow := a.overflow
	a.overflow = map[auditKey]int64{}
	a.mu.Unlock()

	for _, l := range lines {
		args := []any{"source", l.key.source}
		if l.key.user != "" {
			args = append(args, "user", l.key.user)
		}
		a.logger.Warn("requests refused", append(args, "reason", l.key.reason.Text(), "count", l.count, "since", l.since)...)
	}
	for k, c := range overflow {
		args := []any{"source", "(many)"}
		if k.user != "" {
			args = append(args, "user", k.user)
		}
		a.logger.Warn("requests refused", append(args, "reason", k.reason.Text(), "count", c)...)
	}
}
