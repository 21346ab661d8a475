package alertclient

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/warden-exporter/warden/internal/atomicfile"
)

// The spool's directory holds, besides the batches:
//
//	<20-digit unix nanoseconds>-<8 hex digits>.json   a batch, complete and fsynced
//	<batch>.json.corrupt                              a batch found torn or corrupt, kept for the operator
//	<batch>.json.refused                              a batch every Alertmanager refused (ErrBatchRefused), kept for the operator
//	tmp-*.tmp                                         a batch being written (or left by a crash)
//	flush.lock, put.lock                              flock(2) targets
//
// A batch file appears under its final name only by rename(2) after fsync,
// so a crash leaves either the whole batch or a temp file, never a partial
// batch. Names sort in the order the batches were written.
//
// What is in the directory is delivered with this user's Alertmanager
// credentials, so nobody else may put anything there: the directory must
// belong to this user and be writable by nobody else (OpenSpool refuses it
// otherwise); lock and batch files are opened without following symbolic
// links; and a batch file this user does not own, or that is not a regular
// file, is set aside as *.corrupt, not delivered.
const (
	spoolBatchExt    = ".json"
	spoolCorruptExt  = ".corrupt"
	spoolRefusedExt  = ".refused"
	spoolTempPrefix  = "tmp-"
	spoolTempExt     = ".tmp"
	spoolFlushLock   = "flush.lock"
	spoolPutLock     = "put.lock"
	spoolFormat      = 1
	spoolTempMaxAge  = time.Minute
	spoolLockPollMax = 100 * time.Millisecond
)

var (
	// ErrSpoolFull: the batch would take the spool beyond its max_bytes.
	// Nothing was written.
	ErrSpoolFull = errors.New("alert spool is full")
	// ErrSpoolBusy: another flusher or writer, in this process or
	// another, held the spool's lock until the context ended.
	ErrSpoolBusy = errors.New("alert spool is locked by another process")
)

// Spool is a directory of alert batches waiting for an Alertmanager. It is
// safe for concurrent use by goroutines and by processes sharing the
// directory (flock(2) on lock files in it, so the directory must be on a
// local file system).
type Spool struct {
	dir      string
	maxBytes int64

	mu sync.Mutex
	// absent: the directory did not exist when the Spool was opened with
	// its creation deferred (openSpool); the first Put creates it, and
	// until then there is nothing to flush or count.
	absent bool
	// last is the timestamp of the last batch name, kept strictly
	// increasing so that a clock step back does not reorder batches.
	last int64
	// counts remembers the alert count of batch files Stats already read.
	// Batch files never change once renamed into place, so this is not a
	// cache that can go stale; it spares reading the whole spool on every
	// scrape.
	counts map[string]spoolCount
}

type spoolCount struct {
	size    int64
	modTime time.Time
	alerts  int
	ok      bool
}

// SpoolStats is what the spool holds.
type SpoolStats struct {
	// Batches and Alerts count the valid batch files waiting.
	Batches, Alerts int
	// Bytes is the size of the batch files: what counts against max_bytes.
	Bytes int64
	// Corrupt counts files kept aside as *.corrupt, and batch files found
	// invalid that the next Flush will set aside.
	Corrupt int
	// Refused counts batches every Alertmanager refused for what they
	// hold, kept aside as *.refused (see ErrBatchRefused).
	Refused int
}

// batchFile is a batch's form on disk. SHA256 is the hex SHA-256 of the
// exact bytes of Alerts, which are the alerts' compact JSON.
type batchFile struct {
	Version int             `json:"version"`
	Created time.Time       `json:"created"`
	Alerts  json.RawMessage `json:"alerts"`
	SHA256  string          `json:"sha256"`
}

// OpenSpool opens (creating, mode 0700) the spool directory. maxBytes
// bounds the total size of the batch files (0: no bound). Temp files a
// crash left behind are removed once older than a minute, here and by
// Flush; younger ones may belong to a Put in flight in another process.
func OpenSpool(dir string, maxBytes int64) (*Spool, error) {
	return openSpool(dir, maxBytes, false)
}

