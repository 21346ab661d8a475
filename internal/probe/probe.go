// Package probe connects to scrape targets as Prometheus would and says,
// for each, in one line, what works and what exactly fails: name
// resolution, the TCP connection, the TLS version, the server certificate
// (unknown authority, expired, expiring soon, names that do not include the
// address scraped), the client certificate the exporter refused and why, a
// refused password or token, and for a good scrape the number of metric
// families and the time it took. It is what `wardentool probe` runs.
//
// A target is probed in stages, each on the connection the stage before
// made, and the first stage that fails is the cause:
//
//	stage                    fails with
//	address, configuration   bad_target, bad_config
//	DNS lookup               name_resolution
//	TCP connect              tcp_connect
//	TLS handshake            not_tls, tls_version, client_cert_refused (TLS 1.2), tls_handshake
//	server certificate       server_cert_unknown_authority, server_cert_invalid,
//	                         server_cert_expired, server_cert_not_yet_valid,
//	                         server_cert_san_mismatch
//	HTTP request             client_cert_refused (TLS 1.3), http_request
//	HTTP status              unauthorized (401), forbidden (403), http_status
//	exposition               bad_exposition
//	(a good scrape)          server_cert_expiring when within the warning window, else ok
//
// The handshake is made without Go's verification, which stops at the
// first problem with one error, and the server certificate is then checked
// against the same roots and name as Prometheus would, each check on its
// own, so that every problem with it is named. Secrets are read from the
// files the configuration names and never printed.
package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/expfmt"

	dto "github.com/prometheus/client_model/go"

	"github.com/warden-exporter/warden/internal/pki"
)

// Cause is why a target is not good, or OK.
type Cause string

// Causes, in the order of the stages that find them.
const (
	OK                 Cause = "ok"
	BadTarget          Cause = "bad_target"
	BadConfig          Cause = "bad_config"
	NameResolution     Cause = "name_resolution"
	TCPConnect         Cause = "tcp_connect"
	NotTLS             Cause = "not_tls"
	TLSVersion         Cause = "tls_version"
	TLSHandshake       Cause = "tls_handshake"
	UnknownAuthority   Cause = "server_cert_unknown_authority"
	ServerCertInvalid  Cause = "server_cert_invalid"
	ServerCertExpired  Cause = "server_cert_expired"
	ServerCertNotYet   Cause = "server_cert_not_yet_valid"
	SANMismatch        Cause = "server_cert_san_mismatch"
	ClientCertRefused  Cause = "client_cert_refused"
	HTTPRequest        Cause = "http_request"
	Unauthorized       Cause = "unauthorized"
	Forbidden          Cause = "forbidden"
	HTTPStatus         Cause = "http_status"
	BadExposition      Cause = "bad_exposition"
	ServerCertExpiring Cause = "server_cert_expiring"
	defaultTimeout           = 10 * time.Second
	defaultConcurrency       = 16
	userAgent                = "wardentool-probe"
	acceptHeader             = "text/plain;version=0.0.4;q=1,*/*;q=0.1"
	maxBody                  = 64 << 20
)

// Target is what to probe and how, as a scrape job says it.
type Target struct {
	// Address is host:port; without a port, 80 or 443 as the scheme says.
	Address string
	// Job and Labels (file_sd or static_configs labels) are reported
	// with the result.
	Job    string
	Labels map[string]string
	// Scheme is http or https; empty means https.
	Scheme string
	// MetricsPath; empty means /metrics.
	MetricsPath string
	// HTTP is the job's HTTP client configuration: tls_config,
	// basic_auth, authorization (bearer_token, bearer_token_file),
	// http_headers. Validate() must have been called on it.
	HTTP config.HTTPClientConfig
	// Timeout of the whole probe; zero means 10s.
	Timeout time.Duration
}

// Options are what every probe shares.
type Options struct {
	// Warn: a server certificate that expires within it is reported
	// (server_cert_expiring) even when the scrape works.
	Warn time.Duration
	// Concurrency bounds the probes All runs at once; zero means 16.
	Concurrency int
	// Now is the time certificates are judged at; nil means time.Now.
	Now func() time.Time
}

