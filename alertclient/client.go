package alertclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	httptransport "github.com/go-openapi/runtime/client"
	"github.com/go-openapi/strfmt"
	amclient "github.com/prometheus/alertmanager/api/v2/client/alert"
	"github.com/prometheus/alertmanager/api/v2/client/silence"
	"github.com/prometheus/alertmanager/api/v2/models"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/config"
)

// Errors a Send can end with, to be checked with errors.Is.
var (
	// ErrSpooled: no Alertmanager accepted the alerts in time, and they are
	// safely in the spool, to be delivered by a later send or flush.
	ErrSpooled = errors.New("no Alertmanager accepted the alerts; they are spooled")
	// ErrNotDelivered: no Alertmanager accepted the alerts, and they are
	// not spooled (refused, or no spool configured, or the spool failed).
	ErrNotDelivered = errors.New("no Alertmanager accepted the alerts")
)

// Options configures a Client.
type Options struct {
	Config *Config
	// Logger is required.
	Logger *slog.Logger
	// UserAgent names the program in requests; default "warden-alertclient".
	UserAgent string
	// Progress, if set, is called after each batch a Send delivered or
	// spooled, with the alerts done so far and in all.
	Progress func(done, total int)
	// Retrying, if set, is called before each wait to retry an
	// Alertmanager, with what failed and when the next attempt is: a
	// command on a terminal says so instead of waiting in silence. It is
	// called from the per-Alertmanager workers, concurrently.
	Retrying func(alertmanager string, err error, next time.Time)
	// MaxResponseBytes bounds what is read of one answer from an
	// Alertmanager; 0 means DefaultMaxResponseBytes. A larger answer to a
	// query is an error wrapping ErrResponseTooLarge, never a list cut
	// short.
	MaxResponseBytes int64
	// DeferSpoolCreation: a spool directory that does not exist yet is
	// created when an alert first has to wait in it, not by New. For a
	// default spool a command should not create on every run; a program
	// with a configured spool wants New to fail at once if it cannot be
	// made.
	DeferSpoolCreation bool
}

// DefaultMaxResponseBytes is the default bound on one answer read from an
// Alertmanager: some 50,000 alerts as Alertmanager lists them, with a few
// labels each.
const DefaultMaxResponseBytes = 16 << 20

// ErrResponseTooLarge: an Alertmanager's answer was larger than
// Options.MaxResponseBytes, and was not read further.
var ErrResponseTooLarge = errors.New("alertmanager's answer is larger than the limit")

// Client sends alerts to every configured Alertmanager.
type Client struct {
	cfg         *Config
	maxResponse int64
	logger      *slog.Logger
	endpoints   []*endpoint
	spool       *Spool
	metrics     *metrics
	progress    func(done, total int)
	retrying    func(alertmanager string, err error, next time.Time)

	mu sync.Mutex
	// loop is the alert loop's dispatcher while FlushLoop runs.
	loop *dispatcher
}

type endpoint struct {
	url      string
	api      amclient.ClientService
	silences silence.ClientService
	timeout  time.Duration
}

