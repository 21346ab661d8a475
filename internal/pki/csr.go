package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"path"
	"strings"
)

// NewCSR makes a PEM certificate signing request for hosts (DNS names and
// IP addresses, the first one also the subject's CN), signed by key.
func NewCSR(key crypto.Signer, hosts []string) ([]byte, error) {
	if len(hosts) == 0 {
		return nil, errors.New("a certificate request needs at least one host")
	}
	ips, names, err := SplitHosts(hosts)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:     pkix.Name{CommonName: hosts[0]},
		DNSNames:    names,
		IPAddresses: ips,
	}, key)
	if err != nil {
		return nil, fmt.Errorf("create certificate request: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// ParseCSR parses a PEM certificate signing request, checks its signature
// and key, and returns it with the hosts it asks for: its DNS and IP SANs,
// or its CN when it has no SAN. It refuses URI and e-mail SANs, which
// Warden's certificates never carry, and keys too weak to trust.
func ParseCSR(b []byte) (*x509.CertificateRequest, []string, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE REQUEST" && block.Type != "NEW CERTIFICATE REQUEST" {
		return nil, nil, errors.New("no PEM CERTIFICATE REQUEST")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, nil, err
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, nil, fmt.Errorf("certificate request signature: %w", err)
	}
	if len(csr.URIs) > 0 || len(csr.EmailAddresses) > 0 {
		return nil, nil, errors.New("certificate request asks for URI or e-mail SANs; only DNS names and IP addresses are signed")
	}
	switch k := csr.PublicKey.(type) {
	case *ecdsa.PublicKey, ed25519.PublicKey:
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return nil, nil, fmt.Errorf("certificate request has a %d-bit RSA key; at least 2048 bits are signed", k.N.BitLen())
		}
	default:
		return nil, nil, fmt.Errorf("certificate request has a %T key", k)
	}
	var hosts []string
	hosts = append(hosts, csr.DNSNames...)
	for _, ip := range csr.IPAddresses {
		hosts = append(hosts, ip.String())
	}
	if len(hosts) == 0 && csr.Subject.CommonName != "" {
		hosts = []string{csr.Subject.CommonName}
	}
	if len(hosts) == 0 {
		return nil, nil, errors.New("certificate request names no host")
	}
	if _, _, err := SplitHosts(hosts); err != nil {
		return nil, nil, err
	}
	return csr, hosts, nil
}

// HostPatterns are what `cert sign --allow-host` lets a request name. A
// pattern is an IP address, a CIDR range (10.0.0.0/8), or a DNS name in
// which '*' stands for any characters within one label, '?' for one, and
// [...] for a class, compared without regard to case:
//
//	pattern           matches                    does not match
//	*.example.com     a.example.com              example.com, a.b.example.com
//	node?.example.com node1.example.com          node10.example.com
//	10.0.0.0/8        10.1.2.3                   192.168.0.1, any DNS name
//	192.0.2.7         192.0.2.7                  192.0.2.8
type HostPatterns []string

// Validate reports the first pattern that is not well formed.
func (p HostPatterns) Validate() error {
	for _, pat := range p {
		if _, err := ParseIPRange(pat); err == nil {
			continue
		}
		if _, err := path.Match(dnsToPath(pat), "x"); err != nil {
			return fmt.Errorf("--allow-host %q: %w", pat, err)
		}
	}
	return nil
}

// Check returns an error naming every host that no pattern matches. With
// no patterns, every host passes: then only the CA's constraints limit.
func (p HostPatterns) Check(hosts []string) error {
	if len(p) == 0 {
		return nil
	}
	var refused []string
	for _, h := range hosts {
		if !p.matches(h) {
			refused = append(refused, h)
		}
	}
	if len(refused) > 0 {
		return fmt.Errorf("not allowed by --allow-host %s: %s", strings.Join(p, ", "), strings.Join(refused, ", "))
	}
	return nil
}

func (p HostPatterns) matches(host string) bool {
	ip := net.ParseIP(host)
	for _, pat := range p {
		r, err := ParseIPRange(pat)
		switch {
		case err == nil:
			if ip != nil && r.Contains(ip) {
				return true
			}
		case ip == nil:
			if ok, _ := path.Match(dnsToPath(pat), dnsToPath(host)); ok {
				return true
			}
		}
	}
	return false
}

// dnsToPath makes labels path elements, so that path.Match's '*' stops
// at a dot as it stops at a slash.
func dnsToPath(name string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSuffix(name, ".")), ".", "/")
}
