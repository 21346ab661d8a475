package webconf

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// While the bcrypt gate is busy, a handful of addresses sending guesses
// cannot push Prometheus's right password out of the queue: each address
// gets one clean check in flight, its other guesses wait as a source that
// failed. With a burst of clean checks per address, 7 addresses made 64
// clean waiters and the right password was refused (429) before any guess
// had been checked.
func TestGuessesFromFewAddressesDoNotEvictARightPassword(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("right"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	s := &state{users: map[string][]byte{"prometheus": hash}, decoy: hash}
	p := newPasswords()
	p.setLimits(DefaultFailedAuth)
	ctx := t.Context()
	if !p.gate.acquire(ctx, true) { // a check in progress
		t.Fatal("gate not free")
	}
	right := make(chan basicResult, 1)
	go func() { right <- p.check(ctx, s, "192.0.2.10", "prometheus", "right") }()
	waitGate(t, p, func(clean, _ int) bool { return clean == 1 })

	var wg sync.WaitGroup
	for src := range 7 {
		for i := range 10 {
			wg.Go(func() {
				p.check(ctx, s, fmt.Sprintf("198.51.100.%d", src), "prometheus", fmt.Sprintf("guess-%d-%d", src, i))
			})
		}
	}
	waitGate(t, p, func(clean, _ int) bool { return clean == 8 })
	select {
	case r := <-right:
		t.Fatalf("the right password got %v before the gate was free", r)
	case <-time.After(50 * time.Millisecond):
	}
	p.gate.release()
	select {
	case r := <-right:
		if r != basicRight {
			t.Errorf("the right password: result %v, want basicRight", r)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the right password was not checked")
	}
	wg.Wait()
}

// Addresses of one IPv6 /64, which one host commonly holds whole, are one
// source: a hundred of them get one clean check between them, and cannot
// push a right password out of the queue of clean checks.
func TestGuessesFromOneIPv6PrefixAreOneSource(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("right"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	s := &state{users: map[string][]byte{"prometheus": hash}, decoy: hash}
	p := newPasswords()
	p.setLimits(DefaultFailedAuth)
	ctx := t.Context()
	if !p.gate.acquire(ctx, true) { // a check in progress
		t.Fatal("gate not free")
	}
	right := make(chan basicResult, 1)
	go func() { right <- p.check(ctx, s, "192.0.2.10", "prometheus", "right") }()
	waitGate(t, p, func(clean, _ int) bool { return clean == 1 })

	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() { p.check(ctx, s, fmt.Sprintf("2001:db8::%x", i+1), "prometheus", fmt.Sprintf("guess-%d", i)) })
	}
	waitGate(t, p, func(clean, dirty int) bool { return clean+dirty >= 2 })
	time.Sleep(50 * time.Millisecond) // the other guesses are in by now
	p.gate.mu.Lock()
	clean := len(p.gate.clean)
	p.gate.mu.Unlock()
	if clean != 2 {
		t.Errorf("%d clean checks waiting, want 2: the right password and one of the /64", clean)
	}
	p.gate.release()
	select {
	case r := <-right:
		if r != basicRight {
			t.Errorf("the right password: result %v, want basicRight", r)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the right password was not checked")
	}
	wg.Wait()
}

func TestLimitedSource(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":            "192.0.2.1",
		"2001:db8::1":          "2001:db8::/64",
		"2001:db8:0:0:ffff::9": "2001:db8::/64",
		"2001:db8:0:1::1":      "2001:db8:0:1::/64",
		"::ffff:192.0.2.1":     "::ffff:192.0.2.1",
		"not an address":       "not an address",
	} {
		if got := limitedSource(in); got != want {
			t.Errorf("limitedSource(%q) = %q, want %q", in, got, want)
		}
	}
}

// waitGate waits until the gate's queues satisfy ok.
func waitGate(t *testing.T, p *passwords, ok func(clean, dirty int) bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		p.gate.mu.Lock()
		clean, dirty := len(p.gate.clean), len(p.gate.dirty)
		p.gate.mu.Unlock()
		if ok(clean, dirty) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gate: %d clean and %d dirty waiters", clean, dirty)
		}
	}
}

// A flood of new addresses, all seen within the minute, does not grow the
// failed-login sources past their cap: a new address is then not kept and
// counts as one that failed. The map grew past it before, each new source
// sweeping all of it under the lock.
func TestFailedLoginSourcesStayBounded(t *testing.T) {
	p := newPasswords()
	p.setLimits(DefaultFailedAuth)
	now := time.Now()
	for i := range maxSources {
		p.sources[fmt.Sprintf("s%d", i)] = &sourceLimiter{lastSeen: now}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range 1000 {
		if _, clean, _ := p.allowAttempt(fmt.Sprintf("2001:db8::%x", i)); clean {
			t.Fatalf("new source %d counted clean with the map full", i)
		}
	}
	if n := len(p.sources); n > maxSources {
		t.Errorf("%d sources kept, cap %d", n, maxSources)
	}
}