// New builds a client. It does no network I/O. It applies the defaults to
// a copy of opts.Config and validates it as UnmarshalYAML does, so a Config
// built in Go with zero fields gets the defaults, and one with negative
// ones is an error naming the field; opts.Config itself is not changed.
func New(opts Options) (*Client, error) {
	if opts.Config == nil || opts.Logger == nil {
		return nil, errors.New("alertclient: Config and Logger are required")
	}
	cfg := *opts.Config
	// validate writes defaults into the entries: not into the caller's.
	cfg.Alertmanagers = slices.Clone(cfg.Alertmanagers)
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("alertclient: %w", err)
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = "warden-alertclient"
	}
	maxResponse := opts.MaxResponseBytes
	if maxResponse == 0 {
		maxResponse = DefaultMaxResponseBytes
	}
	if maxResponse < 0 {
		return nil, errors.New("alertclient: MaxResponseBytes must be positive")
	}
	c := &Client{cfg: &cfg, maxResponse: maxResponse, logger: opts.Logger, metrics: newMetrics(), progress: opts.Progress, retrying: opts.Retrying}
	for i, am := range cfg.Alertmanagers {
		// prometheus/common's client re-reads certificates, keys and
		// credential files when they change on disk.
		hc, err := config.NewClientFromConfig(am.HTTPConfig, ua, config.WithUserAgent(ua))
		if err != nil {
			return nil, fmt.Errorf("alertmanagers[%d].http_config: %w", i, err)
		}
		hc.Transport = bodyCapture{next: hc.Transport, limit: maxResponse}
		hc.CheckRedirect = checkRedirect(am.HTTPConfig.FollowRedirects)
		for _, raw := range am.URLs {
			u, err := parseAlertmanagerURL(raw)
			if err != nil {
				return nil, err
			}
			// The generated operations default to http: take the scheme
			// from the URL, so that https is really used.
			rt := httptransport.NewWithClient(u.Host, path.Join("/", u.Path, "api/v2"), []string{u.Scheme}, hc)
			c.endpoints = append(c.endpoints, &endpoint{
				url:      u.Redacted(),
				api:      amclient.New(rt, strfmt.Default),
				silences: silence.New(rt, strfmt.Default),
				timeout:  time.Duration(am.Timeout),
			})
		}
	}
	if dir := cfg.Spool.Directory; dir != "" {
		s, err := openSpool(dir, cfg.Spool.MaxBytes, opts.DeferSpoolCreation)
		if err != nil {
			return nil, fmt.Errorf("spool: %w", err)
		}
		c.spool = s
	}
	c.metrics.spool = c.spool
	c.metrics.loop = func() *dispatcher {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.loop
	}
	return c, nil
}

// EndpointResult is what one Alertmanager made of one batch.
type EndpointResult struct {
	URL      string
	Accepted bool
	Attempts int
	Err      error
}

// Result of a Send or Flush.
type Result struct {
	// Delivered alerts were accepted by at least one Alertmanager.
	Delivered int
	// Spooled alerts wait in the spool.
	Spooled int
	// FromSpool counts the delivered alerts that came from the spool.
	FromSpool int
	// Kept counts the delivered alerts that were kept alerts re-sent
	// (ResendKept).
	Kept int
	// Forgotten counts the kept alerts a Resolve forgot.
	Forgotten int
	// Endpoints holds each Alertmanager's result for the last batch sent.
	Endpoints []EndpointResult
}

// Send validates alerts and delivers them to every Alertmanager, in
// batches, after whatever waits in the spool. A batch counts as delivered
// when at least one Alertmanager accepted it. A batch no Alertmanager
// accepted before ctx's deadline, for reasons that may pass (network,
// 5xx, 429), goes into the spool, and Send returns ErrSpooled. Alerts
// refused outright (4xx, TLS verification) end with ErrNotDelivered.
// The alerts posted are those Payload returns; alerts is not changed.
func (c *Client) Send(ctx context.Context, alerts []Alert) (*Result, error) {
	if err := Validate(alerts); err != nil {
		return nil, err
	}
	alerts = prepare(alerts, time.Now())
	sendCtx, cancel := c.sendContext(ctx)
	defer cancel()
	res := &Result{}
	err := c.dispatch(sendCtx, func(d *dispatcher) error { return c.send(d, sendCtx, ctx, alerts, res) })
	return res, err
}

// send is Send's work, with the dispatcher d. What no Alertmanager took
// by ctx is spooled by spoolCtx, which ends later (see sendContext).
func (c *Client) send(d *dispatcher, ctx, spoolCtx context.Context, alerts []Alert, res *Result) error {
	if c.spool != nil {
		n, err := c.flush(d, ctx, res)
		res.FromSpool = n
		if onlySetAside(err) {
			// The good batches went; the torn or refused ones are set
			// aside and reported, and must not hold up new alerts.
			c.logger.Error("alert spool files set aside", "err", err)
			err = nil
		}
		if err != nil {
			// The spool's own batches are still waiting: keep the order and
			// spool these behind them.
			c.logger.Debug("spool not flushed before sending", "err", err)
			return c.spoolRest(spoolCtx, alerts, res, err)
		}
	}
	for start := 0; start < len(alerts); start += c.cfg.BatchSize {
		batch := alerts[start:min(start+c.cfg.BatchSize, len(alerts))]
		results, err := d.deliver(ctx, batch)
		res.Endpoints = results
		if err == nil {
			res.Delivered += len(batch)
			if c.progress != nil {
				c.progress(start+len(batch), len(alerts))
			}
			continue
		}
		if errors.Is(err, errTransient) && c.spool != nil {
			return c.spoolRest(spoolCtx, alerts[start:], res, err)
		}
		c.metrics.failed.Add(float64(len(alerts) - start))
		return fmt.Errorf("%w: %w", ErrNotDelivered, err)
	}
	return nil
}

