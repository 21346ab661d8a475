// Package pki makes the small private certificate authorities Warden needs:
// one for `wardentool init` on a node, a lasting one kept in a directory
// for a fleet (Authority, in authority.go), and throwaway ones for tests.
// Keys are ECDSA P-256; certificates are X.509 v3 with the usages TLS
// checks. A CA may carry name constraints, which Go's verifier enforces and
// Issue checks before it signs.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// CA is a certificate authority that can sign leaf certificates.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// Leaf is a signed certificate with its private key.
type Leaf struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// NewCA creates a self-signed CA valid for the given duration from now,
// without name constraints. It is CreateCA's short form.
func NewCA(commonName string, validFor time.Duration) (*CA, error) {
	return CreateCA(CAOptions{CommonName: commonName, ValidFor: validFor})
}

// CAOptions says what CA CreateCA makes.
type CAOptions struct {
	// CommonName of the CA's subject.
	CommonName string
	// Generation, when not zero, goes into the subject as its serialNumber
	// attribute: the CAs that follow one another in a directory differ in
	// subject, so that a bundle of two is two series of the exporter's
	// warden_tls_certificate_expiry_timestamp_seconds{subject}.
	Generation int
	// ValidFor is how long the CA is valid from now.
	ValidFor time.Duration
	// PermittedDNSDomains and PermittedIPRanges are name constraints
	// (RFC 5280, 4.2.1.10): a domain permits itself and its subdomains,
	// ".example.com" only its subdomains. Once either is given, the kind
	// of name left without one is excluded altogether, since an empty
	// permitted list would allow every name of its kind; URIs and e-mail
	// addresses are always excluded: the CA cannot sign for anything else.
	PermittedDNSDomains []string
	PermittedIPRanges   []*net.IPNet
}

// everyIP excludes all IPv4 and IPv6 addresses.
var everyIP = []*net.IPNet{
	{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)},
	{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)},
}

// CreateCA creates a self-signed CA as opts say.
func CreateCA(opts CAOptions) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	tmpl, err := template(opts.CommonName, opts.ValidFor)
	if err != nil {
		return nil, err
	}
	if opts.Generation != 0 {
		tmpl.Subject.SerialNumber = strconv.Itoa(opts.Generation)
	}
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.MaxPathLenZero = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	for _, d := range opts.PermittedDNSDomains {
		if _, err := checkDNSName(strings.TrimPrefix(d, ".")); err != nil {
			return nil, fmt.Errorf("permitted DNS domain %q: %w", d, err)
		}
	}
	if len(opts.PermittedDNSDomains) > 0 || len(opts.PermittedIPRanges) > 0 {
		tmpl.PermittedDNSDomainsCritical = true
		tmpl.PermittedDNSDomains = opts.PermittedDNSDomains
		tmpl.PermittedIPRanges = opts.PermittedIPRanges
		if len(opts.PermittedDNSDomains) == 0 {
			tmpl.ExcludedDNSDomains = []string{""} // the empty constraint matches every name
		}
		if len(opts.PermittedIPRanges) == 0 {
			tmpl.ExcludedIPRanges = everyIP
		}
		tmpl.ExcludedEmailAddresses = []string{""}
		tmpl.ExcludedURIDomains = []string{""}
	}
	cert, err := sign(tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key}, nil
}

// Server signs a TLS server certificate for hosts, each a DNS name or an IP address.
func (ca *CA) Server(commonName string, hosts []string, validFor time.Duration) (*Leaf, error) {
	return ca.leaf(commonName, hosts, x509.ExtKeyUsageServerAuth, validFor)
}

// Client signs a TLS client certificate; hosts become its SANs, which
// client_allowed_sans can match.
func (ca *CA) Client(commonName string, hosts []string, validFor time.Duration) (*Leaf, error) {
	return ca.leaf(commonName, hosts, x509.ExtKeyUsageClientAuth, validFor)
}

func (ca *CA) leaf(commonName string, hosts []string, usage x509.ExtKeyUsage, validFor time.Duration) (*Leaf, error) {
	key, err := NewKey()
	if err != nil {
		return nil, fmt.Errorf("generate key for %s: %w", commonName, err)
	}
	cert, err := ca.Issue(Request{CommonName: commonName, Hosts: hosts, Usage: usage, PublicKey: key.Public(), ValidFor: validFor})
	if err != nil {
		return nil, err
	}
	return &Leaf{Cert: cert, Key: key}, nil
}

