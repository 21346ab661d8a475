package alertclient

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// With DeferSpoolCreation, a spool directory that does not exist is made
// only when an alert has to wait in it: mode 0700, its parents as mkdir -p
// makes them (a parent such as /var/lib/warden must stay open to the
// services below it). A flush finds nothing to do meanwhile.
func TestDeferredSpoolCreation(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "state", "warden")
	spool := filepath.Join(parent, "alert-spool")
	f := newFakeAM(t, 200)
	cfg := testConfig(t, spool, []*fakeAM{f})
	c, err := New(Options{Config: cfg, Logger: slog.New(slog.DiscardHandler), DeferSpoolCreation: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(context.Background(), alertsNamed("A")); err != nil {
		t.Fatal(err)
	}
	if res, err := c.Flush(context.Background()); err != nil || res.Delivered != 0 {
		t.Fatalf("Flush: %+v %v", res, err)
	}
	if _, err := os.Stat(parent); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("made %s before anything had to wait: %v", parent, err)
	}

	cfg = testConfig(t, spool, nil, closedURL(t))
	down, err := New(Options{Config: cfg, Logger: slog.New(slog.DiscardHandler), DeferSpoolCreation: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if res, err := down.Send(ctx, alertsNamed("B")); !errors.Is(err, ErrSpooled) || res.Spooled != 1 {
		t.Fatalf("Send with the Alertmanager down: %+v %v", res, err)
	}
	for dir, want := range map[string]os.FileMode{spool: 0o700, parent: 0o755} {
		if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm()&^0o022 != want&^0o022 {
			t.Errorf("%s: %v %v, want mode %04o", dir, fi, err, want)
		}
	}
	// The first client finds what the second spooled.
	res, err := c.Flush(context.Background())
	if err != nil || res.Delivered != 1 {
		t.Errorf("Flush after the spool was made: %+v %v", res, err)
	}
}