// onlySetAside reports whether err says only that spool files were set
// aside, corrupt or refused.
func onlySetAside(err error) bool {
	if err == nil {
		return false
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			if !onlySetAside(e) {
				return false
			}
		}
		return true
	}
	return errors.Is(err, ErrSpoolCorrupt) || errors.Is(err, ErrBatchRefused)
}

// spoolRest writes alerts to the spool after cause kept them from an
// Alertmanager.
func (c *Client) spoolRest(ctx context.Context, alerts []Alert, res *Result, cause error) error {
	if c.spool == nil {
		c.metrics.failed.Add(float64(len(alerts)))
		return fmt.Errorf("%w: %w", ErrNotDelivered, cause)
	}
	for start := 0; start < len(alerts); start += c.cfg.BatchSize {
		batch := alerts[start:min(start+c.cfg.BatchSize, len(alerts))]
		if err := c.spool.PutContext(ctx, batch); err != nil {
			c.metrics.failed.Add(float64(len(alerts) - start))
			return fmt.Errorf("%w, and spooling failed: %w (after: %w)", ErrNotDelivered, err, cause)
		}
		res.Spooled += len(batch)
		c.metrics.spooled.Add(float64(len(batch)))
	}
	return fmt.Errorf("%w: %w", ErrSpooled, cause)
}

// Flush delivers what waits in the spool, oldest first. When no
// Alertmanager took a batch but it may yet (unreachable, 5xx, 429), the
// batch stays in the spool and the error is ErrSpooled, as for a Send;
// a refusal or a corrupt file is not.
func (c *Client) Flush(ctx context.Context) (*Result, error) {
	res := &Result{}
	if c.spool == nil {
		return res, errors.New("no spool directory configured")
	}
	err := c.dispatch(ctx, func(d *dispatcher) error {
		n, err := c.flush(d, ctx, res)
		res.FromSpool, res.Delivered = n, n
		return err
	})
	// Another flusher holding the spool leaves the batches in it too.
	if (errors.Is(err, errTransient) || errors.Is(err, ErrSpoolBusy)) && !errors.Is(err, ErrSpoolCorrupt) && !errors.Is(err, ErrBatchRefused) {
		err = fmt.Errorf("%w: %w", ErrSpooled, err)
	}
	return res, err
}

func (c *Client) flush(d *dispatcher, ctx context.Context, res *Result) (int, error) {
	return c.spool.Flush(ctx, func(ctx context.Context, batch []Alert) error {
		results, err := d.deliver(ctx, batch)
		res.Endpoints = results
		return err
	})
}

// sendContext keeps back part of the caller's deadline, so that a batch
// that could not be delivered can still be spooled before it.
func (c *Client) sendContext(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok || c.spool == nil {
		return context.WithCancel(ctx)
	}
	reserve := min(time.Until(deadline)/10, time.Second)
	return context.WithDeadline(ctx, deadline.Add(-reserve))
}

// DefaultFlushInterval is how often FlushLoop looks at an empty spool
// when given no interval.
const DefaultFlushInterval = 10 * time.Second

// errTransient marks failures that may pass: worth a retry and the spool.
var errTransient = errors.New("transient")

// errContentRefused marks an Alertmanager's refusal of what a batch holds
// (400, 413, 422), as opposed to one of the sender (401, 403) or of the
// URL: a batch every Alertmanager refused so is ErrBatchRefused.
var errContentRefused = errors.New("refused for its content")

