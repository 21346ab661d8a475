package alertclient

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/alertmanager/api/v2/models"
)

// Each Alertmanager has its own queue of batches and its own worker, which
// posts them in order, with retries. A batch counts as delivered as soon as
// one Alertmanager accepted it: one that accepts connections and never
// answers holds up its own queue, and nobody else. Prometheus's notifier
// had that problem (one slow Alertmanager delayed every other) and fixed it
// the same way.
//
// Every worker posts every batch it reaches at least once, so that
// Alertmanagers that do not gossip (separate ones, not a cluster) all get
// it; it retries a batch only until one Alertmanager accepted it, or the
// caller gave up. It does not reach a batch whose caller gave up before
// and that no Alertmanager accepted, nor, in the alert loop, one dropped
// from its full queue (see maxQueuedBatches).
//
// The alert loop (FlushLoop) runs one dispatcher for its lifetime, shared
// by every Send of the program; without it each Send, Flush or ResendKept
// runs its own for the time of the call, and waits at most stragglerGrace
// after the last batch was accepted for the other Alertmanagers to finish
// the attempts they have in flight.
const (
	// maxQueuedBatches bounds an Alertmanager's queue in the alert loop.
	// When it is full, its oldest batch is dropped from it: that
	// Alertmanager fell that far behind, and the others have had it.
	maxQueuedBatches = 256
	// stragglerGrace: see above.
	stragglerGrace = time.Second
)

// errNoAnswer is the result of an Alertmanager that had not answered a
// batch when its caller stopped waiting.
var errNoAnswer = fmt.Errorf("%w: no answer yet", errTransient)

// errDropped is the result of a batch dropped from a full queue: that
// Alertmanager may catch up, so a batch every queue dropped is spooled.
var errDropped = fmt.Errorf("%w: dropped from this Alertmanager's queue, full with older batches: it is that far behind", errTransient)

type dispatcher struct {
	c        *Client
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	workers  []*worker
	maxQueue int // 0: no bound

	mu   sync.Mutex
	jobs []*job // what a short-lived dispatcher was given, to settle
}

type worker struct {
	index int
	ep    *endpoint
	wake  chan struct{}

	mu      sync.Mutex
	queue   []*job
	stopped bool
}

// job is one batch on its way to every Alertmanager.
type job struct {
	size int
	body models.PostableAlerts
	// caller's context: once it ends, the batch is no longer retried,
	// nor posted by a worker that had not started it, unless accepted.
	caller context.Context
	// accepted is closed when an Alertmanager accepted the batch; done
	// when it was accepted or every worker finished with it; settled
	// when every worker finished with it.
	accepted, done, settled chan struct{}
	onAccept                func()

	mu         sync.Mutex
	results    []EndpointResult
	finished   []bool
	left       int
	isAccepted bool
}

// newDispatcher starts a worker per Alertmanager, running until ctx ends
// or stop.
func (c *Client) newDispatcher(ctx context.Context, maxQueue int) *dispatcher {
	d := &dispatcher{c: c, maxQueue: maxQueue}
	d.ctx, d.cancel = context.WithCancel(ctx)
	for i, ep := range c.endpoints {
		w := &worker{index: i, ep: ep, wake: make(chan struct{}, 1)}
		d.workers = append(d.workers, w)
		d.wg.Go(func() { d.run(w) })
	}
	return d
}

// stop ends the workers and waits for them: attempts in flight are
// cancelled, and queued batches end with the dispatcher's error.
func (d *dispatcher) stop() {
	d.cancel()
	d.wg.Wait()
}

// dispatch runs fn with the alert loop's dispatcher when it runs, or else
// with one of its own, stopped when fn returned and the other
// Alertmanagers had stragglerGrace (within ctx) to finish their attempts.
func (c *Client) dispatch(ctx context.Context, fn func(*dispatcher) error) error {
	c.mu.Lock()
	d := c.loop
	c.mu.Unlock()
	if d != nil && d.ctx.Err() == nil {
		return fn(d)
	}
	d = c.newDispatcher(ctx, 0)
	defer d.stop()
	err := fn(d)
	d.settle(ctx)
	return err
}

