package webconf

import (
	"log/slog"
	"sync/atomic"

	"golang.org/x/time/rate"
)

const (
	// auditPerSecond and auditBurst bound the audit lines written.
	auditPerSecond = 20
	auditBurst     = 100
)

// auditLog writes one line per refusal, within a budget, so that a flood
// of refusals cannot turn logging into the attack; lines over the budget
// are counted and the count is added to the next line written.
type auditLog struct {
	logger     *slog.Logger
	limit      *rate.Limiter
	suppressed atomic.Int64
}

func newAuditLog(logger *slog.Logger) *auditLog {
	return &auditLog{logger: logger, limit: rate.NewLimiter(auditPerSecond, auditBurst)}
}

// refused writes the line for one refusal; args are slog key-value pairs.
// Credentials are never among them.
func (a *auditLog) refused(reason Reason, args ...any) {
	if !a.limit.Allow() {
		a.suppressed.Add(1)
		return
	}
	args = append(args, "reason", reason.Text())
	if n := a.suppressed.Swap(0); n > 0 {
		args = append(args, "suppressed_before", n)
	}
	a.logger.Warn("request refused", args...)
}