type contentRefusal struct{ error }

func (e contentRefusal) Unwrap() error      { return e.error }
func (contentRefusal) Is(target error) bool { return target == errContentRefused }

func (c *Client) postOnce(ctx context.Context, ep *endpoint, body models.PostableAlerts) error {
	ctx, cancel := context.WithTimeout(ctx, ep.timeout)
	defer cancel()
	resp := &capturedResponse{}
	ctx = context.WithValue(ctx, captureKey{}, resp)
	params := amclient.NewPostAlertsParamsWithContext(ctx).WithAlerts(body)
	_, err := ep.api.PostAlerts(params)
	if err == nil {
		return nil
	}
	if resp.status != 0 {
		refusal := resp.err()
		switch resp.status {
		case http.StatusTooManyRequests:
			return fmt.Errorf("%w: %w", errTransient, refusal)
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
			return contentRefusal{refusal}
		}
		if resp.status >= 500 {
			return fmt.Errorf("%w: %w", errTransient, refusal)
		}
		return refusal
	}
	if permanentNetError(err) {
		if msg := err.Error(); strings.Contains(msg, "bad certificate") || strings.Contains(msg, "certificate required") {
			return fmt.Errorf("%w (Alertmanager refused our client certificate: none configured, or not signed by its client CA)", err)
		}
		return err
	}
	return fmt.Errorf("%w: %w", errTransient, err)
}

// permanentNetError reports failures that no retry mends: the server's
// certificate is not trusted, or the server refused ours.
func permanentNetError(err error) bool {
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var alert tls.AlertError
	if errors.As(err, &unknownAuthority) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.As(err, &verify) || errors.As(err, &alert) {
		return true
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		msg := urlErr.Err.Error()
		return strings.Contains(msg, "remote error: tls:") || strings.Contains(msg, "server gave HTTP response to HTTPS client")
	}
	return false
}

// Payload returns alerts as Alertmanager's API receives them from a Send
// at now, with startsAt filled in as Send does (its batches in one array):
// the exact payload, for --dry-run.
func Payload(alerts []Alert, now time.Time) models.PostableAlerts {
	return toPostable(prepare(alerts, now))
}

// prepare returns alerts as a send at now posts them, leaving alerts
// as they are. An alert without startsAt starts now (or at its endsAt, when
// that is already past, so that it does not end before it starts), and
// keeps that time: a spooled alert delivered later must keep the time it
// started, not take the time of its delivery.
func prepare(alerts []Alert, now time.Time) []Alert {
	out := slices.Clone(alerts)
	for i := range out {
		if a := &out[i]; a.StartsAt.IsZero() {
			a.StartsAt = now
			if !a.EndsAt.IsZero() && a.EndsAt.Before(now) {
				a.StartsAt = a.EndsAt
			}
		}
	}
	return out
}

func toPostable(alerts []Alert) models.PostableAlerts {
	out := make(models.PostableAlerts, len(alerts))
	for i, a := range alerts {
		p := &models.PostableAlert{
			Alert:       models.Alert{Labels: models.LabelSet(a.Labels), GeneratorURL: strfmt.URI(a.GeneratorURL)},
			Annotations: models.LabelSet(a.Annotations),
		}
		if !a.StartsAt.IsZero() {
			p.StartsAt = strfmt.DateTime(a.StartsAt)
		}
		if !a.EndsAt.IsZero() {
			p.EndsAt = strfmt.DateTime(a.EndsAt)
		}
		out[i] = p
	}
	return out
}

