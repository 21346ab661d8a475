package pki

import (
	"slices"
	"strings"
	"testing"
)

func TestCSRRoundTrip(t *testing.T) {
	key, _ := NewKey()
	b, err := NewCSR(key, []string{"node1.example.com", "10.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	csr, hosts, err := ParseCSR(b)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(hosts, []string{"node1.example.com", "10.0.0.1"}) || csr.Subject.CommonName != "node1.example.com" {
		t.Errorf("hosts %v, CN %q", hosts, csr.Subject.CommonName)
	}
	// A request altered after signing fails its signature check.
	tampered := strings.Replace(string(b), string(b[100:104]), "AAAA", 1)
	if _, _, err := ParseCSR([]byte(tampered)); err == nil {
		t.Error("a tampered request parsed")
	}
}

func TestHostPatterns(t *testing.T) {
	tests := []struct {
		pattern, host string
		want          bool
	}{
		{"*.example.com", "a.example.com", true},
		{"*.example.com", "A.EXAMPLE.com", true},
		{"*.example.com", "example.com", false},
		{"*.example.com", "a.b.example.com", false},
		{"*.example.com", "a.example.com.evil.test", false},
		{"node?.example.com", "node1.example.com", true},
		{"node?.example.com", "node10.example.com", false},
		{"node[0-9]*.dc1", "node42.dc1", true},
		{"10.0.0.0/8", "10.1.2.3", true},
		{"10.0.0.0/8", "192.168.0.1", false},
		{"10.0.0.0/8", "ten.example.com", false},
		{"192.0.2.7", "192.0.2.7", true},
		{"192.0.2.7", "192.0.2.8", false},
		{"*", "10.0.0.1", false}, // DNS patterns never match addresses
	}
	for _, tt := range tests {
		p := HostPatterns{tt.pattern}
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		err := p.Check([]string{tt.host})
		if (err == nil) != tt.want {
			t.Errorf("pattern %q, host %q: %v, want allowed=%v", tt.pattern, tt.host, err, tt.want)
		}
	}
	if err := (HostPatterns{"[a-"}).Validate(); err == nil {
		t.Error("a malformed pattern validated")
	}
	if err := (HostPatterns{}).Check([]string{"anything"}); err != nil {
		t.Errorf("no patterns must allow all: %v", err)
	}
}
