package fleet

import (
	"crypto"
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/warden-exporter/warden/internal/pki"
)

func TestDue(t *testing.T) {
	a := newAuthority(t, pki.CAOptions{})
	other, err := pki.NewCA("another CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := pki.NewKey()
	issue := func(ca *pki.CA, validFor time.Duration) *x509.Certificate {
		c, err := ca.Issue(pki.Request{CommonName: "n", Hosts: []string{"n"}, Usage: x509.ExtKeyUsageServerAuth, PublicKey: key.Public(), ValidFor: validFor})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	now := time.Now()
	for _, tt := range []struct {
		name   string
		cert   *x509.Certificate
		before time.Duration
		due    bool
		reason string
	}{
		{"from another CA", issue(other, 365*24*time.Hour), 30 * 24 * time.Hour, true, `issued by "CN=another CA,O=Warden", not by the CA that signs now`},
		{"expires within the window", issue(a.CA, 20*24*time.Hour), 30 * 24 * time.Hour, true, "expires in 19d, within 30d"},
		{"expired", issue(a.CA, -time.Hour), 30 * 24 * time.Hour, true, "expired 1h0m0s ago, within 30d"},
		{"not due", issue(a.CA, 90*24*time.Hour), 30 * 24 * time.Hour, false, "not due: expires in 89d"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			due, reason := due(tt.cert, a.CA.Cert, now, tt.before)
			if due != tt.due || !strings.Contains(reason, tt.reason) {
				t.Errorf("due = %v, %q; want %v, containing %q", due, reason, tt.due, tt.reason)
			}
		})
	}
}

func TestRenewAndRollover(t *testing.T) {
	a := newAuthority(t, pki.CAOptions{})
	out := filepath.Join(t.TempDir(), "fleet")
	nodes := testNodes(2)
	if _, err := Init(Options{Authority: a, Nodes: nodes, Out: out, ValidFor: 20 * 24 * time.Hour, BcryptCost: bcrypt.MinCost}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(out, NodesDir, nodes[0].Name)
	prom := filepath.Join(out, PrometheusDir)
	month := 30 * 24 * time.Hour
	old := mustCert(t, filepath.Join(dir, ServerCert))
	oldKey := mustRead(t, filepath.Join(dir, ServerKey))

	// Not due within 10 days: nothing written, no error.
	r, err := Renew(dir, RenewOptions{Authority: a, Before: 10 * 24 * time.Hour})
	if err != nil || len(r) != 1 || r[0].Renewed {
		t.Fatalf("Renew with nothing due: %+v, %v", r, err)
	}
	// Due within 30 days: same SANs and key, a year more.
	r, err = Renew(dir, RenewOptions{Authority: a, Before: month})
	if err != nil || len(r) != 1 || !r[0].Renewed {
		t.Fatalf("Renew: %+v, %v", r, err)
	}
	renewed := mustCert(t, filepath.Join(dir, ServerCert))
	if !slices.Equal(renewed.DNSNames, old.DNSNames) || !renewed.IPAddresses[0].Equal(old.IPAddresses[0]) || renewed.Subject.CommonName != old.Subject.CommonName {
		t.Errorf("renewed SANs %v %v, want %v %v", renewed.DNSNames, renewed.IPAddresses, old.DNSNames, old.IPAddresses)
	}
	if renewed.NotAfter.Sub(old.NotAfter) < 300*24*time.Hour || renewed.SerialNumber.Cmp(old.SerialNumber) == 0 {
		t.Errorf("renewed: until %s (was %s), serial %s", renewed.NotAfter, old.NotAfter, renewed.SerialNumber)
	}
	if string(mustRead(t, filepath.Join(dir, ServerKey))) != string(oldKey) {
		t.Error("the key changed without NewKey")
	}
	if renewed.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Errorf("usage %v", renewed.ExtKeyUsage)
	}
	// The Prometheus directory holds a client certificate; it stays one.
	if r, err := Renew(prom, RenewOptions{Authority: a, Before: month, NewKey: true}); err != nil || !r[0].Renewed {
		t.Fatalf("Renew prometheus/: %+v, %v", r, err)
	}
	client := mustCert(t, filepath.Join(prom, ClientCert))
	if client.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Errorf("client usage %v", client.ExtKeyUsage)
	}
	key, err := pki.ReadKey(filepath.Join(prom, ClientKey))
	if err != nil || !pki.Matches(client, key) {
		t.Errorf("after NewKey, the key does not match the certificate: %v", err)
	}

	// Rollover: a new CA; renewing before the directory trusts it is refused.
	if err := a.Rotate(0); err != nil {
		t.Fatal(err)
	}
	if _, err := Renew(dir, RenewOptions{Authority: a, Before: month}); err == nil || !strings.Contains(err.Error(), "cert trust") {
		t.Fatalf("Renew before trust: %v, want a refusal pointing to cert trust", err)
	}
	for _, d := range []string{dir, prom} {
		if changed, err := Trust(d, a, false); err != nil || !changed {
			t.Fatalf("Trust %s: %v, %v", d, changed, err)
		}
	}
	if changed, err := Trust(dir, a, false); err != nil || changed {
		t.Errorf("second Trust: changed %v, %v", changed, err)
	}
	r, err = Renew(dir, RenewOptions{Authority: a, Before: month})
	if err != nil || !r[0].Renewed || !strings.Contains(r[0].Reason, "not by the CA that signs now") {
		t.Fatalf("Renew after rotation: %+v, %v", r, err)
	}
	if err := mustCert(t, filepath.Join(dir, ServerCert)).CheckSignatureFrom(a.CA.Cert); err != nil {
		t.Errorf("renewed certificate not from the new CA: %v", err)
	}

	if _, err := Renew(t.TempDir(), RenewOptions{Authority: a, Before: month}); err == nil || !strings.Contains(err.Error(), "neither") {
		t.Errorf("Renew of an empty directory: %v", err)
	}
}

func TestRequestKeepsTheKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	if _, err := Request(dir, []string{"a/b"}); err == nil {
		t.Fatal("a request for a bad host succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, ServerKey)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a key was written for a refused request: %v", err)
	}
	kept, err := Request(dir, []string{"node1.example.com", "10.0.0.1"})
	if err != nil || kept {
		t.Fatalf("first request: kept %v, %v", kept, err)
	}
	key := mustRead(t, filepath.Join(dir, ServerKey))
	if fi, _ := os.Stat(filepath.Join(dir, ServerKey)); fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %#o", fi.Mode().Perm())
	}
	kept, err = Request(dir, []string{"node1.example.com"})
	if err != nil || !kept || string(mustRead(t, filepath.Join(dir, ServerKey))) != string(key) {
		t.Fatalf("second request: kept %v, %v; the key must stay", kept, err)
	}
	csr, hosts, err := pki.ParseCSR(mustRead(t, filepath.Join(dir, ServerCSR)))
	if err != nil || !slices.Equal(hosts, []string{"node1.example.com"}) {
		t.Fatalf("CSR: %v, %v", hosts, err)
	}
	k, _ := pki.ReadKey(filepath.Join(dir, ServerKey))
	if !k.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(csr.PublicKey) {
		t.Error("the CSR is not for the key in the directory")
	}
}