// Query returns the alerts the first Alertmanager that answers knows,
// filtered by matchers (`alertname="X"`, `severity=~"crit.*"`).
func (c *Client) Query(ctx context.Context, matchers []string) (models.GettableAlerts, error) {
	var errs []error
	for _, ep := range c.endpoints {
		rctx, cancel := context.WithTimeout(ctx, ep.timeout)
		resp := &capturedResponse{}
		params := amclient.NewGetAlertsParamsWithContext(context.WithValue(rctx, captureKey{}, resp)).WithFilter(matchers)
		ok, err := ep.api.GetAlerts(params)
		cancel()
		switch {
		case err != nil:
		case ok.Payload == nil:
			// An empty body or null decodes without error; Alertmanager
			// sends [] when nothing matches. Not "no alerts".
			err = errors.New("alertmanager answered 200 without a list of alerts")
		case slices.Contains(ok.Payload, nil):
			// Not a list Alertmanager sends, and a caller ranging over it
			// would read through the nil (a FuzzAlertmanagerAnswer seed).
			err = errors.New("alertmanager answered a list of alerts with a null in it")
		default:
			return ok.Payload, nil
		}
		switch {
		case resp.status != 0:
			err = resp.err()
		case resp.tooLarge:
			err = fmt.Errorf("%w of %d bytes, and was not read further: narrow the query with matchers, or raise the limit",
				ErrResponseTooLarge, c.maxResponse)
		}
		errs = append(errs, fmt.Errorf("%s: %w", ep.url, err))
	}
	return nil, errors.Join(errs...)
}

// captureKey carries a *capturedResponse in a request's context.
type captureKey struct{}

type capturedResponse struct {
	status int
	body   []byte
	// location is where a redirect pointed, resolved against the request.
	location string
	// tooLarge: the answer was larger than Options.MaxResponseBytes.
	tooLarge bool
}

// err says what the answer captured was, as an error. What the server
// wrote goes through Printable: the error is printed on terminals.
func (r *capturedResponse) err() error {
	if r.status >= 300 && r.status < 400 {
		return fmt.Errorf("alertmanager answered %d %s with a redirect to %s, not followed: "+
			"a redirect is not a delivery (follow_redirects: true follows only 307 and 308 to the same scheme and host); "+
			"give the URL it points to", r.status, http.StatusText(r.status), Printable(r.location))
	}
	return fmt.Errorf("alertmanager answered %d %s: %s", r.status, http.StatusText(r.status), Printable(strings.TrimSpace(string(r.body))))
}

// bodyCapture keeps the status and body of an answer other than 200, and
// where a redirect pointed: the generated client discards the body for
// some status codes, and the message says what Alertmanager did not like.
// It also ends every answer after limit bytes, with an error, so that no
// answer can take memory without bound (a 78 MB list of alerts took
// 414 MB).
type bodyCapture struct {
	next  http.RoundTripper
	limit int64
}

func (b bodyCapture) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := b.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	holder, ok := req.Context().Value(captureKey{}).(*capturedResponse)
	if !ok {
		holder = &capturedResponse{}
	}
	// The last answer counts: after a redirect followed, the next one.
	*holder = capturedResponse{}
	if resp.StatusCode == http.StatusOK && req.Method == http.MethodPost {
		// A 200 to a POST is a delivery, whatever its content type says:
		// Alertmanager sends none, and the generated client refuses one it
		// has no consumer for (a proxy's) before it looks at the status,
		// which had an accepted batch retried and spooled
		// (FuzzAlertmanagerAnswer found it).
		resp.Header.Del("Content-Type")
	}
	// Alertmanager's API answers 200 and nothing else for success: any
	// other status, 2xx included, is kept to be reported.
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		holder.status, holder.body = resp.StatusCode, body
		if loc, err := resp.Location(); err == nil {
			holder.location = loc.Redacted()
		} else {
			holder.location = fmt.Sprintf("%q (%v)", resp.Header.Get("Location"), err)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, limit: b.limit, tooLarge: resp.ContentLength > b.limit, holder: holder}
	return resp, nil
}

// limitedBody is an answer's body that ends with an error wrapping
// ErrResponseTooLarge once more than limit bytes came, or at once when the
// answer declared a larger Content-Length, and says so in holder.
type limitedBody struct {
	io.ReadCloser
	limit, read int64
	tooLarge    bool
	holder      *capturedResponse
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.tooLarge || l.read > l.limit {
		l.holder.tooLarge = true
		return 0, fmt.Errorf("%w of %d bytes", ErrResponseTooLarge, l.limit)
	}
	// One byte beyond the limit tells a larger answer from one of exactly
	// limit bytes.
	if room := l.limit + 1 - l.read; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := l.ReadCloser.Read(p)
	l.read += int64(n)
	if l.read > l.limit {
		l.holder.tooLarge = true
		return n - 1, fmt.Errorf("%w of %d bytes", ErrResponseTooLarge, l.limit)
	}
	return n, err
}