// settle waits until every worker finished with every batch given, at
// most stragglerGrace and within ctx.
func (d *dispatcher) settle(ctx context.Context) {
	grace := time.NewTimer(stragglerGrace)
	defer grace.Stop()
	d.mu.Lock()
	jobs := d.jobs
	d.mu.Unlock()
	for _, j := range jobs {
		select {
		case <-j.settled:
		case <-grace.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// deliver posts one batch to every Alertmanager, each in its queue, and
// returns once one accepted it (nil), every one failed, or ctx ended. The
// results are each Alertmanager's as they stand then.
func (d *dispatcher) deliver(ctx context.Context, batch []Alert) ([]EndpointResult, error) {
	j := d.submit(ctx, batch)
	select {
	case <-j.done:
	case <-ctx.Done():
	}
	return j.outcome(ctx)
}

// submit puts a batch in every worker's queue.
func (d *dispatcher) submit(ctx context.Context, batch []Alert) *job {
	n := len(d.workers)
	j := &job{
		size: len(batch), body: toPostable(batch), caller: ctx,
		accepted: make(chan struct{}), done: make(chan struct{}), settled: make(chan struct{}),
		results: make([]EndpointResult, n), finished: make([]bool, n), left: n,
		onAccept: func() { d.c.metrics.sent.Add(float64(len(batch))) },
	}
	for i, w := range d.workers {
		j.results[i].URL = w.ep.url
	}
	if d.maxQueue == 0 {
		d.mu.Lock()
		d.jobs = append(d.jobs, j)
		d.mu.Unlock()
	}
	for _, w := range d.workers {
		w.mu.Lock()
		if w.stopped {
			w.mu.Unlock()
			j.finish(w.index, EndpointResult{URL: w.ep.url, Err: fmt.Errorf("%w: %w", errTransient, context.Cause(d.ctx))})
			continue
		}
		var dropped *job
		if d.maxQueue > 0 && len(w.queue) >= d.maxQueue {
			dropped, w.queue = w.queue[0], w.queue[1:]
		}
		w.queue = append(w.queue, j)
		w.mu.Unlock()
		if dropped != nil {
			d.c.metrics.dropped.WithLabelValues(w.ep.url).Add(float64(dropped.size))
			dropped.finish(w.index, EndpointResult{URL: w.ep.url, Err: errDropped})
		}
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return j
}

// queued returns how many batches wait in each Alertmanager's queue (the
// one being posted not counted), by URL.
func (d *dispatcher) queued() map[string]int {
	out := map[string]int{}
	for _, w := range d.workers {
		w.mu.Lock()
		out[w.ep.url] += len(w.queue)
		w.mu.Unlock()
	}
	return out
}

// run is a worker: it posts the batches of its queue in order until the
// dispatcher stops, and then ends those left with the reason.
func (d *dispatcher) run(w *worker) {
	for {
		w.mu.Lock()
		var j *job
		if len(w.queue) > 0 && d.ctx.Err() == nil {
			j, w.queue = w.queue[0], w.queue[1:]
		}
		w.mu.Unlock()
		if j != nil {
			d.post(w, j)
			continue
		}
		select {
		case <-d.ctx.Done():
			w.mu.Lock()
			w.stopped = true
			left := w.queue
			w.queue = nil
			w.mu.Unlock()
			for _, j := range left {
				j.finish(w.index, EndpointResult{URL: w.ep.url, Err: fmt.Errorf("%w: %w", errTransient, context.Cause(d.ctx))})
			}
			return
		case <-w.wake:
		}
	}
}

// post sends a batch to the worker's Alertmanager until it is accepted,
// refused, or, once another Alertmanager accepted it or its caller gave
// up, after the attempt in flight. A batch its caller gave up on before
// this worker came to it is not posted, unless another accepted it.
func (d *dispatcher) post(w *worker, j *job) {
	c := d.c
	r := EndpointResult{URL: w.ep.url}
	if j.caller.Err() != nil && !j.wasAccepted() {
		r.Err = fmt.Errorf("%w: not posted, given up on: %w", errTransient, context.Cause(j.caller))
		j.finish(w.index, r)
		return
	}
	backoff := time.Duration(c.cfg.Retry.InitialBackoff)
	for {
		r.Attempts++
		// The attempt ends with the dispatcher, or with the caller while
		// no Alertmanager accepted the batch: once one has, the caller
		// may leave and this attempt still reaches its Alertmanager.
		actx, cancel := context.WithCancel(d.ctx)
		stop := context.AfterFunc(j.caller, func() {
			if !j.wasAccepted() {
				cancel()
			}
		})
		start := time.Now()
		err := c.postOnce(actx, w.ep, j.body)
		stop()
		cancel()
		c.metrics.latency.WithLabelValues(w.ep.url).Observe(time.Since(start).Seconds())
		r.Accepted, r.Err = err == nil, err
		if err == nil || !errors.Is(err, errTransient) || j.wasAccepted() {
			j.finish(w.index, r)
			return
		}
		j.update(w.index, r)
		// Full jitter: a random wait up to the backoff, so that many
		// senders do not return to a recovering Alertmanager together.
		wait := rand.N(backoff) + time.Millisecond
		if c.retrying != nil {
			c.retrying(w.ep.url, err, time.Now().Add(wait))
		}
		timer := time.NewTimer(wait)
		select {
		case <-d.ctx.Done():
		case <-j.caller.Done():
		case <-j.accepted:
		case <-timer.C:
			c.metrics.retries.WithLabelValues(w.ep.url).Inc()
			backoff = min(2*backoff, time.Duration(c.cfg.Retry.MaxBackoff))
			continue
		}
		timer.Stop()
		j.finish(w.index, r)
		return
	}
}

func (j *job) wasAccepted() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.isAccepted
}

// update records an Alertmanager's result so far, while it retries.
func (j *job) update(i int, r EndpointResult) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.finished[i] {
		j.results[i] = r
	}
}

// finish records an Alertmanager's last result for the batch.
func (j *job) finish(i int, r EndpointResult) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.finished[i] {
		return
	}
	j.finished[i], j.results[i] = true, r
	j.left--
	if r.Accepted && !j.isAccepted {
		j.isAccepted = true
		close(j.accepted)
		close(j.done)
		j.onAccept()
	}
	if j.left == 0 {
		close(j.settled)
		if !j.isAccepted {
			close(j.done)
		}
	}
}

// outcome is the batch's result as it stands: nil once an Alertmanager
// accepted it; otherwise every Alertmanager's error, marked transient when
// one is (or has not answered yet, or ctx ended first).
func (j *job) outcome(ctx context.Context) ([]EndpointResult, error) {
	j.mu.Lock()
	results := make([]EndpointResult, len(j.results))
	for i, r := range j.results {
		if !j.finished[i] && r.Err == nil {
			r.Err = errNoAnswer
		}
		results[i] = r
	}
	accepted := j.isAccepted
	j.mu.Unlock()
	if accepted {
		return results, nil
	}
	var errs []error
	transient := ctx.Err() != nil
	refused := len(results) > 0 // for its content, by every Alertmanager
	for _, r := range results {
		errs = append(errs, fmt.Errorf("%s: %w", r.URL, r.Err))
		transient = transient || errors.Is(r.Err, errTransient)
		refused = refused && errors.Is(r.Err, errContentRefused)
	}
	err := errors.Join(errs...)
	switch {
	case transient:
		return results, fmt.Errorf("%w: %w", errTransient, err)
	case refused:
		return results, fmt.Errorf("%w: %w", ErrBatchRefused, err)
	}
	return results, err
}
