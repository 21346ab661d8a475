package deadline

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

var testDesc = prometheus.NewDesc("test_value", "A value.", nil, nil)

func metric(v float64) prometheus.Metric {
	return prometheus.MustNewConstMetric(testDesc, prometheus.GaugeValue, v)
}

// collect runs r.Run on a channel of its own and returns what was sent on
// it by the time Run returned, and Run's error.
func collect(ctx context.Context, r *Runner, name string, update Update) ([]prometheus.Metric, error) {
	ch := make(chan prometheus.Metric)
	var got []prometheus.Metric
	done := make(chan struct{})
	go func() {
		for m := range ch {
			got = append(got, m)
		}
		close(done)
	}()
	err := r.Run(ctx, name, ch, update)
	close(ch) // a send after Run returned would panic here
	<-done
	return got, err
}

func TestRunForwardsWhatFinishesInTime(t *testing.T) {
	r := NewRunner(nil)
	wantErr := errors.New("partial")
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{"deadline", func() (context.Context, context.CancelFunc) { return context.WithTimeout(t.Context(), time.Minute) }},
		{"no deadline", func() (context.Context, context.CancelFunc) { return context.Background(), func() {} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			// More metrics than the buffer holds.
			got, err := collect(ctx, r, "c", func(_ context.Context, ch chan<- prometheus.Metric) error {
				for i := range 3 * forwardBuffer {
					ch <- metric(float64(i))
				}
				return wantErr
			})
			if !errors.Is(err, wantErr) {
				t.Errorf("err %v, want %v", err, wantErr)
			}
			if len(got) != 3*forwardBuffer {
				t.Errorf("forwarded %d metrics, want %d", len(got), 3*forwardBuffer)
			}
		})
	}
	if n := testutil.CollectAndCount(r); n != 0 {
		t.Errorf("%d timeout series after no timeout", n)
	}
}

// A collector that hangs is left behind at the deadline with what it sent
// so far; it is not started again until it returns, and what it sends
// after the deadline goes nowhere.
func TestRunLeavesBehindAndDoesNotRestart(t *testing.T) {
	r := NewRunner(nil)
	release := make(chan struct{})
	returned := make(chan struct{})
	starts := 0
	hang := func(_ context.Context, ch chan<- prometheus.Metric) error {
		starts++
		ch <- metric(1)
		<-release
		for i := range 2 * forwardBuffer { // more than the buffer: the drain must read them
			ch <- metric(float64(i))
		}
		close(returned)
		return nil
	}

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	begin := time.Now()
	got, err := collect(ctx, r, "slow", hang)
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want ErrTimeout wrapping DeadlineExceeded", err)
	}
	if d := time.Since(begin); d > time.Second {
		t.Errorf("Run returned after %v, deadline 100ms", d)
	}
	if len(got) != 1 {
		t.Errorf("got %d metrics sent before the deadline, want 1", len(got))
	}

	// Later scrapes fail at once without starting it again: it has run
	// longer than their hung-after.
	for range 5 {
		ctx, cancel := context.WithTimeout(WithHungAfter(t.Context(), 50*time.Millisecond), time.Minute)
		begin := time.Now()
		_, err := collect(ctx, r, "slow", hang)
		cancel()
		if !errors.Is(err, ErrStillRunning) {
			t.Fatalf("err %v, want ErrStillRunning", err)
		}
		if d := time.Since(begin); d > 100*time.Millisecond {
			t.Errorf("a refused run took %v", d)
		}
	}
	if starts != 1 {
		t.Fatalf("started %d times while left behind, want 1", starts)
	}
	// Other collectors are not held back.
	fresh, cancelFresh := context.WithTimeout(t.Context(), time.Minute)
	defer cancelFresh()
	if _, err := collect(fresh, r, "other", func(context.Context, chan<- prometheus.Metric) error { return nil }); err != nil {
		t.Errorf("other collector: %v", err)
	}

	const wantCount = `
# HELP warden_collector_timeouts_total Scrapes that got no result from a collector by their deadline: it was left behind, or not started because a run left behind by an earlier scrape had not returned.
# TYPE warden_collector_timeouts_total counter
warden_collector_timeouts_total{collector="slow"} 6
`
	if err := testutil.CollectAndCompare(r, strings.NewReader(wantCount)); err != nil {
		t.Error(err)
	}

	// Once it returns (its late metrics dropped), it runs again.
	close(release)
	<-returned
	waitUntil(t, func() bool { r.mu.Lock(); defer r.mu.Unlock(); return r.behind["slow"] == nil })
	ctx, cancel = context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	got, err = collect(ctx, r, "slow", func(_ context.Context, ch chan<- prometheus.Metric) error {
		ch <- metric(2)
		return nil
	})
	if err != nil || len(got) != 1 {
		t.Errorf("after recovery: %d metrics, err %v", len(got), err)
	}
}