// Result is what a probe found.
type Result struct {
	Target string            `json:"target"`
	Job    string            `json:"job,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
	// OK is true for a good scrape with nothing to warn about.
	OK    bool  `json:"ok"`
	Cause Cause `json:"cause"`
	// Message says what works and what fails, in one line.
	Message    string `json:"message"`
	TLSVersion string `json:"tls_version,omitempty"`
	// ServerCert is the certificate the target presented.
	ServerCert *Cert `json:"server_certificate,omitempty"`
	// MetricFamilies and ScrapeSeconds describe a scrape that got /metrics.
	MetricFamilies int     `json:"metric_families,omitempty"`
	ScrapeSeconds  float64 `json:"scrape_seconds,omitempty"`
}

// Cert describes a certificate.
type Cert struct {
	Subject  string    `json:"subject"`
	Issuer   string    `json:"issuer"`
	NotAfter time.Time `json:"not_after"`
	Names    []string  `json:"names"`
}

// All probes every target, at most opts.Concurrency at once, and returns
// the results in the targets' order.
func All(ctx context.Context, targets []Target, opts Options) []Result {
	n := opts.Concurrency
	if n <= 0 {
		n = defaultConcurrency
	}
	results := make([]Result, len(targets))
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, t := range targets {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			results[i] = Probe(ctx, t, opts)
		})
	}
	wg.Wait()
	return results
}

// probe is one target's probe in progress.
type probe struct {
	t      Target
	opts   Options
	now    time.Time
	res    Result
	host   string // as the address gives it
	port   string
	scheme string
	// client is what the handshake asked of and sent as a client certificate.
	client clientCert
	// conn is the connection the HTTP request goes over.
	conn net.Conn
	// dialed is the address the TCP connection reached.
	dialed string
}

// Probe probes one target.
func Probe(ctx context.Context, t Target, opts Options) Result {
	p := &probe{t: t, opts: opts, now: time.Now()}
	if opts.Now != nil {
		p.now = opts.Now()
	}
	p.res = Result{Target: t.Address, Job: t.Job, Labels: t.Labels}
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	p.run(ctx)
	if p.conn != nil {
		p.conn.Close()
	}
	if p.res.Cause == "" {
		p.res.Cause = OK
	}
	p.res.OK = p.res.Cause == OK
	if ctx.Err() != nil && !p.res.OK {
		p.res.Message += fmt.Sprintf(" (gave up after %s)", time.Since(start).Round(time.Millisecond))
	}
	return p.res
}

// fail records the cause and the message, and stops the probe (run returns).
func (p *probe) fail(c Cause, format string, args ...any) {
	p.res.Cause = c
	p.res.Message = fmt.Sprintf(format, args...)
}

func (p *probe) run(ctx context.Context) {
	tlsConfig, rt, ok := p.configure()
	if !ok {
		return
	}
	addrs, ok := p.resolve(ctx)
	if !ok {
		return
	}
	if !p.dial(ctx, addrs) {
		return
	}
	var problems []certProblem
	if tlsConfig != nil {
		if problems, ok = p.handshake(ctx, tlsConfig, addrs); !ok {
			return
		}
	}
	if len(problems) > 0 && problems[0].fatal() {
		p.fail(problems[0].cause, "%s", joinProblems(problems))
		return
	}
	if !p.scrape(ctx, rt) {
		return
	}
	if len(problems) > 0 { // only warnings are left
		p.res.Cause = problems[0].cause
		p.res.Message = joinProblems(problems) + "; " + p.res.Message
	}
}

// configure checks the address and the configuration, and builds the TLS
// config and the request's round tripper chain (its transport is set in
// scrape, over the probe's connection).
func (p *probe) configure() (*tls.Config, *transport, bool) {
	p.scheme = p.t.Scheme
	if p.scheme == "" {
		p.scheme = "https"
	}
	if p.scheme != "http" && p.scheme != "https" {
		p.fail(BadTarget, "scheme %q: http or https", p.scheme)
		return nil, nil, false
	}
	host, port, err := net.SplitHostPort(p.t.Address)
	if err != nil {
		var ae *net.AddrError
		if !errors.As(err, &ae) || ae.Err != "missing port in address" {
			p.fail(BadTarget, "address %q: %v", p.t.Address, err)
			return nil, nil, false
		}
		// As Prometheus does, the scheme's port.
		host, port = strings.Trim(p.t.Address, "[]"), map[string]string{"http": "80", "https": "443"}[p.scheme]
	}
	if host == "" {
		p.fail(BadTarget, "address %q has no host", p.t.Address)
		return nil, nil, false
	}
	p.host, p.port = host, port
	h := &p.t.HTTP
	switch {
	case h.OAuth2 != nil:
		p.fail(BadConfig, "oauth2: probe does not fetch OAuth 2 tokens")
		return nil, nil, false
	case h.ProxyURL.URL != nil || h.ProxyFromEnvironment:
		p.fail(BadConfig, "proxy_url, proxy_from_environment: probe connects directly, as a proxy would hide what fails")
		return nil, nil, false
	}
	rt, err := newTransport(h)
	if err != nil {
		p.fail(BadConfig, "%v", err)
		return nil, nil, false
	}
	if p.scheme == "http" {
		return nil, rt, true
	}
	tc, err := config.NewTLSConfig(&h.TLSConfig)
	if err != nil {
		p.fail(BadConfig, "tls_config: %v", err)
		return nil, nil, false
	}
	return tc, rt, true
}

func (p *probe) resolve(ctx context.Context) ([]string, bool) {
	if ip := net.ParseIP(p.host); ip != nil {
		return []string{ip.String()}, true
	}
	addrs, err := net.DefaultResolver.LookupHost(ctx, p.host)
	if err != nil {
		var dns *net.DNSError
		switch {
		case errors.As(err, &dns) && dns.IsNotFound:
			p.fail(NameResolution, "name resolution: %s: no such host", p.host)
		default:
			p.fail(NameResolution, "name resolution: %v", err)
		}
		return nil, false
	}
	return addrs, true
}

// dial connects to the first address that answers, as Go's dialer does.
func (p *probe) dial(ctx context.Context, addrs []string) bool {
	var errs []string
	for _, a := range addrs {
		addr := net.JoinHostPort(a, p.port)
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err == nil {
			p.conn, p.dialed = c, addr
			return true
		}
		var op *net.OpError
		if errors.As(err, &op) && op.Err != nil {
			err = op.Err
		}
		errs = append(errs, fmt.Sprintf("%s: %v", addr, err))
	}
	p.fail(TCPConnect, "TCP connect to %s", strings.Join(errs, "; "))
	return false
}

// serverName is the name the server certificate must hold: server_name
// when the configuration gives one, else the host scraped.
func (p *probe) serverName() (string, string) {
	if sn := p.t.HTTP.TLSConfig.ServerName; sn != "" {
		return sn, "tls_config.server_name"
	}
	return p.host, "the address scraped"
}

func (p *probe) handshake(ctx context.Context, base *tls.Config, addrs []string) ([]certProblem, bool) {
	cfg := base.Clone()
	name, _ := p.serverName()
	cfg.ServerName = name
	cfg.InsecureSkipVerify = true // checked below, each check on its own
	cfg.NextProtos = []string{"http/1.1"}
	cfg.GetClientCertificate = p.client.record(base.GetClientCertificate)
	tc := tls.Client(p.conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		c, msg := p.handshakeCause(ctx, err, base, addrs)
		p.fail(c, "%s", msg)
		return nil, false
	}
	p.conn = tc
	st := tc.ConnectionState()
	p.res.TLSVersion = tls.VersionName(st.Version)
	if len(st.PeerCertificates) == 0 {
		p.fail(TLSHandshake, "the server sent no certificate")
		return nil, false
	}
	leaf := st.PeerCertificates[0]
	p.res.ServerCert = describe(leaf)
	if base.InsecureSkipVerify {
		return expiryWarning(leaf, p.now, p.opts.Warn), true
	}
	roots := base.RootCAs
	if roots == nil {
		var err error
		if roots, err = x509.SystemCertPool(); err != nil {
			p.fail(BadConfig, "no tls_config.ca_file, and the system's roots: %v", err)
			return nil, false
		}
	}
	name, nameFrom := p.serverName()
	return serverCertProblems(leaf, st.PeerCertificates[1:], roots, p.trusted(), name, nameFrom, p.now, p.opts.Warn), true
}

// trusted names the CAs Prometheus trusts, for messages.
func (p *probe) trusted() string {
	tc := p.t.HTTP.TLSConfig
	var b []byte
	from := "tls_config.ca"
	switch {
	case tc.CAFile != "":
		from = tc.CAFile
		b, _ = os.ReadFile(tc.CAFile)
	case tc.CA != "":
		b = []byte(tc.CA)
	default:
		return "the system's roots"
	}
	var names []string
	certs, _ := pki.ParseCertificates(b)
	for _, c := range certs {
		names = append(names, strconv.Quote(c.Subject.String()))
	}
	return fmt.Sprintf("%s (%s)", from, strings.Join(names, ", "))
}

// handshakeCause says why a handshake failed:
//
//	error                                      cause                message
//	a record that is not TLS                   not_tls              plain HTTP answered (or not TLS)
//	remote alert, client certificate asked     client_cert_refused  why, from what was asked and sent
//	any other, and a handshake allowing every  tls_version          the version the server speaks and
//	  version agrees on one outside the range                         the range the configuration allows
//	any other                                  tls_handshake        the error
func (p *probe) handshakeCause(ctx context.Context, err error, base *tls.Config, addrs []string) (Cause, string) {
	var rhe tls.RecordHeaderError
	if errors.As(err, &rhe) {
		if strings.HasPrefix(string(rhe.RecordHeader[:]), "HTTP/") {
			return NotTLS, "TLS handshake: the server answered in plain HTTP; scrape it with scheme http, or serve TLS (a web config with tls_server_config)"
		}
		return NotTLS, fmt.Sprintf("TLS handshake: the server does not speak TLS: %v", err)
	}
	if isRemoteAlert(err) && p.client.requested {
		return ClientCertRefused, p.client.refusal(err, p.now)
	}
	if v, ok := p.otherVersion(ctx, base, addrs); ok {
		return TLSVersion, fmt.Sprintf("TLS version: the server speaks %s; tls_config allows %s to %s (min_version, max_version)",
			tls.VersionName(v), tls.VersionName(minVersion(base)), tls.VersionName(maxVersion(base)))
	}
	return TLSHandshake, fmt.Sprintf("TLS handshake: %v", err)
}

// otherVersion makes a second handshake that allows every TLS version and
// reports the version agreed on when the configuration's range excludes it.
func (p *probe) otherVersion(ctx context.Context, base *tls.Config, addrs []string) (uint16, bool) {
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", p.dialed)
	if err != nil {
		return 0, false
	}
	defer c.Close()
	name, _ := p.serverName()
	tc := tls.Client(c, &tls.Config{
		InsecureSkipVerify: true, ServerName: name, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS13,
		GetClientCertificate: (&clientCert{}).record(base.GetClientCertificate),
	})
	if err := tc.HandshakeContext(ctx); err != nil {
		return 0, false
	}
	v := tc.ConnectionState().Version
	return v, v < minVersion(base) || v > maxVersion(base)
}

func minVersion(c *tls.Config) uint16 {
	if c.MinVersion != 0 {
		return c.MinVersion
	}
	return tls.VersionTLS12 // Go's default for clients
}

func maxVersion(c *tls.Config) uint16 {
	if c.MaxVersion != 0 {
		return c.MaxVersion
	}
	return tls.VersionTLS13
}

// isRemoteAlert reports whether err is a TLS alert the server sent. Go
// does not export the alert's type for TCP connections; the OpError's Op
// is how crypto/tls marks it.
func isRemoteAlert(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error"
}

// scrape sends the request over the probe's connection and reads the answer.
func (p *probe) scrape(ctx context.Context, rt *transport) bool {
	path := p.t.MetricsPath
	if path == "" {
		path = "/metrics"
	}
	u := &url.URL{Scheme: p.scheme, Host: net.JoinHostPort(p.host, p.port), Path: path}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		p.fail(BadTarget, "%v", err)
		return false
	}
	req.Header.Set("Accept", acceptHeader)
	req.Header.Set("User-Agent", userAgent)
	if dl, ok := ctx.Deadline(); ok {
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(time.Until(dl).Seconds(), 'f', 3, 64))
	}
	start := time.Now()
	resp, err := rt.over(p.conn).RoundTrip(req)
	if err != nil {
		switch {
		case p.client.requested && (isRemoteAlert(err) || errors.Is(err, io.EOF)):
			p.fail(ClientCertRefused, "%s", p.client.refusal(err, p.now))
		default:
			p.fail(HTTPRequest, "HTTP request: %v", err)
		}
		return false
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, maxBody)
	if c, msg := statusCause(resp, rt.credentials); c != OK {
		first, _ := io.ReadAll(io.LimitReader(body, 200))
		if line := strings.TrimSpace(strings.SplitN(string(first), "\n", 2)[0]); line != "" {
			msg += fmt.Sprintf(" (the exporter says %q)", line)
		}
		p.fail(c, "%s", msg)
		return false
	}
	families, err := countFamilies(body, resp.Header)
	took := time.Since(start)
	if err != nil {
		p.fail(BadExposition, "scrape: HTTP 200 but the body is not a metrics exposition: %v", err)
		return false
	}
	p.res.MetricFamilies, p.res.ScrapeSeconds = families, took.Seconds()
	var parts []string
	if p.res.TLSVersion != "" {
		parts = append(parts, p.res.TLSVersion)
		c := p.res.ServerCert
		parts = append(parts, fmt.Sprintf("server certificate %q valid until %s", c.Subject, c.NotAfter.UTC().Format(time.DateOnly)))
		if p.client.sent != nil {
			parts = append(parts, "client certificate accepted")
		}
	}
	if rt.credentials != "" {
		parts = append(parts, rt.credentials+" accepted")
	}
	parts = append(parts, fmt.Sprintf("%d metric families in %s", families, took.Round(100*time.Microsecond)))
	p.res.Message = strings.Join(parts, ", ")
	return true
}

// statusCause says what an HTTP status means for a scrape:
//
//	status   cause          message
//	200      ok             -
//	401      unauthorized   the credentials sent were refused, or none were sent; what the exporter asks for
//	403      forbidden      authenticated, but not allowed this path
//	other    http_status    the status
func statusCause(resp *http.Response, credentials string) (Cause, string) {
	switch resp.StatusCode {
	case http.StatusOK:
		return OK, ""
	case http.StatusUnauthorized:
		asks := ""
		if schemes := resp.Header.Values("WWW-Authenticate"); len(schemes) > 0 {
			asks = "; it asks for " + strings.Join(schemes, ", ")
		}
		if credentials == "" {
			return Unauthorized, "401 Unauthorized: no basic_auth or authorization configured" + asks
		}
		return Unauthorized, fmt.Sprintf("401 Unauthorized: the exporter refused the %s%s", credentials, asks)
	case http.StatusForbidden:
		return Forbidden, fmt.Sprintf("403 Forbidden: authenticated, but not allowed %s", resp.Request.URL.Path)
	default:
		return HTTPStatus, "HTTP " + resp.Status
	}
}

func countFamilies(r io.Reader, h http.Header) (int, error) {
	dec := expfmt.NewDecoder(r, expfmt.ResponseFormat(h))
	n := 0
	for {
		var mf dto.MetricFamily
		err := dec.Decode(&mf)
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

func describe(c *x509.Certificate) *Cert {
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	return &Cert{Subject: c.Subject.String(), Issuer: c.Issuer.String(), NotAfter: c.NotAfter, Names: names}
}

// Line formats a result as one line: OK or FAIL, the target and its
// labels, the cause, and the message.
func Line(r Result) string {
	var b strings.Builder
	if r.OK {
		b.WriteString("OK   ")
	} else {
		b.WriteString("FAIL ")
	}
	b.WriteString(r.Target)
	if len(r.Labels) > 0 {
		keys := make([]string, 0, len(r.Labels))
		for k := range r.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString(" {")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s=%q", k, r.Labels[k])
		}
		b.WriteString("}")
	}
	if !r.OK {
		fmt.Fprintf(&b, " [%s]", r.Cause)
	}
	b.WriteString(": ")
	b.WriteString(r.Message)
	return b.String()
}
