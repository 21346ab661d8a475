// Package workers runs a scrape's short-lived functions on goroutines kept
// from one scrape to the next.
//
// A scrape runs every collector on goroutines of its own (one to run it,
// one to forward what it sends under the scrape's deadline), and a new
// goroutine starts with the average stack size of the program's
// goroutines, most of them small, which a collector's reads and parsing
// grow by copying several times: on a node exporter's scrape that copying
// was a tenth of the CPU. A goroutine kept here keeps the stack it grew,
// less what each garbage collection takes back from a stack mostly unused
// (it halves it), so the next scrape's collector mostly runs on it without
// copying: the copying fell to 2% of the CPU. gRPC's server workers exist
// for the same reason.
//
// Nothing waits for a worker: Go starts a new goroutine when none is idle,
// so a function that never returns (a read hung in the kernel) holds its
// goroutine and nothing else. Idle workers beyond MaxIdle, or idle for
// IdleFor, end.
package workers

import (
	"sync"
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

// pool is a set of workers.
type pool struct {
	// handoff passes a function to an idle worker. It is unbuffered: a
	// send succeeds only when a worker is waiting for one, so a function
	// never queues behind another.
	handoff chan func()
	idle    atomic.Int32
	maxIdle int32
	idleFor time.Duration
}

func newPool(maxIdle int32, idleFor time.Duration) *pool {
	return &pool{handoff: make(chan func()), maxIdle: maxIdle, idleFor: idleFor}
}

// workers are the program's workers, for every scrape.
var workers = newPool(MaxIdle, IdleFor)

// Go runs f on an idle worker, or on a new goroutine when none is idle.
// Like the go statement, it does not wait for f, and a panic in f ends
// the program. Unlike it, the goroutine outlives f: f must not leave it
// locked to its thread (runtime.LockOSThread, as for setns) or with pprof
// labels set, which the next function run on it would inherit.
func Go(f func()) { workers.run(f) }

// GoIn runs f as Go does, counted in wg: as wg.Go does on a new goroutine.
func GoIn(wg *sync.WaitGroup, f func()) {
	wg.Add(1)
	workers.run(func() {
		defer wg.Done()
		f()
	})
}

func (p *pool) run(f func()) {
	select {
	case p.handoff <- f:
	default:
		go p.work(f)
	}
}

// work runs f and then every function handed to it, until it has been idle
// for p.idleFor or p.maxIdle others are idle already.
func (p *pool) work(f func()) {
	var timer *time.Timer
	for {
		f()
		f = nil // not kept alive while idle
		if p.idle.Add(1) > p.maxIdle {
			p.idle.Add(-1)
			return
		}
		if timer == nil {
			timer = time.NewTimer(p.idleFor)
		} else {
			timer.Reset(p.idleFor) // a Go 1.23 timer: no stale tick to drain
		}
		select {
		case f = <-p.handoff:
			p.idle.Add(-1)
		case <-timer.C:
			p.idle.Add(-1)
			return
		}
	}
}

// Idle returns how many workers are waiting for work.
func Idle() int { return workers.idleCount() }

func (p *pool) idleCount() int { return int(p.idle.Load()) }
