// Package webconf serves an exporter's HTTP endpoints securely. It is the
// only place in Warden that knows how. It builds on exporter-toolkit's web
// package: a --web.config.file written for node_exporter (TLS, mTLS,
// bcrypt basic auth, HTTP headers, rate_limit) works here unchanged, parsed
// into the toolkit's types and turned into a tls.Config by the toolkit.
//
// What it adds: the file is validated before anything listens; an optional
// --web.auth.file brings bearer tokens, per-identity authorization, public
// health paths and bounds on what failed logins cost; every refusal is
// logged and counted; certificate expiry is exported; without TLS and
// authentication only loopback addresses are served unless
// --web.allow-insecure; server timeouts bound slow and idle clients; each
// listener gets its own http.Server; shutdown drains in-flight requests.
//
// The toolkit's basic-auth handler is unexported and wraps the server's
// handler from the outside, so nothing can run before its bcrypt check.
// That is why the authentication chain (guard) lives here, with the same
// semantics for basic_auth_users, instead of around the toolkit's handler.
package webconf

import (
	"context"
	"crypto/tls"
	"errors"
	"log"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"
)

// Flags are the web flags of every Warden exporter.
type Flags struct {
	// FlagConfig has exporter-toolkit's --web.listen-address (repeatable),
	// --web.systemd-socket and --web.config.file.
	*web.FlagConfig
	// AuthFile is --web.auth.file: tokens, rules, public paths, limits.
	AuthFile *string
	// AllowInsecure is --web.allow-insecure: serve non-loopback addresses
	// without TLS and authentication.
	AllowInsecure *bool
}

// AddFlags adds the web flags to app.
func AddFlags(app *kingpin.Application, defaultAddress string) *Flags {
	return &Flags{
		FlagConfig: kingpinflag.AddFlags(app, defaultAddress),
		AuthFile: app.Flag("web.auth.file", "Warden's auth file: bearer tokens, per-identity rules, public paths, failed-login limits. Re-read when it changes.").
			Default("").String(),
		AllowInsecure: app.Flag("web.allow-insecure", "Serve addresses other than loopback without TLS and authentication.").Bool(),
	}
}

// Timeouts bound how long one client may hold a connection. A zero field
// takes its value from DefaultTimeouts.
type Timeouts struct {
	// ReadHeader bounds the TLS handshake and the request headers, so that
	// idle half-open connections cannot pile up and starve scrapes.
	ReadHeader time.Duration
	// Read bounds reading the whole request.
	Read time.Duration
	// Idle bounds how long a keep-alive connection waits for its next request.
	Idle time.Duration
	// Shutdown bounds how long in-flight requests may run after a stop.
	Shutdown time.Duration
	// Write bounds writing one response when the request gives no
	// X-Prometheus-Scrape-Timeout-Seconds (which bounds it otherwise): a
	// client that stops reading (an HTTP/2 stream with a zero window, say)
	// loses the response, and the handler its slot.
	Write time.Duration
}

// DefaultTimeouts are generous for Prometheus (which keeps connections
// alive between scrapes) and short for anyone who opens a socket and waits.
var DefaultTimeouts = Timeouts{
	ReadHeader: 10 * time.Second,
	Read:       30 * time.Second,
	Idle:       2 * time.Minute,
	Shutdown:   15 * time.Second,
	Write:      time.Minute,
}

// maxHeaderBytes is ample for Prometheus's scrape requests.
const maxHeaderBytes = 64 << 10

// Options configures a Server.
type Options struct {
	// Flags are the listen addresses, systemd socket, web config and auth
	// files, usually from AddFlags.
	Flags *Flags
	// Handler serves every request once TLS and authentication passed.
	Handler http.Handler
	// Logger is required.
	Logger *slog.Logger
	// Timeouts of the HTTP servers; zero fields take DefaultTimeouts.
	Timeouts Timeouts
	// ReloadInterval is how often the web config, the files it names and
	// the auth file are checked for changes; zero means every 5 seconds.
	ReloadInterval time.Duration
	// CollectorLimits tells that Handler enforces the collectors: limits
	// of the auth file's rules (Identity.Collectors). Without it, an auth
	// file that uses one is refused, at start and on reload.
	CollectorLimits bool
	// MaxRequests is the handler's bound on concurrent requests (the
	// exporter's --web.max-requests), zero for none. No one client (an
	// identity, or a source address) may hold more than a fair share of
	// it: a quarter, at least one.
	MaxRequests int
}

// Server is a set of listeners serving one handler behind the security
// layer, with TLS set up by exporter-toolkit from the web config.
type Server struct {
	opts      Options
	listeners []net.Listener
	state     atomic.Pointer[state]
	guard     *guard
	metrics   *securityMetrics
	// refused holds the file contents of the last reload refused, so
	// that it is not tried and logged again until a file changes.
	refused []fileSum
}

// New validates the web config file and opens the listeners. It fails,
// before anything is served, when the configuration is bad or an address
// cannot be bound.
func New(opts Options) (*Server, error) {
	if opts.Flags == nil || opts.Flags.FlagConfig == nil || opts.Handler == nil || opts.Logger == nil {
		return nil, errors.New("webconf: Flags, Handler and Logger are required")
	}
	opts.Timeouts = opts.Timeouts.withDefaults()
	if opts.ReloadInterval <= 0 {
		opts.ReloadInterval = 5 * time.Second
	}
	st, err := loadState(opts.webConfigFile(), opts.authFile(), opts.loadOptions())
	if err != nil {
		return nil, err
	}
	listeners, err := listen(opts.Flags.FlagConfig, st.secure || opts.allowInsecure(), st, opts.Logger)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, listeners: listeners}
	s.metrics = newSecurityMetrics(&s.state)
	s.guard = &guard{next: opts.Handler, state: &s.state, passwords: newPasswords(), audit: newAuditLog(opts.Logger), metrics: s.metrics,
		writeTimeout: opts.Timeouts.Write, share: newFairShare(opts.MaxRequests)}
	s.install(st)
	if !st.secure {
		for _, l := range listeners {
			if !isLoopback(l.Addr()) {
				opts.Logger.Warn("serving without TLS and authentication on a non-loopback address (--web.allow-insecure)", "address", l.Addr().String())
			}
		}
	}
	return s, nil
}

