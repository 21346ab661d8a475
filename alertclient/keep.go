package alertclient

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/warden-exporter/warden/internal/atomicfile"
)

// Kept alerts are firing alerts the alert loop re-sends until they are
// resolved, as Prometheus re-sends its firing alerts: Alertmanager resolves
// an alert whose endsAt has passed, and one sent once without endsAt after
// its resolve_timeout (5 minutes by default).
//
// They live in the directory kept/ inside the spool directory, so that
// whoever has the spool (the exporter, `wardentool alert flush` from a
// timer) finds them, and a service sandboxed to its spool can write them:
//
//	<32 hex digits>.alert   one kept alert; the digits are the start of the
//	                        SHA-256 of its labels, so a second keep of the
//	                        same labels replaces the first
//	<name>.alert.corrupt    a kept file found torn or corrupt, set aside
//	tmp-*.tmp               a file being written (or left by a crash)
//	keep.lock               flock(2) target: keeping, forgetting and
//	                        re-sending are one step each
//
// The directory is opened as a spool is (OpenSpool) and so under the same
// rules, for the same reason (a kept alert is re-sent with this user's
// credentials, so nobody else may put one there): created 0700, refused
// unless it belongs to this user and nobody else can write to it, files
// written to a temp file, fsynced and renamed into place, and read
// without following symbolic links and only if this user owns them.
const (
	// KeptDirName is the directory of kept alerts inside the spool.
	KeptDirName = "kept"
	keptExt     = ".alert"
	keptLock    = "keep.lock"
	keptFormat  = 1
	// keptEndsAfter is how many resend intervals a sent kept alert stays
	// firing without the next send: Prometheus's factor (its
	// resend delay times four).
	keptEndsAfter = 4
)

// ErrNoSpool: the operation needs a spool directory and none is configured.
var ErrNoSpool = errors.New("no spool directory configured")

// KeptAlert is an alert the alert loop re-sends until it is resolved.
type KeptAlert struct {
	// Alert is what is re-sent, with its startsAt fixed at the first send;
	// each send sets endsAt.
	Alert Alert `json:"alert"`
	// Since is when the alert was first kept.
	Since time.Time `json:"since"`
	// Expires, if not zero, is when the loop stops re-sending it; the last
	// send ends the alert then.
	Expires time.Time `json:"expires,omitzero"`
}

// keptFile is a kept alert's form on disk. SHA256 is the hex SHA-256 of
// the exact bytes of Kept, a KeptAlert's compact JSON.
type keptFile struct {
	Version int             `json:"version"`
	Kept    json.RawMessage `json:"kept"`
	SHA256  string          `json:"sha256"`
}

// KeptAlerts is the directory of kept alerts of one spool. It is safe for
// concurrent use by goroutines and by processes sharing the directory.
type KeptAlerts struct {
	// dir is opened as a spool, for its directory rules, temp files,
	// durable writes and locks; it holds no batches.
	dir *Spool
}

// KeptDir returns the directory of kept alerts of the spool at spoolDir.
func KeptDir(spoolDir string) string { return filepath.Join(spoolDir, KeptDirName) }

// OpenKeptAlerts opens (creating, mode 0700) the kept alerts of the spool
// at spoolDir, under the spool's rules on who owns the directory.
func OpenKeptAlerts(spoolDir string) (*KeptAlerts, error) {
	s, err := OpenSpool(KeptDir(spoolDir), 0)
	if err != nil {
		return nil, fmt.Errorf("kept alerts: %w", err)
	}
	return &KeptAlerts{dir: s}, nil
}

// Dir returns the directory.
func (k *KeptAlerts) Dir() string { return k.dir.dir }

// labelsKey names the file of an alert with these labels.
func labelsKey(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for n := range labels {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		// Label names cannot hold 0xff, and values are UTF-8, which
		// never has the byte 0xff: the pairs cannot run into each other.
		fmt.Fprintf(h, "%s\xff%s\xff", n, labels[n])
	}
	return hex.EncodeToString(h.Sum(nil)[:16]) + keptExt
}

