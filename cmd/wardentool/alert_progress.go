package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/warden-exporter/warden/alertclient"
)

// progress tells a person at a terminal what a long send is doing: once
// it has taken progressAfter, how many alerts went of how many, on one
// line it rewrites; and, once for each Alertmanager, that it is being
// retried and when next. Scripts (stderr not a terminal) get nothing of
// it.
type progress struct {
	w     io.Writer
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
	ended sync.Once

	mu          sync.Mutex
	done, total int
	shown       bool // a progress line is on the screen
	told        map[string]bool
}

// progressAfter is how long a send runs before its progress is shown.
const progressAfter = time.Second

// clearLine moves to the start of the line and erases it.
const clearLine = "\r\x1b[K"

// newProgress returns the progress of a send of total alerts (0 when not
// known) shown on stderr, or nil when stderr is not a terminal.
func newProgress(stderr io.Writer, total int) *progress {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	p := &progress{w: stderr, start: time.Now(), stop: make(chan struct{}), total: total, told: map[string]bool{}}
	if total > 0 {
		p.wg.Go(p.run)
	}
	return p
}

// hook sets the client options that report to p.
func (p *progress) hook(opts *alertclient.Options) {
	if p == nil {
		return
	}
	opts.Progress = p.sent
	opts.Retrying = p.retrying
}

func (p *progress) sent(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done, p.total = done, total
}

// retrying says once for each Alertmanager that it is retried, and when.
func (p *progress) retrying(alertmanager string, err error, next time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.told[alertmanager] {
		return
	}
	p.told[alertmanager] = true
	if p.shown {
		fmt.Fprint(p.w, clearLine)
		p.shown = false
	}
	fmt.Fprintf(p.w, "%s: %s did not take the alerts (%s); retrying, next attempt at %s\n", name,
		alertclient.Printable(alertmanager), printableLines(err.Error()), next.Format("15:04:05"))
}

// run redraws the progress line from progressAfter on, until end.
func (p *progress) run() {
	select {
	case <-p.stop:
		return
	case <-time.After(progressAfter):
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		p.mu.Lock()
		fmt.Fprintf(p.w, "%s%d/%d alerts sent", clearLine, p.done, p.total)
		p.shown = true
		p.mu.Unlock()
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
	}
}

// end takes the progress line away, before the command's report; again,
// it does nothing.
func (p *progress) end() {
	if p == nil {
		return
	}
	p.ended.Do(func() { close(p.stop) })
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, clearLine)
		p.shown = false
	}
}