// openSpool is OpenSpool; with deferCreate, a directory that does not
// exist yet is created by the first Put instead, for a default spool that
// a command should not create on every run.
func openSpool(dir string, maxBytes int64, deferCreate bool) (*Spool, error) {
	if maxBytes < 0 {
		return nil, fmt.Errorf("alert spool %s: max bytes %d is negative", dir, maxBytes)
	}
	s := &Spool{dir: dir, maxBytes: maxBytes, counts: map[string]spoolCount{}, absent: true}
	present, err := s.present(!deferCreate)
	if err != nil {
		return nil, err
	}
	if !present {
		return s, nil
	}
	if err := s.removeOldTemps(); err != nil {
		return nil, err
	}
	return s, nil
}

// present reports whether the spool's directory is there, creating it
// first with create, and checks it the first time it is found: opened
// with its creation deferred, a Spool finds it made by its own first Put
// or by another process.
func (s *Spool) present(create bool) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.absent {
		return true, nil
	}
	dir := s.dir
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if !create {
			return false, nil
		}
		// Parents as mkdir -p makes them, not 0700: a parent such as
		// /var/lib/warden must stay open to the services below it.
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return false, fmt.Errorf("create alert spool: %w", err)
		}
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return false, fmt.Errorf("create alert spool: %w", err)
		}
		// Make the new directory itself durable, or the batches fsynced
		// into it could vanish with it.
		if err := atomicfile.SyncDir(filepath.Dir(dir)); err != nil {
			return false, fmt.Errorf("create alert spool %s: %w", dir, err)
		}
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return false, fmt.Errorf("open alert spool: %w", err)
	}
	if !fi.IsDir() {
		return false, fmt.Errorf("open alert spool: %s is not a directory", dir)
	}
	if err := checkSpoolDir(dir, fi); err != nil {
		return false, err
	}
	s.absent = false
	return true, nil
}

// checkSpoolDir refuses a spool directory that another user could put a
// batch into, which this user would then deliver with its credentials:
// one writable by group or others (a sticky bit does not help: a planted
// file is still delivered), or owned by another user.
func checkSpoolDir(dir string, fi fs.FileInfo) error {
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("alert spool %s is writable by group or others (mode %04o): another user could plant alerts "+
			"that this one would deliver with its credentials; chmod go-w %s", dir, perm, dir)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("alert spool %s: cannot tell its owner", dir)
	}
	if uid := os.Geteuid(); int(st.Uid) != uid {
		return fmt.Errorf("alert spool %s is owned by uid %d, not by this user (uid %d): "+
			"run as its owner, or give this user a spool of its own", dir, st.Uid, uid)
	}
	return nil
}

// Put writes one batch durably: temp file in the same directory, write,
// fsync, close, rename to the final name, fsync the directory. When it
// returns nil the batch survives a crash or kill -9. It returns an error
// wrapping ErrSpoolFull when the batch would take the batch files beyond
// maxBytes; nothing is written then. An empty batch writes nothing.
func (s *Spool) Put(alerts []Alert) error { return s.PutContext(context.Background(), alerts) }

// PutContext is Put, waiting for another writer's lock only until ctx
// ends (an error wrapping ErrSpoolBusy then): a writer stopped while
// holding it (a wardentool suspended with Ctrl-Z) or stuck in an fsync
// must not hold a send past its deadline.
func (s *Spool) PutContext(ctx context.Context, alerts []Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	if _, err := s.present(true); err != nil {
		return err
	}
	// The put lock makes the size check and the write one step, so that
	// concurrent writers cannot together overrun the bound.
	unlock, err := s.lock(ctx, spoolPutLock, ctx.Done() == nil)
	if err != nil {
		return err
	}
	defer unlock()

	held, newest, err := s.scan(s.maxBytes > 0)
	if err != nil {
		return err
	}
	created := s.nextTime(newest)
	data, err := encodeBatch(alerts, created)
	if err != nil {
		return fmt.Errorf("alert spool %s: encode batch: %w", s.dir, err)
	}
	if s.maxBytes > 0 {
		if held+int64(len(data)) > s.maxBytes {
			return fmt.Errorf("%w: %s holds %d bytes; a batch of %d bytes would exceed the bound of %d bytes",
				ErrSpoolFull, s.dir, held, len(data), s.maxBytes)
		}
	}
	name, err := batchName(created)
	if err != nil {
		return err
	}
	return s.writeFile(name, data)
}