// Put keeps alerts, replacing any kept alert with the same labels but
// keeping its startsAt and its Since: Alertmanager knows it by its labels,
// and it has been firing since then. An alert without startsAt starts at
// now. expires, if not zero, is when the loop stops re-sending it. When
// Put returns nil, the alerts survive a crash; it returns them as kept.
func (k *KeptAlerts) Put(ctx context.Context, alerts []Alert, now, expires time.Time) ([]KeptAlert, error) {
	if err := Validate(alerts); err != nil {
		return nil, err
	}
	unlock, err := k.dir.lock(ctx, keptLock, false)
	if err != nil {
		return nil, fmt.Errorf("kept alerts: %w", err)
	}
	defer unlock()
	out := make([]KeptAlert, 0, len(alerts))
	for _, a := range alerts {
		name := labelsKey(a.Labels)
		kept := KeptAlert{Alert: a, Since: now, Expires: expires}
		kept.Alert.EndsAt = time.Time{}
		if kept.Alert.StartsAt.IsZero() {
			kept.Alert.StartsAt = now
		}
		if old, err := k.read(name); err == nil && maps.Equal(old.Alert.Labels, a.Labels) {
			kept.Since = old.Since
			if old.Alert.StartsAt.Before(kept.Alert.StartsAt) {
				kept.Alert.StartsAt = old.Alert.StartsAt
			}
		}
		data, err := encodeKept(kept)
		if err != nil {
			return nil, fmt.Errorf("kept alerts %s: encode %s: %w", k.Dir(), a, err)
		}
		if err := k.dir.writeFile(name, data); err != nil {
			return nil, fmt.Errorf("kept alerts: %w", err)
		}
		out = append(out, kept)
	}
	return out, nil
}

// Remove forgets the kept alerts with exactly these label sets, and
// returns those it forgot.
func (k *KeptAlerts) Remove(ctx context.Context, labelSets []map[string]string) ([]KeptAlert, error) {
	unlock, err := k.dir.lock(ctx, keptLock, false)
	if err != nil {
		return nil, fmt.Errorf("kept alerts: %w", err)
	}
	defer unlock()
	var removed []KeptAlert
	var gone []map[string]string
	for _, labels := range labelSets {
		old, err := k.read(labelsKey(labels))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err == nil && !maps.Equal(old.Alert.Labels, labels):
			continue // another alert's file (a hash collision): not this one
		case err == nil:
			removed = append(removed, old)
		}
		// A corrupt file of these labels goes too: it was asked to be
		// forgotten.
		gone = append(gone, labels)
	}
	if len(gone) == 0 {
		return nil, nil
	}
	return removed, k.removeLocked(gone)
}

// List returns the kept alerts, sorted by their labels. A file found torn
// or corrupt is set aside as *.corrupt and named in the error returned
// with the good ones.
func (k *KeptAlerts) List() ([]KeptAlert, error) {
	entries, err := os.ReadDir(k.Dir())
	if err != nil {
		return nil, fmt.Errorf("kept alerts: %w", err)
	}
	var kept []KeptAlert
	var errs []error
	for _, e := range entries {
		// Not only regular files: a symbolic link or a FIFO put in place
		// of a kept file is read as untrusted and set aside.
		if !strings.HasSuffix(e.Name(), keptExt) || e.IsDir() {
			continue
		}
		a, err := k.read(e.Name())
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue // forgotten meanwhile
		case errors.Is(err, ErrSpoolCorrupt):
			path := filepath.Join(k.Dir(), e.Name())
			if rerr := os.Rename(path, path+spoolCorruptExt); rerr != nil {
				errs = append(errs, fmt.Errorf("%w; setting it aside failed: %w", err, rerr))
				continue
			}
			errs = append(errs, fmt.Errorf("%w (kept as %s%s, not re-sent)", err, e.Name(), spoolCorruptExt))
			continue
		case err != nil:
			return kept, err
		}
		kept = append(kept, a)
	}
	slices.SortFunc(kept, func(a, b KeptAlert) int { return strings.Compare(a.Alert.String(), b.Alert.String()) })
	return kept, errors.Join(errs...)
}

// read reads and checks the kept file name.
func (k *KeptAlerts) read(name string) (KeptAlert, error) {
	path := filepath.Join(k.Dir(), name)
	data, err := readOwnFile(path)
	if err != nil {
		return KeptAlert{}, err
	}
	a, err := decodeKept(data)
	if err == nil && labelsKey(a.Alert.Labels) != name {
		err = errors.New("its labels do not match its name")
	}
	if err != nil {
		return KeptAlert{}, fmt.Errorf("kept alert file %s is %w: %w", path, ErrSpoolCorrupt, err)
	}
	return a, nil
}

func encodeKept(a KeptAlert) ([]byte, error) {
	raw, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	data, err := json.Marshal(keptFile{Version: keptFormat, Kept: raw, SHA256: hex.EncodeToString(sum[:])})
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

func decodeKept(data []byte) (KeptAlert, error) {
	var f keptFile
	if err := json.Unmarshal(data, &f); err != nil {
		return KeptAlert{}, fmt.Errorf("bad JSON (%d bytes): %w", len(data), err)
	}
	if f.Version != keptFormat {
		return KeptAlert{}, fmt.Errorf("unsupported version %d", f.Version)
	}
	sum := sha256.Sum256(f.Kept)
	if got := hex.EncodeToString(sum[:]); got != f.SHA256 {
		return KeptAlert{}, fmt.Errorf("checksum mismatch: content hashes to %s, file says %q", got, f.SHA256)
	}
	var a KeptAlert
	if err := json.Unmarshal(f.Kept, &a); err != nil {
		return KeptAlert{}, fmt.Errorf("bad kept alert: %w", err)
	}
	if err := Validate([]Alert{a.Alert}); err != nil {
		return KeptAlert{}, fmt.Errorf("invalid alert: %w", err)
	}
	if a.Alert.StartsAt.IsZero() {
		return KeptAlert{}, errors.New("no startsAt")
	}
	return a, nil
}

// keptCount counts the kept alert files in the spool at spoolDir without
// reading them, for the metric; a spool without kept/ keeps none.
func keptCount(spoolDir string) (int, error) {
	entries, err := os.ReadDir(KeptDir(spoolDir))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("kept alerts: %w", err)
	}
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), keptExt) && e.Type().IsRegular() {
			n++
		}
	}
	return n, nil
}

