package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"

	"github.com/prometheus/common/config"
)

// transport sends one request over a connection the probe made, with the
// credentials of the job's HTTP client configuration, applied by
// prometheus/common's own round trippers.
type transport struct {
	wrap func(http.RoundTripper) http.RoundTripper
	// credentials names what is sent, for messages (never the secret).
	credentials string
}

// newTransport reads h's credentials once, so that a file that cannot be
// read is a configuration error before anything is sent.
func newTransport(h *config.HTTPClientConfig) (*transport, error) {
	t := &transport{wrap: func(rt http.RoundTripper) http.RoundTripper { return rt }}
	secret := func(field, inline, file, ref string) (config.SecretReader, error) {
		var s config.SecretReader
		switch {
		case ref != "":
			return nil, fmt.Errorf("%s_ref: probe has no secret manager", field)
		case file != "":
			s = config.NewFileSecret(file)
		default:
			s = config.NewInlineSecret(inline)
		}
		if _, err := s.Fetch(context.Background()); err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		return s, nil
	}
	wrap := func(f func(http.RoundTripper) http.RoundTripper) {
		inner := t.wrap
		t.wrap = func(rt http.RoundTripper) http.RoundTripper { return f(inner(rt)) }
	}
	if h.HTTPHeaders != nil {
		wrap(func(rt http.RoundTripper) http.RoundTripper { return config.NewHeadersRoundTripper(h.HTTPHeaders, rt) })
	}
	if a := h.Authorization; a != nil {
		cred, err := secret("authorization.credentials", string(a.Credentials), a.CredentialsFile, a.CredentialsRef)
		if err != nil {
			return nil, err
		}
		wrap(func(rt http.RoundTripper) http.RoundTripper {
			return config.NewAuthorizationCredentialsRoundTripper(a.Type, cred, rt)
		})
		t.credentials = a.Type + " credentials"
	}
	if b := h.BasicAuth; b != nil {
		user, err := secret("basic_auth.username", b.Username, b.UsernameFile, b.UsernameRef)
		if err != nil {
			return nil, err
		}
		pass, err := secret("basic_auth.password", string(b.Password), b.PasswordFile, b.PasswordRef)
		if err != nil {
			return nil, err
		}
		wrap(func(rt http.RoundTripper) http.RoundTripper { return config.NewBasicAuthRoundTripper(user, pass, rt) })
		name, _ := user.Fetch(context.Background())
		t.credentials = "password of basic_auth user " + strconv.Quote(name)
	}
	return t, nil
}

// over returns a round tripper that sends its one request over conn.
func (t *transport) over(conn net.Conn) http.RoundTripper {
	var once sync.Once
	dial := func(context.Context, string, string) (net.Conn, error) {
		var c net.Conn
		once.Do(func() { c = conn })
		if c == nil {
			return nil, errors.New("probe: one connection, one request")
		}
		return c, nil
	}
	return t.wrap(&http.Transport{DialContext: dial, DialTLSContext: dial, DisableKeepAlives: true})
}