func TestSign(t *testing.T) {
	a := newAuthority(t, pki.CAOptions{PermittedDNSDomains: []string{"example.com"}})
	key, _ := pki.NewKey()
	csr := func(hosts ...string) []byte {
		b, err := pki.NewCSR(key, hosts)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	allow := pki.HostPatterns{"*.dc1.example.com"}
	c, err := Sign(a, csr("n1.dc1.example.com"), SignOptions{Allow: allow})
	if err != nil || c.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth || c.NotAfter.Sub(c.NotBefore) < 300*24*time.Hour {
		t.Fatalf("Sign: %v", err)
	}
	_, err = Sign(a, csr("n1.dc2.example.com", "n1.example.org"), SignOptions{Allow: allow})
	var ce *pki.ConstraintError
	if err == nil || !errors.As(err, &ce) || !strings.Contains(err.Error(), "not allowed by --allow-host *.dc1.example.com: n1.dc2.example.com, n1.example.org") {
		t.Fatalf("Sign outside both: %v", err)
	}
	if next, _ := a.Reserve(1); next.Int64() != 2 {
		t.Errorf("a refused request took a serial number: next is %v", next)
	}
}

// A certificate that neither the CA nor the one before it issued is not
// re-issued unless adopted: whoever could write one into a directory that
// renew (or its timer) processes got its names, and any usage it claimed,
// signed by the CA. An adopted one gets its names and the usage of its
// file name, never the one it claimed.
func TestRenewRefusesForeignCertificatesUnlessAdopted(t *testing.T) {
	a := newAuthority(t, pki.CAOptions{})
	foreign, err := pki.NewCA("someone else", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	key, err := pki.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := pki.KeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	// A client.crt claiming server authentication.
	claimed, err := foreign.Issue(pki.Request{CommonName: "prometheus", Hosts: []string{"node1.example.com"}, Usage: x509.ExtKeyUsageServerAuth, PublicKey: key.Public(), ValidFor: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ClientKey), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ClientCert), pki.CertPEM(claimed), 0o644); err != nil {
		t.Fatal(err)
	}

	if r, err := Renew(dir, RenewOptions{Authority: a, Before: 24 * time.Hour}); err == nil || !strings.Contains(err.Error(), "--adopt") {
		t.Fatalf("Renew of a foreign certificate: %+v, %v; want a refusal naming --adopt", r, err)
	}
	if got := mustCert(t, filepath.Join(dir, ClientCert)); !got.Equal(claimed) {
		t.Error("the refused certificate was replaced")
	}

	r, err := Renew(dir, RenewOptions{Authority: a, Before: 24 * time.Hour, Adopt: true})
	if err != nil || len(r) != 1 || !r[0].Renewed {
		t.Fatalf("Renew with Adopt: %+v, %v", r, err)
	}
	got := mustCert(t, filepath.Join(dir, ClientCert))
	if err := got.CheckSignatureFrom(a.CA.Cert); err != nil {
		t.Errorf("adopted certificate not from the CA: %v", err)
	}
	if !slices.Equal(got.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) || !slices.Equal(got.DNSNames, []string{"node1.example.com"}) {
		t.Errorf("adopted client.crt: usage %v, names %v; want client authentication only, node1.example.com", got.ExtKeyUsage, got.DNSNames)
	}
}

// cert request keeps a key only where no one else could have read or
// replaced it: a directory others may write, or a key others may read, is
// refused. It kept both.
func TestRequestRefusesOpenDirectoryAndKey(t *testing.T) {
	open := filepath.Join(t.TempDir(), "open")
	if err := os.Mkdir(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := Request(open, []string{"node1.example.com"}); err == nil || !strings.Contains(err.Error(), "writable by group or others") {
		t.Errorf("Request in a 0777 directory: %v, want a refusal", err)
	}

	dir := filepath.Join(t.TempDir(), "node")
	if _, err := Request(dir, []string{"node1.example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, ServerKey), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Request(dir, []string{"node1.example.com"}); err == nil || !strings.Contains(err.Error(), "open to others") {
		t.Errorf("Request keeping a 0644 key: %v, want a refusal", err)
	}
}

// cert trust refuses, and writes nothing, where the directory's own
// certificate comes from a CA the new bundle no longer holds: a node left
// out of the renewal before `ca drop-old` would have every peer refuse it.
// --adopt writes it anyway, for a directory moving from another CA.
func TestTrustRefusesABundleThatDropsTheDirectorysCA(t *testing.T) {
	a := newAuthority(t, pki.CAOptions{})
	out := filepath.Join(t.TempDir(), "fleet")
	nodes := testNodes(1)
	if _, err := Init(Options{Authority: a, Nodes: nodes, Out: out, BcryptCost: bcrypt.MinCost}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(out, NodesDir, nodes[0].Name)
	if err := a.Rotate(0); err != nil {
		t.Fatal(err)
	}
	if err := a.DropPrevious(); err != nil {
		t.Fatal(err)
	}
	before := mustRead(t, filepath.Join(dir, CACert))
	if _, err := Trust(dir, a, false); err == nil || !strings.Contains(err.Error(), "cert renew") {
		t.Fatalf("Trust of a directory whose certificate the bundle no longer covers: %v, want a refusal", err)
	}
	if got := mustRead(t, filepath.Join(dir, CACert)); string(got) != string(before) {
		t.Error("the refused Trust changed ca.crt")
	}
	if changed, err := Trust(dir, a, true); err != nil || !changed {
		t.Errorf("Trust with adopt: %v, %v", changed, err)
	}
}
