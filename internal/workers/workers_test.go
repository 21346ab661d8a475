package workers

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// waitIdle waits up to 5 s for p to have want idle workers.
func waitIdle(t *testing.T, p *pool, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for p.idleCount() != want {
		if time.Now().After(deadline) {
			t.Fatalf("%d idle workers, want %d", p.idleCount(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestWorkersAreReusedAndBounded(t *testing.T) {
	const maxIdle = 8
	p := newPool(maxIdle, time.Minute)

	// One function: its goroutine waits for the next.
	ran := make(chan struct{})
	p.run(func() { close(ran) })
	<-ran
	waitIdle(t, p, 1)
	// It counts itself idle just before it waits: give it time to wait.
	time.Sleep(10 * time.Millisecond)
	goroutines := runtime.NumGoroutine()
	ran = make(chan struct{})
	p.run(func() { close(ran) })
	<-ran
	waitIdle(t, p, 1)
	if got := runtime.NumGoroutine(); got != goroutines {
		t.Fatalf("%d goroutines after a second function, were %d: the idle worker was not used", got, goroutines)
	}

	// A function that does not return holds its goroutine only: the next
	// ones run at once, on the idle worker or a new goroutine.
	release := make(chan struct{})
	var wg sync.WaitGroup
	n := maxIdle + 20
	wg.Add(n)
	for range n {
		p.run(func() {
			wg.Done()
			<-release
		})
	}
	wg.Wait() // all n run at once, though at most one worker was idle
	if got := p.idleCount(); got != 0 {
		t.Errorf("%d idle workers while all are busy", got)
	}
	close(release)
	waitIdle(t, p, maxIdle) // the 20 beyond the bound ended
}

func TestIdleWorkersEnd(t *testing.T) {
	p := newPool(8, time.Second)
	var wg sync.WaitGroup
	wg.Add(3)
	for range 3 {
		p.run(func() {
			wg.Done()
			time.Sleep(10 * time.Millisecond) // so that the three overlap
		})
	}
	wg.Wait()
	waitIdle(t, p, 3)
	waitIdle(t, p, 0) // after idleFor
}

func TestGoInCountsInTheGroup(t *testing.T) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	ran := 0
	for range 10 {
		GoIn(&wg, func() {
			time.Sleep(time.Millisecond)
			mu.Lock()
			ran++
			mu.Unlock()
		})
	}
	wg.Wait()
	if ran != 10 {
		t.Errorf("wg.Wait returned after %d of 10 functions", ran)
	}
}