// writeFile puts data under name in the spool, or nothing at all.
func (s *Spool) writeFile(name string, data []byte) (err error) {
	f, err := os.CreateTemp(s.dir, spoolTempPrefix+"*"+spoolTempExt)
	if err != nil {
		return fmt.Errorf("alert spool: %w", err)
	}
	tmp := f.Name()
	final := filepath.Join(s.dir, name)
	defer func() {
		if err != nil {
			f.Close()
			_ = os.Remove(tmp) // best effort: OpenSpool removes old temp files too
			err = fmt.Errorf("alert spool: write %s: %w", final, err)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	if err := atomicfile.SyncDir(s.dir); err != nil {
		// The caller is told the batch is not spooled: do not leave it
		// there to be delivered as a duplicate of whatever it does next.
		_ = os.Remove(final) // best effort: the error returned already says "not spooled"
		return err
	}
	return nil
}

// Flush delivers the batches oldest first by calling deliver for each. A
// batch file is removed only after deliver returned nil for it, so a
// batch is delivered at least once, and more than once only if the
// process dies between deliver and the removal. Flush stops at the first
// deliver error and returns it, wrapped and naming the batch file, with
// the number of alerts delivered so far.
//
// Only one Flush at a time runs on a directory, across processes. A second
// flusher waits for the first to finish; if ctx ends first, it returns an
// error wrapping both ErrSpoolBusy and ctx.Err().
//
// A batch file found torn or corrupt is never delivered: it is renamed to
// <name>.corrupt for the operator, counted by Stats, and Flush, after
// delivering the valid batches, returns an error naming each such file.
// So is a batch for which deliver returns ErrBatchRefused, as
// <name>.refused, once the same flush delivered another batch (see
// flushLocked): it would block every batch behind it for ever.
func (s *Spool) Flush(ctx context.Context, deliver func(context.Context, []Alert) error) (delivered int, err error) {
	if present, err := s.present(false); err != nil || !present {
		return 0, err
	}
	unlock, err := s.lock(ctx, spoolFlushLock, false)
	if err != nil {
		return 0, err
	}
	defer unlock()

	if err := s.removeOldTemps(); err != nil {
		return 0, err
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return 0, fmt.Errorf("read alert spool: %w", err)
	}
	delivered, errs, changed := s.flushLocked(ctx, entries, deliver)
	if changed {
		// Removals and renames that do not reach the disk only cause a
		// duplicate delivery or a corrupt file reported again.
		if err := atomicfile.SyncDir(s.dir); err != nil {
			errs = append(errs, fmt.Errorf("alert spool: %w", err))
		}
	}
	return delivered, errors.Join(errs...)
}

// flushLocked does Flush's work under the flush lock. It returns the
// alerts delivered, every problem found, and whether the directory changed.
//
// A batch every Alertmanager refused for its content is set aside only
// once the same flush delivered another: then the Alertmanagers take
// alerts, and the refusal is the batch's. Until then it stays spooled and
// is reported as not delivered (not ErrBatchRefused): a wrong URL, such as
// http:// to an HTTPS server, or a proxy that wants a header, answers 400
// to every batch, and setting them all aside would lose them.
func (s *Spool) flushLocked(ctx context.Context, entries []fs.DirEntry, deliver func(context.Context, []Alert) error) (delivered int, errs []error, changed bool) {
	type refusal struct {
		path, name string
		err        error
	}
	var refused []refusal
	defer func() {
		for _, r := range refused {
			if delivered == 0 {
				// Its text only: not ErrBatchRefused, which would tell
				// callers the batch was set aside.
				errs = append(errs, fmt.Errorf("deliver spooled batch %s: %s; left spooled: no batch was accepted to show that the refusal is the batch's, not the Alertmanagers' or their URL's", r.path, r.err.Error()))
				continue
			}
			changed = true
			if rerr := os.Rename(r.path, r.path+spoolRefusedExt); rerr != nil {
				errs = append(errs, fmt.Errorf("deliver spooled batch %s: %w; setting it aside failed: %w", r.path, r.err, rerr))
				continue
			}
			errs = append(errs, fmt.Errorf("deliver spooled batch %s: %w (kept as %s%s, not retried)", r.path, r.err, r.name, spoolRefusedExt))
		}
	}()
	// os.ReadDir sorts by name, which is creation order.
	for _, e := range entries {
		if !isBatchFile(e) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return delivered, append(errs, fmt.Errorf("flush alert spool %s: %w", s.dir, err)), changed
		}
		path := filepath.Join(s.dir, e.Name())
		alerts, err := readBatch(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// Removed by hand meanwhile; nothing to deliver.
			continue
		case errors.Is(err, ErrSpoolCorrupt):
			changed = true
			if rerr := os.Rename(path, path+spoolCorruptExt); rerr != nil {
				errs = append(errs, fmt.Errorf("%w; setting it aside failed: %w", err, rerr))
				continue
			}
			errs = append(errs, fmt.Errorf("%w (kept as %s%s, not delivered)", err, e.Name(), spoolCorruptExt))
			continue
		case err != nil:
			return delivered, append(errs, err), changed
		}
		if err := deliver(ctx, alerts); errors.Is(err, ErrBatchRefused) {
			// Retrying would never deliver it, and every batch behind it
			// would wait forever: the batches behind go on, and it is set
			// aside for the operator (see above).
			refused = append(refused, refusal{path, e.Name(), err})
			continue
		} else if err != nil {
			return delivered, append(errs, fmt.Errorf("deliver spooled batch %s: %w", path, err)), changed
		}
		delivered += len(alerts)
		changed = true
		if err := os.Remove(path); err != nil {
			// Delivered, but it would be delivered again: stop before
			// making that worse.
			return delivered, append(errs, fmt.Errorf("alert spool: remove delivered batch: %w", err)), changed
		}
	}
	return delivered, errs, changed
}

// Stats returns the number of batches, alerts and bytes in the spool, and
// the number of corrupt files. It reads each batch file once per Spool
// and changes nothing; Flush sets corrupt files aside.
func (s *Spool) Stats() (SpoolStats, error) {
	if present, err := s.present(false); err != nil || !present {
		return SpoolStats{}, err
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return SpoolStats{}, fmt.Errorf("read alert spool: %w", err)
	}
	var st SpoolStats
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), spoolCorruptExt) && e.Type().IsRegular() {
			st.Corrupt++
			continue
		}
		if strings.HasSuffix(e.Name(), spoolRefusedExt) && e.Type().IsRegular() {
			st.Refused++
			continue
		}
		if !isBatchFile(e) {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // delivered or set aside meanwhile
		}
		if err != nil {
			return SpoolStats{}, fmt.Errorf("read alert spool: %w", err)
		}
		c, err := s.count(e.Name(), fi)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return SpoolStats{}, err
		}
		seen[e.Name()] = true
		st.Bytes += fi.Size()
		if !c.ok {
			st.Corrupt++
			continue
		}
		st.Batches++
		st.Alerts += c.alerts
	}
	s.mu.Lock()
	for name := range s.counts {
		if !seen[name] {
			delete(s.counts, name)
		}
	}
	s.mu.Unlock()
	return st, nil
}

