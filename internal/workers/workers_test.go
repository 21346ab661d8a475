package workers

import (
	"sync"
	"testing"
	"time"
)

// waitIdle waits up to 5 s for Idle to reach want.
func waitIdle(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for Idle() != want {
		if time.Now().After(deadline) {
			t.Fatalf("%d idle workers, want %d", Idle(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestWorkersAreReusedAndBounded(t *testing.T) {
	waitIdle(t, 0)

	// One function: its goroutine waits for the next.
	ran := make(chan struct{})
	Go(func() { close(ran) })
	<-ran
	waitIdle(t, 1)
	// It counts itself idle just before it waits: give it time to wait.
	time.Sleep(10 * time.Millisecond)
	ran = make(chan struct{})
	Go(func() { close(ran) })
	<-ran
	waitIdle(t, 1) // the same worker, not a second one

	// A function that does not return holds its goroutine only: the next
	// ones run at once, on the idle worker or a new goroutine.
	release := make(chan struct{})
	var wg sync.WaitGroup
	n := MaxIdle + 20
	wg.Add(n)
	for range n {
		Go(func() {
			wg.Done()
			<-release
		})
	}
	wg.Wait() // all n run at once, though at most one worker was idle
	if got := Idle(); got != 0 {
		t.Errorf("%d idle workers while all are busy", got)
	}
	close(release)
	waitIdle(t, MaxIdle) // the 20 beyond the bound ended
}
