// Package webconftest gives tests of secure exporters a throwaway PKI: a CA,
// a server certificate for 127.0.0.1 and localhost, a client certificate,
// and HTTP clients that present them. Certificates are made at test time,
// so none expire in the repository.
package webconftest

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/warden-exporter/warden/internal/pki"
)

// File names PKI writes into its directory.
const (
	CACert     = "ca.crt"
	ServerCert = "server.crt"
	ServerKey  = "server.key"
	ClientCert = "client.crt"
	ClientKey  = "client.key"
)

// ClientName is the common name and DNS SAN of the client certificate.
const ClientName = "prometheus.test"

// PKI is a CA with a server and a client certificate, written to Dir.
type PKI struct {
	Dir    string
	CA     *pki.CA
	Server *pki.Leaf
	Client *pki.Leaf
}

// NewPKI makes a PKI and writes it into dir.
func NewPKI(t testing.TB, dir string) *PKI {
	t.Helper()
	ca, err := pki.NewCA("webconftest CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	server, err := ca.Server("localhost", []string{"localhost", "127.0.0.1", "::1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.Client(ClientName, []string{ClientName}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p := &PKI{Dir: dir, CA: ca, Server: server, Client: client}
	if err := ca.WriteFiles(p.Path(CACert), ""); err != nil {
		t.Fatal(err)
	}
	if err := server.WriteFiles(p.Path(ServerCert), p.Path(ServerKey)); err != nil {
		t.Fatal(err)
	}
	if err := client.WriteFiles(p.Path(ClientCert), p.Path(ClientKey)); err != nil {
		t.Fatal(err)
	}
	return p
}

// Path returns the path of a file in the PKI's directory.
func (p *PKI) Path(name string) string { return filepath.Join(p.Dir, name) }

// ClientTLS returns a TLS config that trusts the CA and presents cert, if
// not nil (p.Client for the PKI's own client certificate).
func (p *PKI) ClientTLS(cert *pki.Leaf) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(p.CA.Cert)
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if cert != nil {
		c := cert.TLSCertificate()
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg
}

// HTTPClient returns a client with ClientTLS(cert), which does not keep
// connections alive, so that every request goes through a TLS handshake.
func (p *PKI) HTTPClient(cert *pki.Leaf) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:   p.ClientTLS(cert),
			DisableKeepAlives: true,
		},
	}
}
