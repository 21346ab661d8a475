package webconf

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// cert: identities come from SANs, as client_allowed_sans reads them; the
// CN counts only for a certificate without any SAN.
func TestCertNames(t *testing.T) {
	spiffe, _ := url.Parse("spiffe://example.org/prometheus")
	tests := []struct {
		name string
		cert x509.Certificate
		want string
	}{
		{"CN and another DNS SAN: the SAN only",
			x509.Certificate{Subject: pkix.Name{CommonName: "prometheus.example"}, DNSNames: []string{"lowpriv.example"}}, "cert:lowpriv.example"},
		{"CN and an e-mail SAN of the same text: nothing",
			x509.Certificate{Subject: pkix.Name{CommonName: "prometheus.example"}, EmailAddresses: []string{"prometheus.example"}}, ""},
		{"CN without SANs",
			x509.Certificate{Subject: pkix.Name{CommonName: "prometheus.example"}}, "cert:prometheus.example"},
		{"URI and IP SANs are prefixed",
			x509.Certificate{URIs: []*url.URL{spiffe}, IPAddresses: []net.IP{net.ParseIP("10.0.0.1")}},
			"cert:ip:10.0.0.1,cert:uri:spiffe://example.org/prometheus"},
		{"a DNS SAN or CN that would pass for another kind: nothing",
			x509.Certificate{DNSNames: []string{"uri:spiffe://example.org/admin", "ip:10.0.0.1"}}, ""},
		{"a CN with a colon: nothing",
			x509.Certificate{Subject: pkix.Name{CommonName: "ip:10.0.0.1"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{TLS: &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{&tt.cert}}}}
			if got := strings.Join(certNames(r), ","); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
