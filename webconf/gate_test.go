package webconf

import (
	"context"
	"testing"
	"time"
)

// The gate lets one check in at a time: clean sources before failed
// ones, the newest clean one first; a waiter whose client left gives its
// turn to the next.
func TestGateOrder(t *testing.T) {
	g := &gate{}
	if !g.acquire(t.Context(), false) {
		t.Fatal("an idle gate refused")
	}
	order := make(chan string, 4)
	wait := func(name string, clean bool) {
		go func() {
			if g.acquire(t.Context(), clean) {
				order <- name
				g.release()
			}
		}()
		time.Sleep(20 * time.Millisecond) // queued in this order
	}
	wait("dirty-1", false)
	wait("clean-old", true)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		if g.acquire(ctx, true) {
			order <- "left"
			g.release()
		}
	}()
	time.Sleep(20 * time.Millisecond)
	wait("clean-new", true)
	cancel() // the client behind "left" goes away
	time.Sleep(20 * time.Millisecond)
	g.release()
	var got []string
	for range 3 {
		select {
		case name := <-order:
			got = append(got, name)
		case <-time.After(5 * time.Second):
			t.Fatalf("stuck after %v", got)
		}
	}
	want := []string{"clean-new", "clean-old", "dirty-1"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}
