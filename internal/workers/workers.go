// Package workers runs a scrape's short-lived functions on goroutines kept
// from one scrape to the next.
//
// A scrape runs every collector on goroutines of its own (one to run it,
// one to forward what it sends under the scrape's deadline), and a new
// goroutine starts with a small stack that grows by copying, often three
// or four times for a collector's reads and parsing: on a node exporter's
// scrape that copying was a tenth of the CPU. A goroutine kept here keeps
// the stack it grew (until the garbage collector shrinks the stack of one
// long idle), so the next scrape's collector runs on it without copying.
// gRPC's server workers exist for the same reason.
//
// Nothing waits for a worker: Go starts a new goroutine when none is idle,
// so a function that never returns (a read hung in the kernel) holds its
// goroutine and nothing else. Idle workers beyond MaxIdle, or idle for
// IdleFor, end.
package workers

import (
	"sync/atomic"
	"time"
)

const (
	// MaxIdle bounds the goroutines kept idle: more than the default
	// node collectors of two concurrent scrapes need, each collector
	// taking two.
	MaxIdle = 256
	// IdleFor is how long an idle worker waits for work before it ends:
	// longer than the usual scrape intervals, so that a worker survives
	// from one scrape to the next.
	IdleFor = 2 * time.Minute
)

var (
	// handoff passes a function to an idle worker. It is unbuffered: a
	// send succeeds only when a worker is waiting for one, so a function
	// never queues behind another.
	handoff = make(chan func())
	idle    atomic.Int32
)

// Go runs f on an idle worker, or on a new goroutine when none is idle.
// Like the go statement, it does not wait for f, and a panic in f ends
// the program.
func Go(f func()) {
	select {
	case handoff <- f:
	default:
		go work(f)
	}
}

// work runs f and then every function handed to it, until it has been idle
// for IdleFor or MaxIdle others are idle already.
func work(f func()) {
	var timer *time.Timer
	for {
		f()
		f = nil // not kept alive while idle
		if idle.Add(1) > MaxIdle {
			idle.Add(-1)
			return
		}
		if timer == nil {
			timer = time.NewTimer(IdleFor)
		} else {
			timer.Reset(IdleFor) // a Go 1.23 timer: no stale tick to drain
		}
		select {
		case f = <-handoff:
			idle.Add(-1)
		case <-timer.C:
			idle.Add(-1)
			return
		}
	}
}

// Idle returns how many workers are waiting for work.
func Idle() int { return int(idle.Load()) }