// A scrape whose context has already ended does not start the collector.
func TestRunAfterDeadline(t *testing.T) {
	r := NewRunner(nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := collect(ctx, r, "c", func(context.Context, chan<- prometheus.Metric) error {
		t.Error("started after the deadline")
		return nil
	})
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want ErrTimeout wrapping Canceled", err)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 5s")
}

// A run left behind that is only slow (a scraper sent a tiny timeout) is
// waited for by a scrape with time to spare, which then runs the
// collector afresh and gets its metrics; a scrape with less time left than
// the run has taken reports it failed at once.
func TestRunWaitsForASlowRunLeftBehind(t *testing.T) {
	r := NewRunner(nil)
	var starts atomic.Int32
	slow := func(ctx context.Context, ch chan<- prometheus.Metric) error {
		starts.Add(1)
		time.Sleep(200 * time.Millisecond)
		ch <- metric(1)
		return nil
	}
	tiny, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := collect(tiny, r, "slow", slow); !errors.Is(err, ErrTimeout) {
		t.Fatalf("tiny deadline: err %v, want ErrTimeout", err)
	}

	patient, cancel := context.WithTimeout(WithHungAfter(t.Context(), 10*time.Second), 5*time.Second)
	defer cancel()
	got, err := collect(patient, r, "slow", slow)
	if err != nil || len(got) != 1 {
		t.Fatalf("a scrape with time to wait: %d metrics, err %v; want the collector's metric", len(got), err)
	}
	if n := starts.Load(); n != 2 {
		t.Errorf("started %d times, want 2: after the run left behind returned", n)
	}

	// Left behind again, then asked by a scrape whose hung-after the run
	// has already outlasted: refused without waiting (had it waited, the
	// run would have returned and the scrape got the metric).
	tiny, cancel = context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	collect(tiny, r, "slow", slow)
	time.Sleep(60 * time.Millisecond)
	impatient, cancel := context.WithTimeout(WithHungAfter(t.Context(), 50*time.Millisecond), 5*time.Second)
	defer cancel()
	if got, err := collect(impatient, r, "slow", slow); !errors.Is(err, ErrStillRunning) || len(got) != 0 {
		t.Errorf("%d metrics, err %v; want ErrStillRunning without waiting", len(got), err)
	}
	if n := starts.Load(); n != 3 {
		t.Errorf("started %d times, want 3", n)
	}
}

// A collector that panics fails its own scrape; the process goes on. It
// took the whole exporter down (procfs panics on some malformed files).
func TestRunRecoversAPanic(t *testing.T) {
	r := NewRunner(nil)
	boom := func(context.Context, chan<- prometheus.Metric) error {
		var s []int
		_ = s[1] // index out of range, as a parser meeting a short line
		return nil
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for name, ctx := range map[string]context.Context{"with a deadline": ctx, "without": context.Background()} {
		if _, err := collect(ctx, r, "boom", boom); !errors.Is(err, ErrPanic) || !strings.Contains(err.Error(), "index out of range") {
			t.Errorf("%s: err %v, want ErrPanic naming the panic", name, err)
		}
	}
}
