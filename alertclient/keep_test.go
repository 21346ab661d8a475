package alertclient

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/model"
)

// keepClient is testClient with a resend interval.
func keepClient(t *testing.T, spool string, interval time.Duration, fakes ...*fakeAM) *Client {
	t.Helper()
	cfg := testConfig(t, spool, fakes)
	cfg.ResendInterval = model.Duration(interval)
	c, err := New(Options{Config: cfg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// near reports whether got is within slack of want.
func near(got, want time.Time, slack time.Duration) bool {
	d := got.Sub(want)
	return d > -slack && d < slack
}

// A kept alert is sent ending four resend intervals ahead, re-sent with the
// same startsAt and a later endsAt, by this client or a new one on the same
// spool (a restart), until Resolve sends it resolved and forgets it.
func TestKeepResendUntilResolved(t *testing.T) {
	f := newFakeAM(t, 200)
	spool := t.TempDir()
	const interval = time.Minute
	c := keepClient(t, spool, interval, f)
	ctx := context.Background()
	alert := Alert{Labels: map[string]string{"alertname": "BackupFailed", "job": "nightly"}, Annotations: map[string]string{"summary": "backup failed"}}

	before := time.Now()
	res, err := c.Keep(ctx, []Alert{alert}, 0)
	if err != nil || res.Delivered != 1 {
		t.Fatalf("Keep: res %+v err %v", res, err)
	}
	got := f.alerts()
	if len(got) != 1 || !near(got[0].EndsAt, before.Add(4*interval), 2*time.Second) || got[0].Annotations["summary"] != "backup failed" {
		t.Fatalf("first send %+v, want endsAt four intervals ahead", got)
	}
	started := got[0].StartsAt

	// A new client on the same spool: the exporter restarted.
	restarted := keepClient(t, spool, interval, f)
	res, err = restarted.ResendKept(ctx)
	if err != nil || res.Kept != 1 {
		t.Fatalf("ResendKept: res %+v err %v", res, err)
	}
	got = f.alerts()
	if len(got) != 2 || !got[1].StartsAt.Equal(started) || got[1].EndsAt.Before(got[0].EndsAt) {
		t.Fatalf("re-send %+v, want the same startsAt %s and an endsAt no earlier", got[1], started)
	}

	res, err = restarted.Resolve(ctx, []Alert{{Labels: alert.Labels}})
	if err != nil || res.Forgotten != 1 {
		t.Fatalf("Resolve: res %+v err %v", res, err)
	}
	got = f.alerts()
	if last := got[len(got)-1]; !last.StartsAt.Equal(started) || last.EndsAt.After(time.Now()) {
		t.Errorf("resolution %+v, want startsAt %s and endsAt now", last, started)
	}
	res, err = c.ResendKept(ctx)
	if err != nil || res.Kept != 0 || len(f.alerts()) != 3 {
		t.Errorf("after Resolve, ResendKept sent %+v (err %v); the fake holds %d alerts, want 3", res, err, len(f.alerts()))
	}
	if kept, err := c.Kept(); err != nil || len(kept) != 0 {
		t.Errorf("still kept after Resolve: %+v %v", kept, err)
	}
}

// Keeping the same labels again replaces the annotations but keeps the
// start: Alertmanager knows one alert.
func TestKeepAgainKeepsTheStart(t *testing.T) {
	f := newFakeAM(t, 200)
	c := keepClient(t, t.TempDir(), time.Minute, f)
	labels := map[string]string{"alertname": "A"}
	if _, err := c.Keep(context.Background(), []Alert{{Labels: labels, StartsAt: time.Now().Add(-time.Hour)}}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Keep(context.Background(), []Alert{{Labels: labels, Annotations: map[string]string{"summary": "again"}}}, 0); err != nil {
		t.Fatal(err)
	}
	kept, err := c.Kept()
	if err != nil || len(kept) != 1 {
		t.Fatalf("kept %+v err %v, want one", kept, err)
	}
	got := f.alerts()
	if !got[1].StartsAt.Equal(got[0].StartsAt) || kept[0].Alert.Annotations["summary"] != "again" {
		t.Errorf("second keep %+v after %+v: want the first start and the new annotation", got[1], got[0])
	}
}

// An alert kept with an expiry ends at it, and the loop forgets it then
// instead of sending it again.
func TestKeepExpires(t *testing.T) {
	f := newFakeAM(t, 200)
	c := keepClient(t, t.TempDir(), time.Minute, f)
	before := time.Now()
	if _, err := c.Keep(context.Background(), alertsNamed("Short"), 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if got := f.alerts(); !near(got[0].EndsAt, before.Add(300*time.Millisecond), 200*time.Millisecond) {
		t.Errorf("endsAt %s, want the expiry", got[0].EndsAt)
	}
	time.Sleep(400 * time.Millisecond)
	res, err := c.ResendKept(context.Background())
	if err != nil || res.Kept != 0 || len(f.alerts()) != 1 {
		t.Errorf("expired alert re-sent: %+v %v", res, err)
	}
	if kept, _ := c.Kept(); len(kept) != 0 {
		t.Errorf("expired alert still kept: %+v", kept)
	}
}

// FlushLoop re-sends kept alerts at once (an exporter restarting must not
// wait an interval while the alert's endsAt passes) and then every
// resend_interval.
func TestFlushLoopResendsKeptAlerts(t *testing.T) {
	f := newFakeAM(t, 200)
	spool := t.TempDir()
	store, err := OpenKeptAlerts(spool)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Put(context.Background(), alertsNamed("Kept"), time.Now(), time.Time{}); err != nil {
		t.Fatal(err)
	}
	const interval = 300 * time.Millisecond
	c := keepClient(t, spool, interval, f)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		c.FlushLoop(ctx, time.Hour)
	}()
	for len(f.alerts()) == 0 && time.Since(start) < interval {
		time.Sleep(5 * time.Millisecond)
	}
	if d := time.Since(start); d >= interval {
		t.Errorf("first re-send after %s, want it at once", d)
	}
	time.Sleep(5*interval + interval/2)
	cancel()
	<-done
	if n := len(f.alerts()); n < 5 || n > 7 {
		t.Errorf("%d sends in %s with resend_interval %s, want 6", n, 5*interval+interval/2, interval)
	}
}

func TestKeepNeedsASpool(t *testing.T) {
	f := newFakeAM(t, 200)
	c := keepClient(t, "", time.Minute, f)
	if _, err := c.Keep(context.Background(), alertsNamed("A"), 0); !errors.Is(err, ErrNoSpool) {
		t.Errorf("got %v, want ErrNoSpool", err)
	}
	if f.posts.Load() != 0 {
		t.Error("sent an alert it could not keep")
	}
}

// warden_alertclient_kept_alerts counts the kept alerts.
func TestKeptAlertsMetric(t *testing.T) {
	f := newFakeAM(t, 200)
	c := keepClient(t, t.TempDir(), time.Minute, f)
	if _, err := c.Keep(context.Background(), alertsNamed("A", "B"), 0); err != nil {
		t.Fatal(err)
	}
	want := "# HELP warden_alertclient_kept_alerts Firing alerts kept in the spool, re-sent every resend_interval until resolved or expired.\n" +
		"# TYPE warden_alertclient_kept_alerts gauge\nwarden_alertclient_kept_alerts 2\n"
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "warden_alertclient_kept_alerts"); err != nil {
		t.Error(err)
	}
}

// The kept directory is held to the spool's rules: refused when others
// can write to it; a file put there by another user, or a symbolic link,
// is set aside and never sent.
func TestKeptAlertsTrust(t *testing.T) {
	t.Run("group-writable directory", func(t *testing.T) {
		spool := t.TempDir()
		if err := os.Mkdir(KeptDir(spool), 0o770); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(KeptDir(spool), 0o770); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenKeptAlerts(spool); err == nil || !strings.Contains(err.Error(), "writable by group or others") {
			t.Errorf("got %v, want the directory refused", err)
		}
	})
	t.Run("planted files", func(t *testing.T) {
		f := newFakeAM(t, 200)
		spool := t.TempDir()
		// A good kept file for an alert, copied under the names of
		// two others: as a symbolic link, and (as root) owned by another user.
		store, err := OpenKeptAlerts(spool)
		if err != nil {
			t.Fatal(err)
		}
		planted := Alert{Labels: map[string]string{"alertname": "Planted"}}
		if _, err := store.Put(context.Background(), []Alert{planted}, time.Now(), time.Time{}); err != nil {
			t.Fatal(err)
		}
		good := filepath.Join(store.Dir(), labelsKey(planted.Labels))
		outside := filepath.Join(t.TempDir(), "outside")
		if err := os.Rename(good, outside); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, good); err != nil {
			t.Fatal(err)
		}
		c := keepClient(t, spool, time.Minute, f)
		res, err := c.ResendKept(context.Background())
		if !errors.Is(err, ErrSpoolCorrupt) || res.Kept != 0 || f.posts.Load() != 0 {
			t.Errorf("symlink: res %+v err %v posts %d, want it set aside and nothing sent", res, err, f.posts.Load())
		}
		if os.Geteuid() != 0 {
			return
		}
		data, err := os.ReadFile(outside)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(good, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(good, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		res, err = c.ResendKept(context.Background())
		if !errors.Is(err, ErrSpoolUntrusted) || res.Kept != 0 || f.posts.Load() != 0 {
			t.Errorf("foreign file: res %+v err %v posts %d, want it set aside and nothing sent", res, err, f.posts.Load())
		}
	})
}

// A kept file changed on disk (torn, edited, or renamed to another
// alert's name) is set aside, not sent.
func TestKeptFileCorruption(t *testing.T) {
	spool := t.TempDir()
	store, err := OpenKeptAlerts(spool)
	if err != nil {
		t.Fatal(err)
	}
	a, b := Alert{Labels: map[string]string{"alertname": "A"}}, Alert{Labels: map[string]string{"alertname": "B"}}
	if _, err := store.Put(context.Background(), []Alert{a, b}, time.Now(), time.Time{}); err != nil {
		t.Fatal(err)
	}
	pathA, pathB := filepath.Join(store.Dir(), labelsKey(a.Labels)), filepath.Join(store.Dir(), labelsKey(b.Labels))
	data, err := os.ReadFile(pathA)
	if err != nil {
		t.Fatal(err)
	}
	// B's name, A's content: would re-send A twice and never B.
	if err := os.WriteFile(pathB, data, 0o600); err != nil {
		t.Fatal(err)
	}
	kept, err := store.List()
	if len(kept) != 1 || kept[0].Alert.Name() != "A" || !errors.Is(err, ErrSpoolCorrupt) || !strings.Contains(err.Error(), "do not match its name") {
		t.Fatalf("kept %+v err %v", kept, err)
	}
	// Torn: every prefix is refused.
	for i := range len(data) - 1 {
		if _, err := decodeKept(data[:i]); err == nil {
			t.Fatalf("a kept file cut at %d bytes decoded", i)
		}
	}
	if _, err := os.Stat(pathB + spoolCorruptExt); err != nil {
		t.Errorf("corrupt file not set aside: %v", err)
	}
}

// A Resolve does not wait for a re-send round held up by Alertmanager,
// and when it overtakes the round (the round's firing copy arrives after
// the resolution), the round sends the alert resolved again: it ends
// resolved.
func TestResolveOvertakingAResendRound(t *testing.T) {
	f := newFakeAM(t, 200)
	spool := t.TempDir()
	c := keepClient(t, spool, time.Minute, f)
	labels := map[string]string{"alertname": "Overtaken"}
	if _, err := c.Keep(context.Background(), []Alert{{Labels: labels}}, 0); err != nil {
		t.Fatal(err)
	}
	// The round's POST is held until the resolution went through.
	arrived, release := make(chan struct{}), make(chan struct{})
	var posts atomic.Int32
	next := f.Config.Handler
	f.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && posts.Add(1) == 1 {
			close(arrived)
			<-release
		}
		next.ServeHTTP(w, r)
	})
	round := make(chan error, 1)
	go func() {
		_, err := c.ResendKept(context.Background())
		round <- err
	}()
	<-arrived
	start := time.Now()
	res, err := keepClient(t, spool, time.Minute, f).Resolve(context.Background(), []Alert{{Labels: labels}})
	if err != nil || res.Forgotten != 1 {
		t.Fatalf("Resolve: res %+v err %v", res, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Resolve waited %s for the round", d)
	}
	close(release)
	if err := <-round; err != nil {
		t.Fatal(err)
	}
	got := f.alerts()
	if last := got[len(got)-1]; last.EndsAt.After(time.Now()) {
		t.Errorf("Alertmanager was told last %+v: firing after its resolution (all: %+v)", last, got)
	}
}

// A flush or a re-send round that no Alertmanager took, but one may yet
// (503, retried until the deadline), ends in ErrSpooled: the batch is
// still spooled and the alert still kept, as after a Send that spooled.
// A refusal (401) is not ErrSpooled. The fake answers what a real
// Alertmanager does not on demand.
func TestFlushUndeliveredIsSpooled(t *testing.T) {
	for _, tt := range []struct {
		status  int
		spooled bool
	}{
		{http.StatusServiceUnavailable, true},
		{http.StatusUnauthorized, false},
	} {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			f := newFakeAM(t, http.StatusOK, tt.status) // the Keep goes through
			c := keepClient(t, t.TempDir(), time.Minute, f)
			if _, err := c.Keep(context.Background(), []Alert{{Labels: map[string]string{"alertname": "Kept"}}}, 0); err != nil {
				t.Fatal(err)
			}
			if err := c.spool.Put([]Alert{{Labels: map[string]string{"alertname": "Spooled"}}}); err != nil {
				t.Fatal(err)
			}
			for name, round := range map[string]func(context.Context) (*Result, error){"Flush": c.Flush, "ResendKept": c.ResendKept} {
				ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
				res, err := round(ctx)
				cancel()
				if err == nil || errors.Is(err, ErrSpooled) != tt.spooled || res.Delivered != 0 {
					t.Errorf("%s with Alertmanager answering %d: res %+v, err %v; want ErrSpooled %v", name, tt.status, res, err, tt.spooled)
				}
			}
			if st, err := c.spool.Stats(); err != nil || st.Batches != 1 {
				t.Errorf("spool %+v (%v), want the batch still there", st, err)
			}
			if kept, err := c.Kept(); err != nil || len(kept) != 1 {
				t.Errorf("kept %+v (%v), want the alert still kept", kept, err)
			}
		})
	}
}

// FlushLoop waits between tries when the spool cannot be delivered: an
// Alertmanager that refuses at once (a wrong password) gets a try an
// interval, not a loop without pause.
func TestFlushLoopWaitsAfterARefusal(t *testing.T) {
	f := newFakeAM(t, http.StatusUnauthorized)
	c := keepClient(t, t.TempDir(), time.Hour, f)
	if err := c.spool.Put(alertsNamed("Refused")); err != nil {
		t.Fatal(err)
	}
	const interval, run = 100 * time.Millisecond, 550 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), run)
	defer cancel()
	c.FlushLoop(ctx, interval)
	if n := f.posts.Load(); n < 2 || n > 8 {
		t.Errorf("%d posts in %s with a flush interval of %s, want about 6", n, run, interval)
	}
}
