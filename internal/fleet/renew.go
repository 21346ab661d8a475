package fleet

import (
	"bytes"
	"cmp"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/warden-exporter/warden/internal/atomicfile"
	"github.com/warden-exporter/warden/internal/pki"
)

// RenewOptions says how Renew re-issues.
type RenewOptions struct {
	// Authority signs the new certificates.
	Authority *pki.Authority
	// Before: a certificate that expires within it is renewed.
	Before time.Duration
	// ValidFor is how long a new certificate is valid; zero means DefaultValidity.
	ValidFor time.Duration
	// NewKey makes a new key instead of keeping the one in the directory.
	// Keeping it (the default) means the key and the certificate on disk
	// always belong together, whichever file a reader reads first.
	NewKey bool
	// Now is the time to judge expiry against; zero means time.Now().
	Now time.Time
	// Adopt re-issues, with their names, certificates that neither the
	// CA that signs now nor the one before it issued (a directory of
	// `wardentool init`, moving to a kept CA). Without it they are
	// refused: whoever could write such a file into a directory renewed
	// would otherwise get any name the CA allows signed.
	Adopt bool
}

// Renewal is what Renew did with one certificate.
type Renewal struct {
	// File is the certificate's path.
	File string
	// Renewed tells whether a new certificate was written.
	Renewed bool
	// Reason says why it was renewed or not.
	Reason string
	// NotAfter is the expiry of the certificate now in the file.
	NotAfter time.Time
}

// pairs are the certificates Renew looks for in a directory, with their
// keys and the one usage a re-issued one gets (whatever the old one said).
var pairs = []struct {
	cert, key string
	usage     x509.ExtKeyUsage
}{{ServerCert, ServerKey, x509.ExtKeyUsageServerAuth}, {ClientCert, ClientKey, x509.ExtKeyUsageClientAuth}}

// Renew re-issues each certificate of dir (server.crt, client.crt) that
// is due (see due), with the same subject and SANs, from opts' CA, for
// server or client authentication as its file name says. A certificate
// that neither the CA that signs now nor the one before it issued is
// refused unless opts.Adopt. Nothing due is no error. Before it
// re-issues, it checks that dir's ca.crt, when there is one, trusts the
// CA that signs now: a node whose peers do not trust its new certificate
// yet would fail every scrape.
func Renew(dir string, opts RenewOptions) ([]Renewal, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	var out []Renewal
	for _, p := range pairs {
		certPath := filepath.Join(dir, p.cert)
		cert, err := pki.ReadCertificate(certPath)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return out, err
		}
		if err := provenance(cert, opts.Authority, opts.Adopt); err != nil {
			return out, fmt.Errorf("%s: %w", certPath, err)
		}
		renew, reason := due(cert, opts.Authority.CA.Cert, now, opts.Before)
		if !renew {
			out = append(out, Renewal{File: certPath, Reason: reason, NotAfter: cert.NotAfter})
			continue
		}
		if err := checkTrust(dir, opts.Authority); err != nil {
			return out, err
		}
		next, err := reissue(cert, filepath.Join(dir, p.key), certPath, p.usage, opts)
		if err != nil {
			return out, err
		}
		out = append(out, Renewal{File: certPath, Renewed: true, Reason: reason, NotAfter: next.NotAfter})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds neither %s nor %s", dir, ServerCert, ClientCert)
	}
	return out, nil
}

// provenance refuses cert unless a's CA or the one before it issued it,
// or adopt.
func provenance(cert *x509.Certificate, a *pki.Authority, adopt bool) error {
	if adopt || cert.CheckSignatureFrom(a.CA.Cert) == nil || (a.Previous != nil && cert.CheckSignatureFrom(a.Previous) == nil) {
		return nil
	}
	return fmt.Errorf("issued by %q, which is neither the CA that signs now (%q) nor the one before it: not re-issued "+
		"(check its names, then --adopt re-issues them; or `cert request` and `cert sign`)", cert.Issuer.String(), a.CA.Cert.Subject.String())
}

