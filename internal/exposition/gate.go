package exposition

import (
	"context"
	"time"
)

// Gate bounds how many scrapes gather and encode at once. On a node
// exporter running on one CPU, eight scrapes gathering together finish no
// sooner than eight one after the other, but each holds its collectors'
// goroutines, their stacks and its scrape state meanwhile: taking turns
// cut peak memory by a third, and the slowest scrapes were faster.
//
// A turn is no promise to wait: a scrape waits for one for at most a
// quarter of the time left to its deadline, then gathers anyway, so a
// scrape ahead of it held up by a slow collector (until its own deadline)
// costs the others a quarter of their time, not all of it.
//
// Serve takes the turns, so only scrapes in the text formats take them:
// the handler serves protobuf through promhttp, without a Gate.
type Gate struct {
	turns chan struct{}
}

// NewGate returns a Gate letting n scrapes gather at once.
func NewGate(n int) *Gate {
	return &Gate{turns: make(chan struct{}, max(n, 1))}
}

// enter waits for a turn, as the Gate's doc says, and returns the func
// that ends it. A nil Gate, or a ctx without a deadline, does not wait.
func (g *Gate) enter(ctx context.Context) (leave func()) {
	if g == nil {
		return func() {}
	}
	select {
	case g.turns <- struct{}{}:
		return g.leave
	default:
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		return func() {}
	}
	timer := time.NewTimer(time.Until(deadline) / 4)
	defer timer.Stop()
	select {
	case g.turns <- struct{}{}:
		return g.leave
	case <-timer.C:
	case <-ctx.Done():
	}
	return func() {}
}

func (g *Gate) leave() { <-g.turns }
