package probe

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// certProblem is one thing wrong with the server certificate.
type certProblem struct {
	cause Cause
	msg   string
}

// fatal reports whether Prometheus's handshake would fail on it.
func (c certProblem) fatal() bool { return c.cause != ServerCertExpiring }

func joinProblems(ps []certProblem) string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.msg
	}
	return strings.Join(msgs, "; ")
}

// serverCertProblems checks the server certificate as Prometheus's TLS
// client would, each check on its own, and returns every problem, the
// first one first:
//
//	check                                              cause when it fails
//	chains to a trusted root (judged at a time the     server_cert_unknown_authority; server_cert_invalid
//	  certificate is valid, so that expiry is apart)     (a CA expired, a name outside its constraints,
//	                                                     not for server authentication)
//	valid now                                          server_cert_expired, server_cert_not_yet_valid
//	holds the name scraped (or tls_config.server_name) server_cert_san_mismatch
//	valid for longer than the warning window           server_cert_expiring (a warning: the scrape goes on)
func serverCertProblems(leaf *x509.Certificate, intermediates []*x509.Certificate, roots *x509.CertPool, trusted, name, nameFrom string, now time.Time, warn time.Duration) []certProblem {
	var out []certProblem
	pool := x509.NewCertPool()
	for _, c := range intermediates {
		pool.AddCert(c)
	}
	at := now
	if at.After(leaf.NotAfter) {
		at = leaf.NotAfter
	} else if at.Before(leaf.NotBefore) {
		at = leaf.NotBefore
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: pool, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	switch {
	case err == nil:
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired && invalid.Cert.Equal(leaf):
		// A leaf whose validity is empty or inverted: the time check below says so.
	case errors.As(err, &unknown):
		out = append(out, certProblem{UnknownAuthority, fmt.Sprintf("server certificate %q is signed by %q, an unknown authority: Prometheus trusts %s",
			leaf.Subject.String(), leaf.Issuer.String(), trusted)})
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		out = append(out, certProblem{ServerCertInvalid, fmt.Sprintf("server certificate %q: the CA %q of its chain is not valid at %s",
			leaf.Subject.String(), invalid.Cert.Subject.String(), at.UTC().Format(time.RFC3339))})
	case errors.As(err, &invalid) && invalid.Reason == x509.CANotAuthorizedForThisName:
		out = append(out, certProblem{ServerCertInvalid, fmt.Sprintf("server certificate %q names a host outside its CA's name constraints: %s", leaf.Subject.String(), invalid.Detail)})
	case errors.As(err, &invalid) && invalid.Reason == x509.IncompatibleUsage:
		out = append(out, certProblem{ServerCertInvalid, fmt.Sprintf("server certificate %q is not for server authentication (extended key usage)", leaf.Subject.String())})
	default:
		out = append(out, certProblem{ServerCertInvalid, fmt.Sprintf("server certificate %q: %v", leaf.Subject.String(), err)})
	}
	switch {
	case now.After(leaf.NotAfter):
		out = append(out, certProblem{ServerCertExpired, fmt.Sprintf("server certificate %q expired at %s, %s ago",
			leaf.Subject.String(), leaf.NotAfter.UTC().Format(time.RFC3339), days(now.Sub(leaf.NotAfter)))})
	case now.Before(leaf.NotBefore):
		out = append(out, certProblem{ServerCertNotYet, fmt.Sprintf("server certificate %q is valid only from %s, in %s (a clock wrong here or there?)",
			leaf.Subject.String(), leaf.NotBefore.UTC().Format(time.RFC3339), days(leaf.NotBefore.Sub(now)))})
	}
	var hostErr x509.HostnameError
	if err := leaf.VerifyHostname(name); errors.As(err, &hostErr) {
		has := "no DNS or IP SAN (Go ignores the CN " + strconv.Quote(leaf.Subject.CommonName) + ")"
		if names := describe(leaf).Names; len(names) > 0 {
			has = strings.Join(names, ", ")
		}
		out = append(out, certProblem{SANMismatch, fmt.Sprintf("server certificate is valid for %s, not for %s (%s)", has, name, nameFrom)})
	} else if err != nil {
		out = append(out, certProblem{SANMismatch, fmt.Sprintf("server certificate: %v", err)})
	}
	return append(out, expiryWarning(leaf, now, warn)...)
}

// expiryWarning is the warning of a certificate that expires within warn.
// It is the one check left with insecure_skip_verify, where Prometheus
// checks nothing.
func expiryWarning(leaf *x509.Certificate, now time.Time, warn time.Duration) []certProblem {
	if left := leaf.NotAfter.Sub(now); left >= 0 && left < warn {
		return []certProblem{{ServerCertExpiring, fmt.Sprintf("server certificate %q expires in %s (within --warn %s)", leaf.Subject.String(), days(left), days(warn))}}
	}
	return nil
}

// clientCert records what a handshake asked of, and sent as, a client
// certificate.
type clientCert struct {
	requested bool
	// acceptable are the DER subjects of the CAs the server named.
	acceptable [][]byte
	sent       *x509.Certificate
	loadErr    error
}

// record wraps get (nil: no client certificate configured) to record.
func (c *clientCert) record(get func(*tls.CertificateRequestInfo) (*tls.Certificate, error)) func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
		c.requested, c.acceptable = true, cri.AcceptableCAs
		if get == nil {
			return &tls.Certificate{}, nil
		}
		cert, err := get(cri)
		if err != nil {
			c.loadErr = err
			return nil, err
		}
		if cert != nil && len(cert.Certificate) > 0 {
			c.sent, _ = x509.ParseCertificate(cert.Certificate[0])
		}
		return cert, nil
	}
}

