package webconf

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/coreos/go-systemd/v22/activation"
	"github.com/mdlayher/vsock"
	"github.com/prometheus/exporter-toolkit/web"
)

// missing says what st lacks to be secure: TLS, authentication, or both.
func (s *state) missing() string {
	verifiesClients := s.tls != nil && s.web.TLSConfig.ClientAuth == requireAndVerifyClientCert
	auth := len(s.users) > 0 || len(s.tokens) > 0 || verifiesClients
	switch {
	case s.tls == nil && !auth:
		return "no TLS and no authentication"
	case s.tls == nil:
		return "no TLS (a password would cross the network in clear)"
	default:
		return "no authentication (basic_auth_users, a bearer token or RequireAndVerifyClientCert)"
	}
}

// insecureError explains the secure default for one address.
func insecureError(flag, addr string, st *state) error {
	return fmt.Errorf("%s %s: the web config has %s, so only loopback addresses are served; configure TLS and authentication (see `wardentool init`), listen on 127.0.0.1, or pass --web.allow-insecure", flag, addr, st.missing())
}

// listen opens the systemd-activated sockets or the listen addresses. When
// the configuration is not secure and insecure serving is not allowed, an
// address without a host (":9100", the default) is served on 127.0.0.1
// only, and any other non-loopback address is refused: an operator who
// named an address gets it or an error, never something else.
func listen(flags *web.FlagConfig, anyAddress bool, st *state, logger *slog.Logger) ([]net.Listener, error) {
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
				return nil, insecureError("--web.systemd-socket: socket", l.Addr().String(), st)
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
			var ok bool
			if bind, ok = loopbackOnly(addr); !ok {
				closeAll(listeners)
				return nil, insecureError("--web.listen-address", addr, st)
			}
			if bind != addr {
				logger.Warn("serving loopback only: the web config has "+st.missing(), "address", addr, "bound", bind)
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
// serve loopback only, or false when addr names another address.
func loopbackOnly(addr string) (string, bool) {
	if strings.HasPrefix(addr, "vsock://") {
		return "", false
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", false
	}
	if host == "" {
		return net.JoinHostPort("127.0.0.1", port), true
	}
	if host == "localhost" {
		return addr, true
	}
	ip := net.ParseIP(host)
	return addr, ip != nil && ip.IsLoopback()
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
