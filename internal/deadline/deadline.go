// Package deadline runs a scrape's collectors under the scrape's deadline,
// the rule that keeps one hung collector from costing the whole scrape:
//
//   - A collector that has not finished when the scrape's context ends is
//     left behind. The scrape goes on with what every other collector sent;
//     what the late one sends afterwards is read and dropped, never sent
//     on a channel the registry no longer reads.
//   - While a left-behind run has not returned, the collector is not
//     started again, so that a read hung in the kernel (an NFS mount, a
//     sensor behind a stuck bus) costs one goroutine and one file
//     descriptor, not one per scrape. Once that run has taken longer than
//     the scrape asking has time for (or than WithHungAfter says), it is
//     hung and each scrape reports the collector failed at once. Until
//     then a scrape waits for it, within its own deadline, and runs the
//     collector afresh: a scraper that sends a tiny timeout leaves runs
//     behind that are merely slow, and cannot blank the collector for
//     the scrapers with time to wait.
//   - Each scrape that gets no result from a collector for either reason
//     counts in warden_collector_timeouts_total{collector}.
//
// Both the framework's named collectors (webconf/exporter) and the node
// collectors (collector.NodeCollector) run through a Runner, so the rule
// is the same for every exporter built on Warden.
package deadline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warden-exporter/warden/internal/workers"
)

// ErrTimeout is returned for a collector that had not finished when the
// scrape's deadline came.
var ErrTimeout = errors.New("collector did not finish by the scrape deadline and was left behind")

// ErrStillRunning is returned, without starting the collector, while a run
// left behind by an earlier scrape has not returned.
var ErrStillRunning = errors.New("collector not started: its run left behind by an earlier scrape has not returned")

// Update is what a Runner runs: a collector's work for one scrape, sending
// its metrics on ch.
type Update func(ctx context.Context, ch chan<- prometheus.Metric) error

// forwardBuffer is how many metrics a collector can send ahead of the
// scrape reading them: enough to spare a goroutine switch per metric,
// small enough not to weigh on every scrape of every collector.
const forwardBuffer = 32

// Runner runs collectors under their scrape's deadline and remembers the
// runs it left behind. It is a prometheus.Collector of
// warden_collector_timeouts_total, which belongs with the exporter's own
// metrics. Use one Runner for every scrape of a set of collectors.
type Runner struct {
	logger   *slog.Logger
	timeouts *prometheus.CounterVec

	mu sync.Mutex
	// behind holds, per collector, the runs left behind that have not
	// returned.
	behind map[string]*lagging
}

// lagging is a collector's runs left behind. Concurrent scrapes can each
// leave one behind before the first is known to hang, so it is a count,
// bounded by how many scrapes run at once.
type lagging struct {
	runs  int
	since time.Time     // when the oldest began
	done  chan struct{} // closed when the last returns
}

type hungAfterKey struct{}

// WithHungAfter returns ctx with d, after which a run left behind by an
// earlier scrape counts as hung for a scrape run with ctx, even when the
// scrape has longer to wait (the framework gives its --collector.timeout).
func WithHungAfter(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, hungAfterKey{}, d)
}

// NewRunner returns a Runner that logs on logger (nil discards) when a run
// left behind finally returns.
func NewRunner(logger *slog.Logger) *Runner {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{
		logger: logger,
		// Series appear at a collector's first timeout, not before: an
		// exporter whose collectors never time out exposes what it did
		// before this counter existed.
		timeouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "warden",
			Subsystem: "collector",
			Name:      "timeouts_total",
			Help:      "Scrapes that got no result from a collector by their deadline: it was left behind, or not started because a run left behind by an earlier scrape had not returned.",
		}, []string{"collector"}),
		behind: map[string]*lagging{},
	}
}

// Describe implements prometheus.Collector.
func (r *Runner) Describe(ch chan<- *prometheus.Desc) { r.timeouts.Describe(ch) }

// Collect implements prometheus.Collector.
func (r *Runner) Collect(ch chan<- prometheus.Metric) { r.timeouts.Collect(ch) }