func notHostChar(c rune) bool {
	return (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '_'
}

// NewKey generates a private key of the kind Warden uses: ECDSA P-256.
func NewKey() (crypto.Signer, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// Request is what Issue signs.
type Request struct {
	// CommonName of the subject; Go and Prometheus ignore it when the
	// certificate has SANs, so it is for people reading the certificate.
	CommonName string
	// Hosts are the SANs: DNS names and IP addresses.
	Hosts []string
	// Usage is ExtKeyUsageServerAuth or ExtKeyUsageClientAuth.
	Usage x509.ExtKeyUsage
	// PublicKey is the key the certificate is for.
	PublicKey crypto.PublicKey
	// ValidFor is how long the certificate is valid from now; it ends no
	// later than the CA does.
	ValidFor time.Duration
	// SerialNumber of the certificate; nil for a random one.
	SerialNumber *big.Int
}

// Issue signs a leaf certificate for r. It refuses hosts that are neither
// an IP address nor a DNS name, and hosts the CA's name constraints do not
// permit, naming them: a certificate that no client would accept is an
// error here, not at the first scrape.
func (ca *CA) Issue(r Request) (*x509.Certificate, error) {
	// Its certificates would end before they begin (they end with it),
	// and no client accepts a chain through it.
	if end := ca.Cert.NotAfter; !time.Now().Before(end) {
		return nil, fmt.Errorf("the CA %q expired on %s: it signs nothing; roll it over (wardentool ca rotate)", ca.Cert.Subject.String(), end.UTC().Format(time.DateOnly))
	}
	tmpl, err := template(r.CommonName, r.ValidFor)
	if err != nil {
		return nil, err
	}
	if r.SerialNumber != nil {
		tmpl.SerialNumber = r.SerialNumber
	}
	if tmpl.NotAfter.After(ca.Cert.NotAfter) {
		tmpl.NotAfter = ca.Cert.NotAfter
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{r.Usage}
	if tmpl.IPAddresses, tmpl.DNSNames, err = SplitHosts(r.Hosts); err != nil {
		return nil, err
	}
	if err := ca.CheckHosts(r.Hosts); err != nil {
		return nil, err
	}
	return sign(tmpl, ca.Cert, r.PublicKey, ca.Key)
}

// SplitHosts sorts hosts into IP addresses and DNS names, refusing any
// that is neither.
func SplitHosts(hosts []string) ([]net.IP, []string, error) {
	var ips []net.IP
	var names []string
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
			continue
		}
		name, err := checkDNSName(h)
		if err != nil {
			return nil, nil, fmt.Errorf("host %q: %w", h, err)
		}
		names = append(names, name)
	}
	return ips, names, nil
}

// checkDNSName accepts what a certificate may name as a host: letters,
// digits, '-', '_' (hostnames made by people have them) and '.', in
// labels of 1 to 63 bytes, 253 at most; no wildcard.
func checkDNSName(name string) (string, error) {
	if name == "" || len(name) > 253 {
		return "", errors.New("not a DNS name: empty or longer than 253 bytes")
	}
	for _, label := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if label == "" || len(label) > 63 {
			return "", errors.New("not a DNS name: empty label or label longer than 63 bytes")
		}
		if i := strings.IndexFunc(label, notHostChar); i >= 0 {
			return "", fmt.Errorf("not a DNS name or IP address: %q is not allowed in a host name", label[i])
		}
	}
	return name, nil
}

// TLSCertificate returns the leaf as a tls.Certificate.
func (l *Leaf) TLSCertificate() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{l.Cert.Raw}, PrivateKey: l.Key, Leaf: l.Cert}
}

// CertPEM encodes a certificate as PEM.
func CertPEM(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

// KeyPEM encodes a private key as PKCS#8 PEM.
func KeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// WriteFiles writes the leaf's certificate (mode 0644) and key (mode 0600).
func (l *Leaf) WriteFiles(certPath, keyPath string) error {
	return writePair(l.Cert, l.Key, certPath, keyPath)
}

// WriteFiles writes the CA's certificate (mode 0644) and, when keyPath is
// not empty, its key (mode 0600).
func (ca *CA) WriteFiles(certPath, keyPath string) error {
	if keyPath == "" {
		return os.WriteFile(certPath, CertPEM(ca.Cert), 0o644)
	}
	return writePair(ca.Cert, ca.Key, certPath, keyPath)
}

func writePair(cert *x509.Certificate, key crypto.Signer, certPath, keyPath string) error {
	keyPEM, err := KeyPEM(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		return err
	}
	return os.WriteFile(certPath, CertPEM(cert), 0o644)
}

func template(commonName string, validFor time.Duration) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generate serial number: %w", err)
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName, Organization: []string{"Warden"}},
		NotBefore:    now.Add(-5 * time.Minute), // tolerate small clock skew between peers
		NotAfter:     now.Add(validFor),
	}, nil
}

func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, fmt.Errorf("sign certificate %q: %w", tmpl.Subject.CommonName, err)
	}
	return x509.ParseCertificate(der)
}
