package pki

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
)

// CheckHosts returns an error naming every host that the CA's name
// constraints do not permit, with the constraints, or nil. It decides as
// Go's verifier does (crypto/x509, matchDomainConstraint and
// matchIPConstraint), so that what it lets through verifies:
//
//	constraint      permits
//	example.com     example.com, a.example.com, a.b.example.com
//	.example.com    a.example.com, a.b.example.com (not example.com)
//	"" (excluded)   every DNS name: the CA names no host by DNS
//	10.0.0.0/8      10.x.y.z
//
// A host must be in a permitted list of its kind when the list is not
// empty, and in no excluded one.
func (ca *CA) CheckHosts(hosts []string) error {
	c := ca.Cert
	var refused []string
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if (len(c.PermittedIPRanges) > 0 && !inRanges(ip, c.PermittedIPRanges)) || inRanges(ip, c.ExcludedIPRanges) {
				refused = append(refused, h)
			}
			continue
		}
		if (len(c.PermittedDNSDomains) > 0 && !inDomains(h, c.PermittedDNSDomains)) || inDomains(h, c.ExcludedDNSDomains) {
			refused = append(refused, h)
		}
	}
	if len(refused) == 0 {
		return nil
	}
	return &ConstraintError{Hosts: refused, Permitted: ca.Permitted()}
}

// ConstraintError is CheckHosts' refusal.
type ConstraintError struct {
	// Hosts are the names and addresses refused.
	Hosts []string
	// Permitted is what the CA may sign for, as Permitted says it.
	Permitted string
}

func (e *ConstraintError) Error() string {
	return fmt.Sprintf("the CA's name constraints do not permit %s (it signs only for %s)", strings.Join(e.Hosts, ", "), e.Permitted)
}

// Permitted says in words what the CA may sign for.
func (ca *CA) Permitted() string {
	c := ca.Cert
	if len(c.PermittedDNSDomains) == 0 && len(c.PermittedIPRanges) == 0 &&
		len(c.ExcludedDNSDomains) == 0 && len(c.ExcludedIPRanges) == 0 {
		return "any name"
	}
	var parts []string
	if len(c.PermittedDNSDomains) > 0 {
		parts = append(parts, "DNS names in "+strings.Join(c.PermittedDNSDomains, ", "))
	} else if !inDomains("any.name", c.ExcludedDNSDomains) {
		parts = append(parts, "any DNS name")
	}
	if len(c.PermittedIPRanges) > 0 {
		var rs []string
		for _, r := range c.PermittedIPRanges {
			rs = append(rs, r.String())
		}
		parts = append(parts, "IP addresses in "+strings.Join(rs, ", "))
	} else if len(c.ExcludedIPRanges) == 0 {
		parts = append(parts, "any IP address")
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, " and ")
}

// ParseIPRange parses a --permit-ip value: a CIDR range, or one address.
func ParseIPRange(s string) (*net.IPNet, error) {
	if ip := net.ParseIP(s); ip != nil {
		bits := 128
		if ip4 := ip.To4(); ip4 != nil {
			ip, bits = ip4, 32
		}
		return &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}, nil
	}
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		return nil, errors.New("not an IP address or CIDR range: " + s)
	}
	return n, nil
}

func inRanges(ip net.IP, ranges []*net.IPNet) bool {
	// Contains, like Go's verifier, matches a range of the address's
	// family only: 0.0.0.0/0 does not cover IPv6 addresses.
	return slices.ContainsFunc(ranges, func(r *net.IPNet) bool { return r.Contains(ip) })
}

func inDomains(name string, domains []string) bool {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	for _, d := range domains {
		d = strings.ToLower(d)
		switch {
		case d == "":
			return true
		case strings.HasPrefix(d, "."):
			if strings.HasSuffix(name, d) {
				return true
			}
		case name == d || strings.HasSuffix(name, "."+d):
			return true
		}
	}
	return false
}