// Run runs update for the collector name and forwards what it sends to ch
// until ctx ends. It returns update's error, ErrTimeout (wrapping ctx's
// error) when ctx ended first, or ErrStillRunning when an earlier run of
// name was left behind and is hung, or has not returned by the deadline
// (see the package doc). Run returns by the time ctx ends however long
// update takes, and sends nothing on ch after it returns. Without a
// deadline or cancellation in ctx, update runs on ch directly.
func (r *Runner) Run(ctx context.Context, name string, ch chan<- prometheus.Metric, update Update) error {
	if ctx.Done() == nil {
		return safely(ctx, ch, update)
	}
	// since is read under the lock: leaveBehind moves it back when an
	// older run is left behind too.
	var since time.Time
	var done <-chan struct{}
	r.mu.Lock()
	if lag := r.behind[name]; lag != nil {
		since, done = lag.since, lag.done
	}
	r.mu.Unlock()
	if done != nil && !waitFor(ctx, since, done) {
		r.timeouts.WithLabelValues(name).Inc()
		return ErrStillRunning
	}
	if err := ctx.Err(); err != nil {
		r.timeouts.WithLabelValues(name).Inc()
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	}

	// update sends into a channel of this run's own, which this goroutine
	// forwards while the scrape waits and a drain goroutine empties once
	// the scrape has gone on without it.
	inner := make(chan prometheus.Metric, forwardBuffer)
	var (
		err      error
		finished atomic.Bool
	)
	begin := time.Now()
	workers.Go(func() {
		defer close(inner) // after err is set: the close publishes it
		err = safely(ctx, inner, update)
		finished.Store(true)
	})
	for {
		select {
		case m, ok := <-inner:
			if !ok {
				return err
			}
			ch <- m
		case <-ctx.Done():
			if finished.Load() {
				// It made the deadline; what is left in the buffer is
				// forwarded, which the scrape is still reading.
				for m := range inner {
					ch <- m
				}
				return err
			}
			r.leaveBehind(name, inner, begin)
			return fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
		}
	}
}

// safely runs update, turning a panic into its error: a collector that
// panics on what it read (a file cut short, bytes no parser expected)
// fails its own scrape, instead of ending the process, and with it every
// other collector and the TLS listener.
func safely(ctx context.Context, ch chan<- prometheus.Metric, update Update) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrPanic, r)
		}
	}()
	return update(ctx, ch)
}

// ErrPanic is returned for a collector that panicked.
var ErrPanic = errors.New("collector panicked")

// waitFor reports whether the runs left behind, the oldest begun at since,
// returned (done closed) in time for the scrape of ctx: at once false when
// they are hung, having run longer than the scrape has left or than ctx's
// WithHungAfter; otherwise it waits for them until ctx ends.
func waitFor(ctx context.Context, since time.Time, done <-chan struct{}) bool {
	limit := time.Duration(1<<63 - 1)
	if deadline, ok := ctx.Deadline(); ok {
		limit = time.Until(deadline)
	}
	if d, ok := ctx.Value(hungAfterKey{}).(time.Duration); ok {
		limit = min(limit, d)
	}
	if time.Since(since) >= limit {
		return false
	}
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

// leaveBehind marks name as running behind and drains inner until the run
// returns, dropping what it sends.
func (r *Runner) leaveBehind(name string, inner <-chan prometheus.Metric, begin time.Time) {
	r.timeouts.WithLabelValues(name).Inc()
	r.mu.Lock()
	lag := r.behind[name]
	if lag == nil {
		lag = &lagging{since: begin, done: make(chan struct{})}
		r.behind[name] = lag
	}
	lag.runs++
	if begin.Before(lag.since) {
		lag.since = begin
	}
	r.mu.Unlock()
	go func() {
		dropped := 0
		for range inner {
			dropped++
		}
		r.mu.Lock()
		if lag.runs--; lag.runs == 0 {
			close(lag.done)
			delete(r.behind, name)
		}
		r.mu.Unlock()
		r.logger.Info("collector left behind by a scrape has returned; it runs again from the next scrape",
			"collector", name, "duration_seconds", time.Since(begin).Seconds(), "dropped_metrics", dropped)
	}()
}
