package pki

import (
	"crypto/x509"
	"errors"
	"net"
	"testing"
	"time"
)

// TestCheckHostsAgreesWithGo signs each host without CheckHosts and asks
// Go's verifier: CheckHosts must refuse exactly what Go would not verify.
func TestCheckHostsAgreesWithGo(t *testing.T) {
	_, tenNet, _ := net.ParseCIDR("10.0.0.0/8")
	cas := map[string]CAOptions{
		"dns only": {PermittedDNSDomains: []string{"example.com"}},
		"ip only":  {PermittedIPRanges: []*net.IPNet{tenNet}},
		"both":     {PermittedDNSDomains: []string{".example.org"}, PermittedIPRanges: []*net.IPNet{tenNet}},
		"none":     {},
	}
	tests := []struct {
		ca, host string
		want     bool
	}{
		{"dns only", "example.com", true},
		{"dns only", "node1.example.com", true},
		{"dns only", "a.b.example.com", true},
		{"dns only", "NODE1.Example.COM", true},
		{"dns only", "example.org", false},
		{"dns only", "badexample.com", false},
		{"dns only", "10.0.0.1", false}, // no IP permitted: all excluded
		{"ip only", "10.1.2.3", true},
		{"ip only", "192.168.0.1", false},
		{"ip only", "::1", false},
		{"ip only", "node1.example.com", false}, // no DNS permitted: all excluded
		{"both", "a.example.org", true},
		{"both", "example.org", false}, // leading dot: subdomains only
		{"both", "10.9.9.9", true},
		{"none", "anything.example", true},
		{"none", "192.0.2.1", true},
	}
	built := map[string]*CA{}
	for name, opts := range cas {
		opts.CommonName, opts.ValidFor = "test CA "+name, time.Hour
		ca, err := CreateCA(opts)
		if err != nil {
			t.Fatal(err)
		}
		built[name] = ca
	}
	for _, tt := range tests {
		t.Run(tt.ca+"/"+tt.host, func(t *testing.T) {
			ca := built[tt.ca]
			err := ca.CheckHosts([]string{tt.host})
			if got := err == nil; got != tt.want {
				t.Fatalf("CheckHosts(%s) = %v, want permitted=%v", tt.host, err, tt.want)
			}
			var ce *ConstraintError
			if err != nil && !errors.As(err, &ce) {
				t.Fatalf("CheckHosts error %T, want *ConstraintError", err)
			}
			// What Go says of a certificate signed without the check.
			key, _ := NewKey()
			tmpl, _ := template(tt.host, time.Hour)
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
			tmpl.IPAddresses, tmpl.DNSNames, _ = SplitHosts([]string{tt.host})
			leaf, err := sign(tmpl, ca.Cert, key.Public(), ca.Key)
			if err != nil {
				t.Fatal(err)
			}
			roots := x509.NewCertPool()
			roots.AddCert(ca.Cert)
			_, verr := leaf.Verify(x509.VerifyOptions{Roots: roots})
			if goOK := verr == nil; goOK != tt.want {
				t.Fatalf("Go's verifier: %v; the table says permitted=%v", verr, tt.want)
			}
		})
	}
}

func TestIssueRefusesOutsideConstraints(t *testing.T) {
	ca, err := CreateCA(CAOptions{CommonName: "c", ValidFor: time.Hour, PermittedDNSDomains: []string{"example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := NewKey()
	_, err = ca.Issue(Request{CommonName: "x", Hosts: []string{"a.example.com", "evil.test"}, Usage: x509.ExtKeyUsageServerAuth, PublicKey: key.Public(), ValidFor: time.Hour})
	var ce *ConstraintError
	if !errors.As(err, &ce) || len(ce.Hosts) != 1 || ce.Hosts[0] != "evil.test" {
		t.Fatalf("Issue error = %v, want a ConstraintError naming evil.test only", err)
	}
	if want := "DNS names in example.com"; ce.Permitted != want {
		t.Errorf("Permitted = %q, want %q", ce.Permitted, want)
	}
}

func TestIssueClampsToCAExpiry(t *testing.T) {
	ca, err := NewCA("short CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := NewKey()
	c, err := ca.Issue(Request{CommonName: "n", Hosts: []string{"n"}, Usage: x509.ExtKeyUsageServerAuth, PublicKey: key.Public(), ValidFor: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !c.NotAfter.Equal(ca.Cert.NotAfter) {
		t.Errorf("leaf NotAfter %s, want the CA's %s", c.NotAfter, ca.Cert.NotAfter)
	}
}

func TestSplitHosts(t *testing.T) {
	for _, tt := range []struct {
		host string
		ok   bool
	}{
		{"node1.example.com", true},
		{"my_host", true},
		{"10.0.0.1", true},
		{"::1", true},
		{"", false},
		{"*.example.com", false},
		{"a b", false},
		{"a/b", false},
		{"a..b", false},
	} {
		_, _, err := SplitHosts([]string{tt.host})
		if (err == nil) != tt.ok {
			t.Errorf("SplitHosts(%q) = %v, want ok=%v", tt.host, err, tt.ok)
		}
	}
}
