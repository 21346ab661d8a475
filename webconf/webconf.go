// Package webconf serves an exporter's HTTP endpoints securely. It is the
// only place in Warden that knows how: it builds on exporter-toolkit's web
// package, so a --web.config.file written for node_exporter (TLS, mTLS,
// bcrypt basic auth, HTTP headers) works here unchanged, and it adds what
// the toolkit leaves open: the file is validated before anything listens,
// server timeouts bound slow and idle clients, each listener gets its own
// http.Server (the toolkit's ServeMultiple wraps a shared handler once per
// listener, concurrently), and shutdown drains in-flight requests.
package webconf

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"
)

// AddFlags adds exporter-toolkit's --web.listen-address (repeatable),
// --web.systemd-socket and --web.config.file to app.
func AddFlags(app *kingpin.Application, defaultAddress string) *web.FlagConfig {
	return kingpinflag.AddFlags(app, defaultAddress)
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
	// Flags are the listen addresses, systemd socket and web config file,
	// usually from AddFlags.
	Flags *web.FlagConfig
	// Handler serves every request once TLS and authentication passed.
	Handler http.Handler
	// Logger is required.
	Logger *slog.Logger
	// Timeouts of the HTTP servers; zero fields take DefaultTimeouts.
	Timeouts Timeouts
}

// Server is a set of listeners serving one handler through exporter-toolkit.
type Server struct {
	opts      Options
	listeners []net.Listener
}

// New validates the web config file and opens the listeners. It fails,
// before anything is served, when the configuration is bad or an address
// cannot be bound.
func New(opts Options) (*Server, error) {
	if opts.Flags == nil || opts.Flags.WebConfigFile == nil || opts.Handler == nil || opts.Logger == nil {
		return nil, errors.New("webconf: Flags (with WebConfigFile), Handler and Logger are required")
	}
	opts.Timeouts = opts.Timeouts.withDefaults()
	if err := Validate(*opts.Flags.WebConfigFile); err != nil {
		return nil, err
	}
	listeners, err := listen(opts.Flags, opts.Logger)
	if err != nil {
		return nil, err
	}
	return &Server{opts: opts, listeners: listeners}, nil
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
	flags := &web.FlagConfig{
		WebListenAddresses: &[]string{},
		WebSystemdSocket:   new(bool),
		WebConfigFile:      s.opts.Flags.WebConfigFile,
	}
	for i, l := range s.listeners {
		// One http.Server per listener: web.Serve wraps server.Handler in
		// place, so a shared server would be wrapped once per listener, and
		// concurrently.
		srv := s.newHTTPServer()
		servers[i] = srv
		go func() {
			err := web.Serve(l, srv, flags, s.opts.Logger)
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			errc <- err
		}()
	}

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
	return &http.Server{
		Handler:           s.opts.Handler,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.opts.Logger.Handler(), slog.LevelInfo),
	}
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

// listen opens the systemd-activated sockets or the listen addresses.
func listen(flags *web.FlagConfig, logger *slog.Logger) ([]net.Listener, error) {
	if flags.WebSystemdSocket != nil && *flags.WebSystemdSocket {
		logger.Info("Listening on systemd activated listeners instead of port listeners.")
		ls, err := activation.Listeners()
		if err != nil {
			return nil, fmt.Errorf("systemd socket activation: %w", err)
		}
		if len(ls) == 0 {
			return nil, errors.New("--web.systemd-socket: no socket activation file descriptors found")
		}
		return ls, nil
	}
	if flags.WebListenAddresses == nil || len(*flags.WebListenAddresses) == 0 {
		return nil, web.ErrNoListeners
	}
	var listeners []net.Listener
	for _, addr := range *flags.WebListenAddresses {
		l, err := listenOne(addr)
		if err != nil {
			for _, l := range listeners {
				l.Close()
			}
			return nil, fmt.Errorf("--web.listen-address %s: %w", addr, err)
		}
		listeners = append(listeners, l)
	}
	return listeners, nil
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