// due says whether cert must be re-issued now, and why:
//
//	signed by the CA that signs now   expires within before   due   reason
//	no                                any                     yes   issued by a CA that no longer signs
//	yes                               yes                     yes   expires within before
//	yes                               no                      no    not due
func due(cert, ca *x509.Certificate, now time.Time, before time.Duration) (bool, string) {
	left := cert.NotAfter.Sub(now)
	switch {
	case cert.CheckSignatureFrom(ca) != nil:
		return true, fmt.Sprintf("issued by %q, not by the CA that signs now (%q)", cert.Issuer.String(), ca.Subject.String())
	case left < before:
		return true, fmt.Sprintf("%s, within %s", expiry(left), days(before))
	default:
		return false, "not due: " + expiry(left)
	}
}

func expiry(left time.Duration) string {
	if left < 0 {
		return fmt.Sprintf("expired %s ago", days(-left))
	}
	return "expires in " + days(left)
}

func days(d time.Duration) string {
	if d < 48*time.Hour {
		return d.Round(time.Minute).String()
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func checkTrust(dir string, a *pki.Authority) error {
	b, err := os.ReadFile(filepath.Join(dir, CACert))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !a.Trusts(b) {
		return fmt.Errorf("%s does not trust the CA that signs now (%q): run `wardentool cert trust --ca %s` for every node and Prometheus first, and let the exporters reload", filepath.Join(dir, CACert), a.CA.Cert.Subject.String(), a.Dir)
	}
	return nil
}

// reissue signs a copy of old for the key in keyPath (or a new key) and
// writes it to certPath: the key first when it is new, so that the
// exporter, which checks that they belong together, only ever loads a pair.
func reissue(old *x509.Certificate, keyPath, certPath string, usage x509.ExtKeyUsage, opts RenewOptions) (*x509.Certificate, error) {
	var key crypto.Signer
	var err error
	if opts.NewKey {
		key, err = pki.NewKey()
	} else {
		key, err = pki.ReadKey(keyPath)
		if err == nil && !pki.Matches(old, key) {
			err = fmt.Errorf("%s is not the key of %s", keyPath, certPath)
		}
	}
	if err != nil {
		return nil, err
	}
	hosts := append([]string(nil), old.DNSNames...)
	for _, ip := range old.IPAddresses {
		hosts = append(hosts, ip.String())
	}
	cert, err := opts.Authority.Issue(pki.Request{
		CommonName: old.Subject.CommonName, Hosts: hosts, Usage: usage,
		PublicKey: key.Public(), ValidFor: cmp.Or(opts.ValidFor, DefaultValidity),
	})
	if err != nil {
		return nil, fmt.Errorf("renew %s: %w", certPath, err)
	}
	if opts.NewKey {
		keyPEM, err := pki.KeyPEM(key)
		if err != nil {
			return nil, err
		}
		if err := atomicfile.Write(keyPath, keyPEM, 0o600); err != nil {
			return nil, err
		}
	}
	return cert, atomicfile.Write(certPath, pki.CertPEM(cert), 0o644)
}

// Trust makes dir's ca.crt the CA's bundle.crt, and reports whether it
// changed. It refuses, and changes nothing, when dir's own certificate
// (server.crt, client.crt) was issued by a CA the bundle no longer holds:
// every peer trusting that bundle would refuse it (a node left out of the
// renewal before `ca drop-old`); adopt, for a directory moving to this CA
// from another (see RenewOptions.Adopt), skips that check.
func Trust(dir string, a *pki.Authority, adopt bool) (bool, error) {
	path := filepath.Join(dir, CACert)
	cur, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if bytes.Equal(cur, a.Bundle) {
		return false, nil
	}
	if _, err := os.Stat(dir); err != nil {
		return false, err
	}
	if !adopt {
		if err := ownCertsTrusted(dir, a.Bundle); err != nil {
			return false, err
		}
	}
	return true, atomicfile.Write(path, a.Bundle, 0o644)
}

// ownCertsTrusted checks that a CA of bundle issued each certificate of
// dir.
func ownCertsTrusted(dir string, bundle []byte) error {
	cas, err := pki.ParseCertificates(bundle)
	if err != nil {
		return err
	}
	for _, p := range pairs {
		certPath := filepath.Join(dir, p.cert)
		cert, err := pki.ReadCertificate(certPath)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(cas, func(ca *x509.Certificate) bool { return cert.CheckSignatureFrom(ca) == nil }) {
			return fmt.Errorf("%s was issued by %q, which the CA's bundle no longer holds: its peers would refuse it once they trust the bundle; `wardentool cert renew` it first (--adopt for a directory moving from another CA)", certPath, cert.Issuer.String())
		}
	}
	return nil
}

// Request writes a certificate signing request for hosts into dir as
// server.csr, for the key in server.key: the key is made (0600) when
// there is none, and kept when there is, so that a renewal by request
// never leaves a key that does not match the certificate in use. It
// reports whether the key was kept.
func Request(dir string, hosts []string) (kept bool, err error) {
	if len(hosts) == 0 {
		return false, errors.New("a certificate request needs at least one host")
	}
	if _, _, err := pki.SplitHosts(hosts); err != nil {
		return false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, err
	}
	// The key stays in dir: it must be ours, and only ours.
	if err := atomicfile.CheckPrivate(dir, 0o022, "they could replace the key; chmod 0700"); err != nil {
		return false, err
	}
	keyPath := filepath.Join(dir, ServerKey)
	key, err := pki.ReadKey(keyPath)
	switch {
	case err == nil:
		if err := atomicfile.CheckPrivate(keyPath, 0o077, "a key others may have read is not kept; chmod 0600, or remove it for a new one"); err != nil {
			return false, err
		}
		kept = true
	case errors.Is(err, fs.ErrNotExist):
		if key, err = pki.NewKey(); err != nil {
			return false, err
		}
		keyPEM, err := pki.KeyPEM(key)
		if err != nil {
			return false, err
		}
		if err := atomicfile.Write(keyPath, keyPEM, 0o600); err != nil {
			return false, err
		}
	default:
		return false, err
	}
	csr, err := pki.NewCSR(key, hosts)
	if err != nil {
		return kept, err
	}
	return kept, atomicfile.Write(filepath.Join(dir, ServerCSR), csr, 0o644)
}

// SignOptions says how Sign signs a request.
type SignOptions struct {
	// Allow limits the names a request may ask for; empty allows any the
	// CA's constraints permit.
	Allow pki.HostPatterns
	// Usage is ExtKeyUsageServerAuth (an exporter) or ExtKeyUsageClientAuth (Prometheus).
	Usage x509.ExtKeyUsage
	// ValidFor; zero means DefaultValidity.
	ValidFor time.Duration
}

// Sign signs a PEM certificate signing request with a's CA. It checks the
// request's names against opts.Allow and the CA's name constraints, both,
// so that every refused name is named, before it signs anything.
func Sign(a *pki.Authority, csrPEM []byte, opts SignOptions) (*x509.Certificate, error) {
	if err := opts.Allow.Validate(); err != nil {
		return nil, err
	}
	csr, hosts, err := pki.ParseCSR(csrPEM)
	if err != nil {
		return nil, err
	}
	if err := errors.Join(opts.Allow.Check(hosts), a.CA.CheckHosts(hosts)); err != nil {
		return nil, err
	}
	return a.Issue(pki.Request{CommonName: hosts[0], Hosts: hosts, Usage: cmp.Or(opts.Usage, x509.ExtKeyUsageServerAuth),
		PublicKey: csr.PublicKey, ValidFor: cmp.Or(opts.ValidFor, DefaultValidity)})
}