// KeptEndsAt is the endsAt of a kept alert sent at now: four resend
// intervals ahead, as Prometheus does, and not beyond its expiry.
func KeptEndsAt(a KeptAlert, now time.Time, interval time.Duration) time.Time {
	end := now.Add(keptEndsAfter * interval)
	if !a.Expires.IsZero() && a.Expires.Before(end) {
		end = a.Expires
	}
	return end
}

// Keep records alerts as kept, to be re-sent by the alert loop (FlushLoop,
// or ResendKept from a timer) every resend_interval until Resolve or until
// expire (0: never), and sends them now with endsAt resend_interval times
// four ahead. It needs a spool: kept alerts live in it. The alerts are
// kept before they are sent, so that a send that fails (spooled, or not
// delivered) is still re-sent by the loop.
func (c *Client) Keep(ctx context.Context, alerts []Alert, expire time.Duration) (*Result, error) {
	if err := Validate(alerts); err != nil {
		return nil, err
	}
	if c.spool == nil {
		return nil, fmt.Errorf("keep alerts: %w: kept alerts live in the spool's %s/ directory", ErrNoSpool, KeptDirName)
	}
	for i, a := range alerts {
		if !a.EndsAt.IsZero() {
			return nil, fmt.Errorf("keep alert %d %s: it has an endsAt: a kept alert ends when it is resolved or expires", i, a)
		}
	}
	// The spool first, under its own rules: kept/ is made inside it.
	if _, err := c.spool.present(true); err != nil {
		return nil, err
	}
	store, err := OpenKeptAlerts(c.cfg.Spool.Directory)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var expires time.Time
	if expire > 0 {
		expires = now.Add(expire)
	}
	kept, err := store.Put(ctx, alerts, now, expires)
	if err != nil {
		return nil, err
	}
	out := make([]Alert, len(kept))
	for i, k := range kept {
		out[i] = k.Alert
		out[i].EndsAt = KeptEndsAt(k, now, c.resendInterval())
	}
	return c.Send(ctx, out)
}

// Resolve forgets the kept alerts with the labels of alerts, and sends
// alerts resolved: with endsAt now, unless they end earlier. An alert
// without startsAt that was kept is resolved from the time it was kept
// with. Result.Forgotten counts the kept alerts forgotten.
func (c *Client) Resolve(ctx context.Context, alerts []Alert) (*Result, error) {
	if err := Validate(alerts); err != nil {
		return nil, err
	}
	now := time.Now()
	out := slices.Clone(alerts)
	labelSets := make([]map[string]string, len(out))
	for i := range out {
		a := &out[i]
		if a.EndsAt.IsZero() || a.EndsAt.After(now) {
			a.EndsAt = now
		}
		if a.StartsAt.After(a.EndsAt) {
			a.StartsAt = a.EndsAt
		}
		labelSets[i] = a.Labels
	}
	var removed []KeptAlert
	store, err := c.keptStore()
	if err == nil && store != nil {
		removed, err = store.Remove(ctx, labelSets)
	}
	if err != nil {
		return nil, err
	}
	started := map[string]time.Time{}
	for _, k := range removed {
		started[labelsKey(k.Alert.Labels)] = k.Alert.StartsAt
	}
	for i := range out {
		if t, ok := started[labelsKey(out[i].Labels)]; ok && out[i].StartsAt.IsZero() {
			out[i].StartsAt = t
		}
	}
	res, err := c.Send(ctx, out)
	if res != nil {
		res.Forgotten = len(removed)
	}
	return res, err
}

// keptStore returns the kept alerts of the client's spool, or nil when
// there is no spool or it keeps none: only Keep creates the directory.
func (c *Client) keptStore() (*KeptAlerts, error) {
	if c.spool == nil {
		return nil, nil
	}
	if _, err := os.Stat(KeptDir(c.cfg.Spool.Directory)); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return OpenKeptAlerts(c.cfg.Spool.Directory)
}