// count returns what the batch file name holds, reading it unless this
// Spool read it already.
func (s *Spool) count(name string, fi fs.FileInfo) (spoolCount, error) {
	s.mu.Lock()
	c, ok := s.counts[name]
	s.mu.Unlock()
	if ok && c.size == fi.Size() && c.modTime.Equal(fi.ModTime()) {
		return c, nil
	}
	c = spoolCount{size: fi.Size(), modTime: fi.ModTime()}
	alerts, err := readBatch(filepath.Join(s.dir, name))
	switch {
	case errors.Is(err, ErrSpoolCorrupt):
	case err != nil:
		return c, err
	default:
		c.ok, c.alerts = true, len(alerts)
	}
	s.mu.Lock()
	s.counts[name] = c
	s.mu.Unlock()
	return c, nil
}

// scan returns the time in the name of the newest batch (Unix
// nanoseconds, 0 with none) and, withSize, the size of the batch files,
// the figure max_bytes bounds (a stat of each: only when there is a bound).
func (s *Spool) scan(withSize bool) (size, newest int64, err error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return 0, 0, fmt.Errorf("read alert spool: %w", err)
	}
	// A name stamped more than a day ahead is no batch of ours (the
	// largest stamp would wrap the next name round to a negative one).
	ahead := time.Now().Add(24 * time.Hour).UnixNano()
	for _, e := range entries { // sorted by name: the newest batch last
		if !isBatchFile(e) {
			continue
		}
		stamp, _, _ := strings.Cut(e.Name(), "-")
		if t, err := strconv.ParseInt(stamp, 10, 64); err == nil && t <= ahead {
			newest = max(newest, t)
		}
		if !withSize {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, 0, fmt.Errorf("read alert spool: %w", err)
		}
		size += fi.Size()
	}
	return size, newest, nil
}

