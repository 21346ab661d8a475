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
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/coreos/go-systemd/v22/activation"
	"github.com/mdlayher/vsock"
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
}

// DefaultTimeouts are generous for Prometheus (which keeps connections
// alive between scrapes) and short for anyone who opens a socket and waits.
var DefaultTimeouts = Timeouts{
	ReadHeader: 10 * time.Second,
	Read:       30 * time.Second,
	Idle:       2 * time.Minute,
	Shutdown:   15 * time.Second,
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
	// ReloadInterval is how often the web config and auth file are checked
	// for changes; zero means every 5 seconds.
	ReloadInterval time.Duration
}

// Server is a set of listeners serving one handler behind the security
// layer, with TLS set up by exporter-toolkit from the web config.
type Server struct {
	opts      Options
	listeners []net.Listener
	guard     *guard
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
	st, err := loadState(opts.webConfigFile(), opts.authFile())
	if err != nil {
		return nil, err
	}
	allowInsecure := opts.Flags.AllowInsecure != nil && *opts.Flags.AllowInsecure
	listeners, err := listen(opts.Flags.FlagConfig, st.secure || allowInsecure, opts.Logger)
	if err != nil {
		return nil, err
	}
	if !st.secure {
		for _, l := range listeners {
			if !isLoopback(l.Addr()) {
				opts.Logger.Warn("serving without TLS and authentication on a non-loopback address (--web.allow-insecure)", "address", l.Addr().String())
			}
		}
	}
	return &Server{opts: opts, listeners: listeners, guard: newGuard(opts.Handler, opts.Logger, st)}, nil
}

// cannotApply says why st cannot replace the running state, or "".
func (s *Server) cannotApply(st *state) string {
	if (st.tls != nil) != (s.guard.state.Load().tls != nil) {
		return "TLS turned on or off"
	}
	if !st.secure && (s.opts.Flags.AllowInsecure == nil || !*s.opts.Flags.AllowInsecure) {
		for _, l := range s.listeners {
			if !isLoopback(l.Addr()) {
				return "TLS or authentication turned off while serving " + l.Addr().String()
			}
		}
	}
	return ""
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

// Metrics returns the security layer's metrics: refusals by reason,
// authentications by method, certificate expiry and reload status.
func (s *Server) Metrics() prometheus.Collector { return s.guard }

// reload installs the files' new content when they changed. A bad new
// version is logged and counted, and the last good one stays in force.
func (s *Server) reload() {
	if !s.guard.state.Load().changed() {
		return
	}
	st, err := loadState(s.opts.webConfigFile(), s.opts.authFile())
	if err != nil {
		s.guard.reloadOK.Set(0)
		s.opts.Logger.Error("configuration changed but is not valid; keeping the last good one", "err", err)
		return
	}
	if reason := s.cannotApply(st); reason != "" {
		s.guard.reloadOK.Set(0)
		s.opts.Logger.Error("configuration changed in a way that needs a restart; keeping the last good one", "reason", reason)
		return
	}
	s.guard.install(st)
	s.opts.Logger.Info("configuration reloaded")
}

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
	tlsOn := s.guard.state.Load().tls != nil
	for i, l := range s.listeners {
		// One http.Server per listener, so that nothing is shared that a
		// server changes while it starts (exporter-toolkit's ServeMultiple
		// wraps one shared server's handler once per listener, concurrently).
		srv := s.newHTTPServer()
		servers[i] = srv
		s.opts.Logger.Info("Listening on", "address", l.Addr().String(), "tls", tlsOn)
		go func() {
			var err error
			if tlsOn {
				err = srv.ServeTLS(l, "", "")
			} else {
				err = srv.Serve(l)
			}
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
			}
		}
	}()
	defer func() { close(reloadStop); <-reloadDone }()

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
		ErrorLog:          log.New(errorLogWriter{s.guard}, "", 0),
	}
	st := s.guard.state.Load()
	if st.tls != nil {
		// The toolkit's tls.Config of the state in force, per handshake,
		// so that a reload applies to new connections; its GetCertificate
		// reads the certificate files on each handshake, as the toolkit does.
		srv.TLSConfig = &tls.Config{
			NextProtos: st.tls.NextProtos,
			GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
				return s.guard.state.Load().tls, nil
			},
		}
		if !st.web.HTTPConfig.HTTP2 {
			srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
		}
	}
	return srv
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
	return t
}

// errInsecure explains the secure default.
const errInsecure = "without TLS and authentication in --web.config.file only loopback addresses are served; configure both (see `wardentool init`), listen on 127.0.0.1, or pass --web.allow-insecure"

// listen opens the systemd-activated sockets or the listen addresses. When
// the configuration is not secure and insecure serving is not allowed, an
// address without a host (":9100") is served on 127.0.0.1 only, and any
// other non-loopback address is refused.
func listen(flags *web.FlagConfig, anyAddress bool, logger *slog.Logger) ([]net.Listener, error) {
	if flags.WebSystemdSocket != nil && *flags.WebSystemdSocket {
		logger.Info("Listening on systemd activated listeners instead of port listeners.")
		ls, err := activation.Listeners()
		if err != nil {
			return nil, fmt.Errorf("systemd socket activation: %w", err)
		}
		if len(ls) == 0 {
			return nil, errors.New("--web.systemd-socket: no socket activation file descriptors found")
		}
		for _, l := range ls {
			if !anyAddress && !isLoopback(l.Addr()) {
				closeAll(ls)
				return nil, fmt.Errorf("--web.systemd-socket: socket %s: %s", l.Addr(), errInsecure)
			}
		}
		return ls, nil
	}
	if flags.WebListenAddresses == nil || len(*flags.WebListenAddresses) == 0 {
		return nil, web.ErrNoListeners
	}
	var listeners []net.Listener
	for _, addr := range *flags.WebListenAddresses {
		bind := addr
		if !anyAddress {
			var err error
			if bind, err = loopbackOnly(addr); err != nil {
				closeAll(listeners)
				return nil, fmt.Errorf("--web.listen-address %s: %w", addr, err)
			}
			if bind != addr {
				logger.Warn("no TLS and authentication configured: serving loopback only", "address", addr, "bound", bind)
			}
		}
		l, err := listenOne(bind)
		if err != nil {
			closeAll(listeners)
			return nil, fmt.Errorf("--web.listen-address %s: %w", addr, err)
		}
		listeners = append(listeners, l)
	}
	return listeners, nil
}

func closeAll(ls []net.Listener) {
	for _, l := range ls {
		l.Close()
	}
}

// loopbackOnly returns the address to bind for addr on a server that may
// serve loopback only.
func loopbackOnly(addr string) (string, error) {
	if strings.HasPrefix(addr, "vsock://") {
		return "", errors.New(errInsecure)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if host == "localhost" {
		return addr, nil
	}
	if host == "" {
		return net.JoinHostPort("127.0.0.1", port), nil
	}
	ip := net.ParseIP(host)
	switch {
	case ip == nil:
		return "", errors.New(errInsecure)
	case ip.IsUnspecified():
		return net.JoinHostPort("127.0.0.1", port), nil
	case ip.IsLoopback():
		return addr, nil
	}
	return "", errors.New(errInsecure)
}

func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

func listenOne(addr string) (net.Listener, error) {
	if !strings.HasPrefix(addr, "vsock://") {
		return net.Listen("tcp", addr)
	}
	u, err := url.Parse(addr)
	if err != nil {
		return nil, err
	}
	_, portStr, err := net.SplitHostPort(u.Host)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("vsock port %q: %w", portStr, err)
	}
	return vsock.Listen(uint32(port), nil)
}
