package testenv_test

import (
	"sync"
	"testing"
	"time"

	"github.com/warden-exporter/warden/internal/testenv"
)

func TestExitedGivesTheSameCodeEveryTime(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script string
		want   int
	}{
		{"success", "exit 0", 0},
		{"failure", "exit 3", 3},
		{"killed by SIGKILL", "kill -KILL $$", 128 + 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := testenv.Start(t, "/bin/sh", "-c", tc.script)
			if got := p.Exited(10 * time.Second); got != tc.want {
				t.Fatalf("first Exited = %d, want %d", got, tc.want)
			}
			// A zero wait too: the exit is known, nothing is left to wait for.
			for _, d := range []time.Duration{0, 0, time.Second} {
				if got := p.Exited(d); got != tc.want {
					t.Fatalf("Exited(%s) after the exit = %d, want %d", d, got, tc.want)
				}
			}
		})
	}
}

func TestExitedWhileRunningThenStopped(t *testing.T) {
	p := testenv.Start(t, "sleep", "30")
	if got := p.Exited(50 * time.Millisecond); got != -1 {
		t.Fatalf("Exited on a running program = %d, want -1", got)
	}
	p.Stop()
	const sigterm = 128 + 15
	for range 2 {
		if got := p.Exited(0); got != sigterm {
			t.Fatalf("Exited after Stop = %d, want %d (SIGTERM)", got, sigterm)
		}
	}
}

// TestStopKillExitedConcurrently calls Stop, Kill and Exited from several
// goroutines while the program exits on its own: under -race, it shows
// that reading the program's state does not race with waiting for it, and
// that every call returns.
func TestStopKillExitedConcurrently(t *testing.T) {
	for range 20 {
		p := testenv.Start(t, "/bin/sh", "-c", "exit 0")
		codes := make(chan int, 4)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(p.Stop)
			wg.Go(p.Kill)
			wg.Go(func() { codes <- p.Exited(10 * time.Second) })
		}
		returned := make(chan struct{})
		go func() { wg.Wait(); close(returned) }()
		select {
		case <-returned:
		case <-time.After(20 * time.Second):
			t.Fatal("Stop, Kill or Exited still waiting 20s after the program was started")
		}
		close(codes)
		// Whether the program exited on its own, by SIGTERM or by SIGKILL
		// depends on timing; every caller must see the same outcome.
		want := p.Exited(0)
		if want != 0 && want != 128+15 && want != 128+9 {
			t.Fatalf("Exited = %d, want 0, 143 or 137", want)
		}
		for got := range codes {
			if got != want {
				t.Fatalf("concurrent Exited = %d, later Exited = %d", got, want)
			}
		}
	}
}
