package alertclient

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/warden-exporter/warden/internal/silentserver"
)

// hungURL is an https URL whose server accepts connections and never
// answers.
func hungURL(t *testing.T) string { return "https://" + silentserver.Start(t) }

// acceptedWithin waits up to d for f to hold n alerts.
func acceptedWithin(f *fakeAM, n int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if f.count() >= n {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return f.count() >= n
}

// An Alertmanager that accepts connections and never answers delays no
// other: every batch of a Send reaches the healthy one at once, and Send
// returns within stragglerGrace after the last, where it used to wait for
// the hung one's timeout on every batch (2 s each here).
func TestHungAlertmanagerDelaysNoOtherInSend(t *testing.T) {
	f := newFakeAM(t, 200)
	c := testClient(t, "", []*fakeAM{f}, hungURL(t)) // batches of two
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	res, err := c.Send(ctx, alertsNamed("A", "B", "C", "D", "E"))
	took := time.Since(start)
	if err != nil || res.Delivered != 5 || f.count() != 5 {
		t.Fatalf("res %+v err %v, healthy one accepted %d", res, err, f.count())
	}
	if took > stragglerGrace+time.Second {
		t.Errorf("Send took %s with a hung Alertmanager beside a healthy one", took)
	}
	var hung EndpointResult
	for _, r := range res.Endpoints {
		if r.URL != f.URL {
			hung = r
		}
	}
	if hung.Accepted || hung.Err == nil || !strings.Contains(hung.Err.Error(), "no answer yet") {
		t.Errorf("the hung one's result %+v, want no answer yet", hung)
	}
}

// In the alert loop, the same: Sends through the loop's queues and the
// spool's flush reach the healthy one at once while the hung one's queue
// grows, which warden_alertclient_queue_batches shows.
func TestHungAlertmanagerDelaysNoOtherInLoop(t *testing.T) {
	f := newFakeAM(t, 200)
	hung := hungURL(t)
	spool := t.TempDir()
	s, err := OpenSpool(spool, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(alertsNamed("Spooled")); err != nil {
		t.Fatal(err)
	}
	c := testClient(t, spool, []*fakeAM{f}, hung)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.FlushLoop(ctx, 50*time.Millisecond)
	}()
	defer func() {
		cancel()
		<-done
	}()
	if !acceptedWithin(f, 1, time.Second) {
		t.Fatal("the spooled alert did not reach the healthy Alertmanager within 1s")
	}
	for i, name := range []string{"One", "Two", "Three"} {
		start := time.Now()
		if _, err := c.Send(context.Background(), alertsNamed(name)); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 500*time.Millisecond || f.count() != i+2 {
			t.Errorf("send %d through the loop took %s (healthy one holds %d alerts)", i, d, f.count())
		}
	}
	want := `warden_alertclient_queue_batches{alertmanager="` + hung + `"} 3`
	if got, err := testutil.CollectAndFormat(c, expfmt.TypeTextPlain, "warden_alertclient_queue_batches"); err != nil || !strings.Contains(string(got), want) {
		t.Errorf("queue metric %s (%v), want %s", got, err, want)
	}
}

// Every Alertmanager gets every batch, not only the first to accept: ones
// that do not gossip (not a cluster) each need it. A slower one finishes
// within the grace a Send gives.
func TestEveryAlertmanagerGetsEveryBatch(t *testing.T) {
	fast := newFakeAM(t, 200)
	slow := newFakeAM(t, 200)
	slowHandler := slow.Config.Handler
	slow.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond)
		slowHandler.ServeHTTP(w, r)
	})
	c := testClient(t, "", []*fakeAM{fast, slow})
	if _, err := c.Send(context.Background(), alertsNamed("A", "B", "C")); err != nil {
		t.Fatal(err)
	}
	if fast.count() != 3 || slow.count() != 3 {
		t.Errorf("fast one holds %d, slow one %d, want 3 each", fast.count(), slow.count())
	}
}

// A full queue drops its oldest batch for that Alertmanager only, and
// counts the alerts dropped.
func TestFullQueueDropsOldest(t *testing.T) {
	f := newFakeAM(t, 200)
	hung := hungURL(t)
	c := testClient(t, "", []*fakeAM{f}, hung)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := c.newDispatcher(ctx, 2)
	defer d.stop()
	var jobs []*job
	for _, name := range []string{"A", "B", "C", "D", "E"} {
		j := d.submit(ctx, alertsNamed(name))
		<-j.done // accepted by the healthy one
		jobs = append(jobs, j)
	}
	if f.count() != 5 {
		t.Fatalf("healthy one holds %d alerts, want 5", f.count())
	}
	// The hung one is stuck on A; B and C were dropped for D and E.
	if n := d.queued()[hung]; n != 2 {
		t.Errorf("hung queue holds %d batches, want 2", n)
	}
	if n := testutil.ToFloat64(c.metrics.dropped.WithLabelValues(hung)); n != 2 {
		t.Errorf("dropped metric %v, want 2", n)
	}
	for i, j := range jobs {
		results, _ := j.outcome(ctx)
		for _, r := range results {
			if dropped := errors.Is(r.Err, errDropped); r.URL == hung && dropped != (i == 1 || i == 2) {
				t.Errorf("batch %d at the hung one: %+v; want B and C dropped", i, r)
			}
			// The hung one may catch up: a batch every queue dropped is
			// spooled, not lost.
			if errors.Is(r.Err, errDropped) && !errors.Is(r.Err, errTransient) {
				t.Errorf("batch %d: dropped is not transient: %v", i, r.Err)
			}
		}
	}
}