// Kept returns the alerts kept in the client's spool; none without a
// spool.
func (c *Client) Kept() ([]KeptAlert, error) {
	store, err := c.keptStore()
	if err != nil || store == nil {
		return nil, err
	}
	return store.List()
}

// ResendKept sends every kept alert once, with endsAt resend_interval
// times four ahead (or at its expiry), and forgets those that expired.
// The alert loop calls it every resend_interval; a timer running
// `wardentool alert flush` does the same. What is not delivered is not
// spooled: it stays kept and the next round sends it again; when no
// Alertmanager took it but one may yet, the error is ErrSpooled.
// Result.Kept counts the alerts sent.
//
// A Resolve in another process does not wait for a round (which can last
// while no Alertmanager answers) and may overtake it: the round's firing
// copy would then reach Alertmanager after the resolution and fire again
// until its endsAt. So a round that sent an alert forgotten meanwhile
// sends it resolved again, behind its firing copy in every
// Alertmanager's queue.
func (c *Client) ResendKept(ctx context.Context) (*Result, error) {
	res := &Result{}
	store, err := c.keptStore()
	if err != nil || store == nil {
		return res, err
	}
	kept, listErr := store.List()
	errs := []error{listErr}
	now := time.Now()
	var alerts []Alert
	expired := 0
	for _, k := range kept {
		if !k.Expires.IsZero() && !now.Before(k.Expires) {
			expired++
			continue
		}
		a := k.Alert
		a.EndsAt = KeptEndsAt(k, now, c.resendInterval())
		alerts = append(alerts, a)
	}
	if expired > 0 {
		n, err := store.removeExpired(ctx, now)
		errs = append(errs, err)
		c.logger.Info("kept alerts expired, no longer re-sent", "alerts", n)
	}
	// The resolutions of alerts no longer kept are not kept either: their
	// failure is reported apart, never as spooled.
	var forgetErr error
	sent := c.dispatch(ctx, func(d *dispatcher) error {
		var errs []error
		for start := 0; start < len(alerts); start += c.cfg.BatchSize {
			batch := alerts[start:min(start+c.cfg.BatchSize, len(alerts))]
			results, err := d.deliver(ctx, batch)
			res.Endpoints = results
			if err != nil {
				errs = append(errs, fmt.Errorf("re-send kept alerts: %w", err))
				alerts = alerts[:start+len(batch)]
				break
			}
			res.Delivered += len(batch)
			res.Kept += len(batch)
		}
		if resolved := store.forgotten(alerts, time.Now()); len(resolved) > 0 {
			if _, err := d.deliver(ctx, resolved); err != nil {
				forgetErr = fmt.Errorf("send the resolutions of alerts no longer kept: %w", err)
			}
		}
		return errors.Join(errs...)
	})
	if err := errors.Join(append(errs, forgetErr)...); err != nil {
		return res, errors.Join(err, sent)
	}
	if errors.Is(sent, errTransient) {
		// Still kept: the next round sends them again.
		return res, fmt.Errorf("%w: %w", ErrSpooled, sent)
	}
	return res, sent
}

// forgotten returns, resolved at now, those of alerts no longer kept.
func (k *KeptAlerts) forgotten(alerts []Alert, now time.Time) []Alert {
	var out []Alert
	for _, a := range alerts {
		if _, err := os.Lstat(filepath.Join(k.Dir(), labelsKey(a.Labels))); errors.Is(err, fs.ErrNotExist) {
			a.EndsAt = now
			out = append(out, a)
		}
	}
	return out
}

// removeExpired forgets the kept alerts expired at now, and returns how
// many. It reads them again under the lock: one kept again since, with a
// new expiry, stays.
func (k *KeptAlerts) removeExpired(ctx context.Context, now time.Time) (int, error) {
	unlock, err := k.dir.lock(ctx, keptLock, false)
	if err != nil {
		return 0, fmt.Errorf("kept alerts: %w", err)
	}
	defer unlock()
	kept, _ := k.List() // corrupt files were reported by the caller's List
	var expired []map[string]string
	for _, a := range kept {
		if !a.Expires.IsZero() && !now.Before(a.Expires) {
			expired = append(expired, a.Alert.Labels)
		}
	}
	if len(expired) == 0 {
		return 0, nil
	}
	return len(expired), k.removeLocked(expired)
}

func (c *Client) resendInterval() time.Duration { return time.Duration(c.cfg.ResendInterval) }

// removeLocked removes the kept files of these label sets; the caller
// holds the keep lock.
func (k *KeptAlerts) removeLocked(labelSets []map[string]string) error {
	for _, labels := range labelSets {
		if err := os.Remove(filepath.Join(k.Dir(), labelsKey(labels))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("kept alerts: forget %s: %w", Alert{Labels: labels}, err)
		}
	}
	return atomicfile.SyncDir(k.Dir())
}