// removeOldTemps removes temp files older than spoolTempMaxAge: a Put
// that left them died before it acknowledged the batch, so nobody relies
// on them. Younger ones may be a live Put's in another process.
func (s *Spool) removeOldTemps() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("read alert spool: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, spoolTempPrefix) || !strings.HasSuffix(name, spoolTempExt) || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil || time.Since(fi.ModTime()) < spoolTempMaxAge {
			continue
		}
		if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("alert spool: remove stale temp file: %w", err)
		}
	}
	return nil
}

// lock takes an exclusive flock on the lock file name in the spool and
// returns the function that releases it. A blocking lock waits in the
// kernel; otherwise lock polls until ctx ends, since a flock(2) in
// progress cannot be cancelled.
func (s *Spool) lock(ctx context.Context, name string, blocking bool) (func(), error) {
	path := filepath.Join(s.dir, name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("alert spool lock %s is a symbolic link, not followed: remove it", path)
	}
	if err != nil {
		return nil, fmt.Errorf("alert spool lock: %w", err)
	}
	fd := int(f.Fd())
	how := unix.LOCK_EX
	if !blocking {
		how |= unix.LOCK_NB
	}
	wait := time.Millisecond
	for {
		err := unix.Flock(fd, how)
		if err == nil {
			break
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("alert spool lock %s: %w", path, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("%w: %s: %w", ErrSpoolBusy, s.dir, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, spoolLockPollMax)
	}
	return func() {
		// Closing the only descriptor of this open file releases the lock.
		f.Close()
	}, nil
}

// nextTime returns the time for a new batch's name: now, or just after
// the last batch this Spool named or the newest in the directory,
// whichever is later. Batches are delivered in name order: after the
// clock stepped back, a resolution must not be named before the firing
// alert another process spooled.
func (s *Spool) nextTime(newest int64) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := time.Now().UnixNano()
	if last := max(s.last, newest); n <= last {
		n = last + 1
	}
	s.last = n
	return time.Unix(0, n).UTC()
}

// batchName names a batch created at t. The random part keeps names of
// batches written in the same nanosecond by different processes apart.
func batchName(t time.Time) (string, error) {
	var r [4]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("alert spool: %w", err)
	}
	return fmt.Sprintf("%020d-%s%s", t.UnixNano(), hex.EncodeToString(r[:]), spoolBatchExt), nil
}

func isBatchFile(e fs.DirEntry) bool {
	return strings.HasSuffix(e.Name(), spoolBatchExt) && e.Type().IsRegular()
}