// maxRedirects is how many redirects a request follows at most, as Go's
// default.
const maxRedirects = 10

// checkRedirect decides which redirects the alert path follows: none
// unless follow is true, and then only those that keep the first
// request's scheme, host and method. So never https to http, never the
// password to another host, and never a 301, 302 or 303 of a POST, which
// Go follows with a GET that Alertmanager answers 200 without taking any
// alert. A redirect not followed is answered by its 3xx, which
// capturedResponse.err turns into an error naming where it pointed.
func checkRedirect(follow bool) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		first := via[0]
		if !follow || len(via) >= maxRedirects || req.Method != first.Method ||
			req.URL.Scheme != first.URL.Scheme || req.URL.Host != first.URL.Host {
			return http.ErrUseLastResponse
		}
		return nil
	}
}

// Describe implements prometheus.Collector.
func (c *Client) Describe(ch chan<- *prometheus.Desc) { c.metrics.describe(ch) }

// Collect implements prometheus.Collector: what was sent, failed, retried
// and spooled, per-Alertmanager latency, and what the spool holds now.
func (c *Client) Collect(ch chan<- prometheus.Metric) { c.metrics.collect(ch) }

// FlushLoop is the alert loop: until ctx ends, it delivers the spool at
// once and then every interval while the spool is empty, and with exponential backoff
// (up to the configured max_backoff) while Alertmanager does not accept
// it; and it re-sends the kept alerts (see Keep) at once and then every
// resend_interval. While it runs, every Alertmanager has one queue and
// one worker for the whole program, which Send and Flush use too: one
// that never answers delays no other (see dispatcher). An interval of
// zero or less is DefaultFlushInterval.
func (c *Client) FlushLoop(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultFlushInterval
	}
	d := c.newDispatcher(ctx, maxQueuedBatches)
	c.mu.Lock()
	c.loop = d
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.loop = nil
		c.mu.Unlock()
		d.stop()
	}()
	if c.spool == nil {
		<-ctx.Done()
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { c.resendLoop(ctx) })
	defer wg.Wait()
	// At once first: what a stopped exporter left in the spool goes as
	// soon as it is back. After a failure, from one interval up to
	// max(interval, max_backoff): a refusal comes back at once, and an
	// Alertmanager refusing our password must not be asked again without
	// a pause.
	wait := time.Duration(0)
	failed := func() {
		wait = min(max(2*wait, interval), max(interval, time.Duration(c.cfg.Retry.MaxBackoff)))
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		st, err := c.spool.Stats()
		if err != nil {
			failed()
			c.logger.Error("read alert spool", "retry_in", wait, "err", err)
			continue
		}
		if st.Batches == 0 {
			wait = interval
			continue
		}
		fctx, cancel := context.WithTimeout(ctx, time.Duration(c.cfg.Retry.MaxBackoff)+interval)
		res, err := c.Flush(fctx)
		cancel()
		if err != nil {
			failed()
			c.logger.Warn("alert spool not delivered yet", "delivered", res.Delivered, "retry_in", wait, "err", err)
			continue
		}
		c.logger.Info("alert spool delivered", "alerts", res.Delivered)
		wait = interval
	}
}

// resendLoop re-sends the kept alerts at once (after a restart, before
// their last endsAt passes) and then every resend_interval, each round
// bounded by the interval so that rounds do not pile up.
func (c *Client) resendLoop(ctx context.Context) {
	interval := c.resendInterval()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, interval)
		res, err := c.ResendKept(rctx)
		cancel()
		switch {
		case err != nil && ctx.Err() == nil:
			c.logger.Warn("kept alerts not all re-sent", "sent", res.Kept, "err", err)
		case res.Kept > 0:
			c.logger.Debug("kept alerts re-sent", "alerts", res.Kept)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