// refusal says why the exporter refused the client certificate, from what
// it asked for and what was sent:
//
//	what was sent                                     the reason given
//	none, tls_config has no cert_file                 the exporter requires one and none is configured
//	none, cert_file or key_file unreadable            why they could not be read
//	one that is expired or not yet valid              its validity
//	one whose issuer the exporter does not name       its issuer and the CAs the exporter accepts
//	one not for client authentication                 its extended key usage
//	otherwise                                         the exporter's alert; its log says why (client_allowed_sans...)
func (c *clientCert) refusal(err error, now time.Time) string {
	alert := "the connection was closed"
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" {
		alert = op.Err.Error()
	}
	why := "client certificate refused by the exporter (" + alert + "): "
	s := c.sent
	switch {
	case s == nil && c.loadErr != nil:
		return why + fmt.Sprintf("ours could not be loaded: %v", c.loadErr)
	case s == nil:
		return why + "the exporter requires one and tls_config has none (cert_file, key_file)" + c.accepts()
	case now.After(s.NotAfter) || now.Before(s.NotBefore):
		return why + fmt.Sprintf("ours (%q) is valid from %s to %s", s.Subject.String(), s.NotBefore.UTC().Format(time.RFC3339), s.NotAfter.UTC().Format(time.RFC3339))
	case len(c.acceptable) > 0 && !slices.ContainsFunc(c.acceptable, func(b []byte) bool { return bytes.Equal(b, s.RawIssuer) }):
		return why + fmt.Sprintf("ours is issued by %q", s.Issuer.String()) + c.accepts()
	case len(s.ExtKeyUsage) > 0 && !slices.Contains(s.ExtKeyUsage, x509.ExtKeyUsageClientAuth) && !slices.Contains(s.ExtKeyUsage, x509.ExtKeyUsageAny):
		return why + fmt.Sprintf("ours (%q) is not for client authentication (extended key usage)", s.Subject.String())
	default:
		return why + fmt.Sprintf("ours is %q, issued by %q; the exporter's log says why (client_allowed_sans?)", s.Subject.String(), s.Issuer.String())
	}
}

// accepts names the CAs the server said it accepts.
func (c *clientCert) accepts() string {
	if len(c.acceptable) == 0 {
		return ""
	}
	names := make([]string, 0, len(c.acceptable))
	for _, der := range c.acceptable {
		var rdn pkix.RDNSequence
		if _, err := asn1.Unmarshal(der, &rdn); err != nil {
			continue
		}
		var n pkix.Name
		n.FillFromRDNSequence(&rdn)
		names = append(names, strconv.Quote(n.String()))
	}
	return "; the exporter accepts certificates from " + strings.Join(names, ", ")
}

func days(d time.Duration) string {
	if d < 48*time.Hour {
		return d.Round(time.Second).String()
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