func encodeBatch(alerts []Alert, created time.Time) ([]byte, error) {
	raw, err := json.Marshal(alerts)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	data, err := json.Marshal(batchFile{
		Version: spoolFormat,
		Created: created,
		Alerts:  raw,
		SHA256:  hex.EncodeToString(sum[:]),
	})
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// ErrSpoolCorrupt marks a batch file found torn or corrupt: it is kept
// aside as *.corrupt for the operator and never delivered.
var ErrSpoolCorrupt = errors.New("corrupt")

// ErrBatchRefused marks a batch that every Alertmanager refused for what
// it holds (400, 413 or 422), not for who sent it or how: sending it again
// would not help. A spooled batch refused so is set aside as *.refused
// once another batch is accepted, and the batches behind it go on.
var ErrBatchRefused = errors.New("refused by every Alertmanager")

// ErrSpoolUntrusted marks a batch file this user may not have written: one
// owned by another user, or not a regular file (a symbolic link put in
// place of a batch). It is handled as a corrupt one, and errors.Is(err,
// ErrSpoolCorrupt) holds too: set aside as *.corrupt, counted as corrupt by
// Stats, never delivered.
var ErrSpoolUntrusted error = untrustedError{}

type untrustedError struct{}

func (untrustedError) Error() string        { return "not trusted" }
func (untrustedError) Is(target error) bool { return target == ErrSpoolCorrupt }

// readBatch reads and checks the batch file at path.
func readBatch(path string) ([]Alert, error) {
	data, err := readOwnFile(path)
	if err != nil {
		return nil, err
	}
	alerts, err := decodeBatch(data)
	if err != nil {
		return nil, fmt.Errorf("alert spool file %s is %w: %w", path, ErrSpoolCorrupt, err)
	}
	return alerts, nil
}

// readOwnFile reads the regular file at path if this user owns it. It does
// not follow a symbolic link, nor wait on a FIFO, put there in place of the
// file, since the file's owner is checked on what was opened.
func readOwnFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("alert spool file %s is %w: a symbolic link", path, ErrSpoolUntrusted)
	}
	if err != nil {
		return nil, fmt.Errorf("alert spool: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("alert spool: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("alert spool file %s is %w: not a regular file (%s)", path, ErrSpoolUntrusted, fi.Mode().Type())
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if uid := os.Geteuid(); !ok || int(st.Uid) != uid {
		owner := "unknown"
		if ok {
			owner = fmt.Sprint(st.Uid)
		}
		return nil, fmt.Errorf("alert spool file %s is %w: owned by uid %s, not by this user (uid %d), so another user could have planted it",
			path, ErrSpoolUntrusted, owner, uid)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("alert spool: read %s: %w", path, err)
	}
	return data, nil
}

// decodeBatch returns the alerts in a batch file's content, or why it is
// not a valid batch.
func decodeBatch(data []byte) ([]Alert, error) {
	if len(data) == 0 {
		return nil, errors.New("empty file")
	}
	var b batchFile
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("bad JSON (%d bytes): %w", len(data), err)
	}
	if b.Version != spoolFormat {
		return nil, fmt.Errorf("unsupported version %d", b.Version)
	}
	if len(b.Alerts) == 0 {
		return nil, errors.New("no alerts")
	}
	sum := sha256.Sum256(b.Alerts)
	if got := hex.EncodeToString(sum[:]); got != b.SHA256 {
		return nil, fmt.Errorf("checksum mismatch: alerts hash to %s, file says %q", got, b.SHA256)
	}
	var alerts []Alert
	if err := json.Unmarshal(b.Alerts, &alerts); err != nil {
		return nil, fmt.Errorf("bad alerts: %w", err)
	}
	if len(alerts) == 0 {
		return nil, errors.New("no alerts")
	}
	// Put writes only alerts Send validated; others (a hand edit, an older
	// version's rules) would be refused by every Alertmanager and, first
	// in the spool, hold up every later batch (FuzzSpoolBatch found it).
	if err := Validate(alerts); err != nil {
		return nil, fmt.Errorf("invalid alerts: %w", err)
	}
	return alerts, nil
}