// install makes st the state in force.
func (s *Server) install(st *state) {
	s.guard.passwords.setLimits(st.auth.FailedAuth)
	s.state.Store(st)
	s.metrics.loaded()
}

func (o Options) webConfigFile() string {
	if o.Flags.WebConfigFile == nil {
		return ""
	}
	return *o.Flags.WebConfigFile
}

func (o Options) authFile() string {
	if o.Flags.AuthFile == nil {
		return ""
	}
	return *o.Flags.AuthFile
}

func (o Options) allowInsecure() bool {
	return o.Flags.AllowInsecure != nil && *o.Flags.AllowInsecure
}

func (o Options) loadOptions() loadOptions {
	return loadOptions{collectorLimits: o.CollectorLimits}
}

// Metrics returns the security layer's metrics: refusals by reason,
// authentications by method, certificate expiry and reload status.
func (s *Server) Metrics() prometheus.Collector { return s.metrics }

// Addrs returns the addresses the server listens on.
func (s *Server) Addrs() []net.Addr {
	addrs := make([]net.Addr, len(s.listeners))
	for i, l := range s.listeners {
		addrs[i] = l.Addr()
	}
	return addrs
}

// Serve serves until ctx is done, then stops accepting, lets in-flight
// requests finish within Timeouts.Shutdown, and returns. It returns early
// with an error if any listener fails.
func (s *Server) Serve(ctx context.Context) error {
	servers := make([]*http.Server, len(s.listeners))
	errc := make(chan error, len(s.listeners))
	tlsOn := s.state.Load().tls != nil
	for i, l := range s.listeners {
		// One http.Server per listener, so that nothing is shared that a
		// server changes while it starts (exporter-toolkit's ServeMultiple
		// wraps one shared server's handler once per listener, concurrently).
		srv := s.newHTTPServer()
		servers[i] = srv
		s.opts.Logger.Info("Listening on", "address", l.Addr().String(), "tls", tlsOn)
		if tlsOn {
			l = newTLSListener(l, srv.TLSConfig, s.opts.Timeouts.ReadHeader, s.tlsRefused)
		}
		go func() {
			err := srv.Serve(l)
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			errc <- err
		}()
	}
	reloadDone := make(chan struct{})
	reloadStop := make(chan struct{})
	go func() {
		defer close(reloadDone)
		t := time.NewTicker(s.opts.ReloadInterval)
		defer t.Stop()
		for {
			select {
			case <-reloadStop:
				return
			case <-t.C:
				s.reload()
				s.guard.audit.flush()
			}
		}
	}()
	defer func() {
		close(reloadStop)
		<-reloadDone
		s.guard.audit.flush()
	}()

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.Timeouts.Shutdown)
	defer cancel()
	var wg sync.WaitGroup
	for _, srv := range servers {
		wg.Go(func() {
			if err := srv.Shutdown(shutdownCtx); err != nil {
				s.opts.Logger.Warn("shutdown did not drain in time, closing connections", "err", err)
				srv.Close()
			}
		})
	}
	wg.Wait()
	for _, l := range s.listeners {
		l.Close()
	}
	return serveErr
}

func (s *Server) newHTTPServer() *http.Server {
	t := s.opts.Timeouts
	srv := &http.Server{
		Handler:           s.guard,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    maxHeaderBytes,
		// "OPTIONS *" goes through the guard like any other request
		// instead of Go's built-in answer before authentication.
		DisableGeneralOptionsHandler: true,
		ErrorLog:                     log.New(errorLog{s.opts.Logger}, "", 0),
	}
	st := s.state.Load()
	if st.tls != nil {
		// The tls.Config of the state in force, per handshake, so that a
		// reload (of the web config or of a file it names) applies to new
		// connections.
		srv.TLSConfig = &tls.Config{
			NextProtos: st.tls.NextProtos,
			GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
				return s.state.Load().tls, nil
			},
		}
		if !st.web.HTTPConfig.HTTP2 {
			srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
		}
	}
	return srv
}

// tlsRefused counts and audits a failed TLS handshake.
func (s *Server) tlsRefused(addr net.Addr, reason Reason, err error) {
	s.metrics.refused.WithLabelValues(string(reason)).Inc()
	host, _, _ := net.SplitHostPort(addr.String())
	s.guard.audit.refused(auditEntry{reason: reason, remote: addr.String(), source: host, args: []any{"identity", "", "err", err}})
}

func (t Timeouts) withDefaults() Timeouts {
	d := DefaultTimeouts
	if t.ReadHeader <= 0 {
		t.ReadHeader = d.ReadHeader
	}
	if t.Read <= 0 {
		t.Read = d.Read
	}
	if t.Idle <= 0 {
		t.Idle = d.Idle
	}
	if t.Shutdown <= 0 {
		t.Shutdown = d.Shutdown
	}
	if t.Write <= 0 {
		t.Write = d.Write
	}
	return t
}
