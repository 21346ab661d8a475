package pki

import (
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestInitAuthority(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	a, err := InitAuthority(dir, CAOptions{CommonName: "Fleet CA"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]os.FileMode{".": 0o700, AuthorityKey: 0o600, SerialFile: 0o600, AuthorityCert: 0o644, BundleFile: 0o644} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %#o, want %#o", name, got, want)
		}
	}
	if got := a.CA.Cert.Subject.String(); got != "SERIALNUMBER=1,CN=Fleet CA,O=Warden" {
		t.Errorf("subject %q", got)
	}
	if _, err := InitAuthority(dir, CAOptions{CommonName: "again"}); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("second init: %v, want ErrNotEmpty", err)
	}

	// Serial numbers come from the counter, one after another, across opens.
	key, _ := NewKey()
	req := Request{CommonName: "n1", Hosts: []string{"n1"}, Usage: x509.ExtKeyUsageServerAuth, PublicKey: key.Public(), ValidFor: time.Hour}
	var serials []int64
	for range 3 {
		a, err := OpenAuthority(dir)
		if err != nil {
			t.Fatal(err)
		}
		c, err := a.Issue(req)
		if err != nil {
			t.Fatal(err)
		}
		serials = append(serials, c.SerialNumber.Int64())
	}
	if serials[0] != 1 || serials[1] != 2 || serials[2] != 3 {
		t.Errorf("serials %v, want 1 2 3", serials)
	}
	first, err := a.Reserve(1000)
	if err != nil || first.Int64() != 4 {
		t.Fatalf("Reserve = %v, %v; want 4", first, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, SerialFile)); strings.TrimSpace(string(b)) != "3ec" { // 4+1000
		t.Errorf("serial file %q, want 3ec", b)
	}

	if err := os.Chmod(filepath.Join(dir, AuthorityKey), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenAuthority(dir); err == nil || !strings.Contains(err.Error(), "chmod 0600") {
		t.Errorf("open with a readable key: %v, want a refusal", err)
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	a, err := InitAuthority(dir, CAOptions{CommonName: "Fleet CA", PermittedDNSDomains: []string{"example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	stale, err := OpenAuthority(dir)
	if err != nil {
		t.Fatal(err)
	}
	old := a.CA.Cert
	if err := a.DropPrevious(); !errors.Is(err, ErrNotRotating) {
		t.Fatalf("drop before rotating: %v", err)
	}
	if err := a.Rotate(0); err != nil {
		t.Fatal(err)
	}
	if a.CA.Cert.Equal(old) || !a.Previous.Equal(old) {
		t.Fatal("Rotate did not make a new CA and keep the old as previous")
	}
	if got := a.CA.Cert.Subject.String(); got != "SERIALNUMBER=2,CN=Fleet CA,O=Warden" {
		t.Errorf("new subject %q: the generation must make it differ", got)
	}
	if got := a.CA.Cert.PermittedDNSDomains; len(got) != 1 || got[0] != "example.com" {
		t.Errorf("new CA constraints %v, want the old one's", got)
	}
	bundle, err := ParseCertificates(a.Bundle)
	if err != nil || len(bundle) != 2 || !bundle[0].Equal(old) || !bundle[1].Equal(a.CA.Cert) {
		t.Fatalf("bundle during rotation: %d certificates, %v", len(bundle), err)
	}
	if !a.Trusts(a.Bundle) || a.Trusts(CertPEM(old)) {
		t.Error("Trusts: the bundle must include the new CA, the old certificate alone not")
	}
	if err := a.Rotate(0); !errors.Is(err, ErrRotating) {
		t.Fatalf("second rotate: %v, want ErrRotating", err)
	}
	// A handle opened before the rotation cannot issue from the old CA.
	if _, err := stale.Reserve(1); err == nil {
		t.Fatal("Reserve through a handle opened before the rotation succeeded")
	}

	if err := a.DropPrevious(); err != nil {
		t.Fatal(err)
	}
	again, err := OpenAuthority(dir)
	if err != nil {
		t.Fatal(err)
	}
	bundle, _ = ParseCertificates(again.Bundle)
	if len(bundle) != 1 || !bundle[0].Equal(a.CA.Cert) || again.Previous != nil {
		t.Fatalf("after drop: bundle of %d, previous %v", len(bundle), again.Previous)
	}
	for _, gone := range []string{PreviousCert, PreviousKey} {
		if _, err := os.Stat(filepath.Join(dir, gone)); !os.IsNotExist(err) {
			t.Errorf("%s still there after drop: %v", gone, err)
		}
	}
	if _, err := ReadCertificate(filepath.Join(dir, RetiredDir, old.SerialNumber.Text(16)+".crt")); err != nil {
		t.Errorf("retired certificate: %v", err)
	}
}

// A CA directory another user owns, or that group or others may write,
// is refused: whoever may write it can put a CA of theirs there, and
// every certificate after would come from it.
func TestAuthorityDirectoryMustBeOnlyOurs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a directory to another user")
	}
	theirs := t.TempDir()
	if err := os.Chown(theirs, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := InitAuthority(theirs, CAOptions{CommonName: "Fleet CA"}); err == nil || !strings.Contains(err.Error(), "belongs to uid 65534") {
		t.Errorf("InitAuthority in another user's directory: %v, want a refusal", err)
	}

	dir := filepath.Join(t.TempDir(), "ca")
	if _, err := InitAuthority(dir, CAOptions{CommonName: "Fleet CA"}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenAuthority(dir); err == nil || !strings.Contains(err.Error(), "writable by group or others") {
		t.Errorf("OpenAuthority of a 0777 directory: %v, want a refusal", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Join(dir, AuthorityKey), 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenAuthority(dir); err == nil || !strings.Contains(err.Error(), "belongs to uid 65534") {
		t.Errorf("OpenAuthority with another user's ca.key: %v, want a refusal", err)
	}
}

// An expired CA signs nothing: its certificates, cut to end with it, ended
// before they began, and cert sign, fleet init and cert renew reported
// them issued (the renewal timer on every run).
func TestExpiredCASignsNothing(t *testing.T) {
	ca, err := NewCA("expired CA", -time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	key, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	_, err = ca.Issue(Request{CommonName: "n", Hosts: []string{"n.example.com"}, Usage: x509.ExtKeyUsageServerAuth, PublicKey: key.Public(), ValidFor: time.Hour})
	if err == nil || !strings.Contains(err.Error(), "expired") || !strings.Contains(err.Error(), "ca rotate") {
		t.Errorf("Issue from an expired CA: %v, want a refusal pointing to ca rotate", err)
	}
}

// A bundle.crt that is empty, or lacks the CA that signs, is refused when
// the CA directory is read: cert trust handed it out as every node's
// ca.crt, and they trusted nothing issued.
func TestAuthorityRefusesABundleWithoutItsCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	if _, err := InitAuthority(dir, CAOptions{CommonName: "Fleet CA"}); err != nil {
		t.Fatal(err)
	}
	other, err := NewCA("another CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for name, bundle := range map[string][]byte{"empty": nil, "another CA's": CertPEM(other.Cert)} {
		if err := os.WriteFile(filepath.Join(dir, BundleFile), bundle, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenAuthority(dir); err == nil || !strings.Contains(err.Error(), "does not hold ca.crt") {
			t.Errorf("%s bundle: %v, want a refusal", name, err)
		}
	}
}

// A `ca rotate` cut short between writing ca.key and ca.crt leaves a
// directory every command refuses; the refusal says how to go back.
func TestInterruptedRotationSaysHowToGoBack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	a, err := InitAuthority(dir, CAOptions{CommonName: "Fleet CA"})
	if err != nil {
		t.Fatal(err)
	}
	oldCert, err := os.ReadFile(filepath.Join(dir, AuthorityCert))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Rotate(0); err != nil {
		t.Fatal(err)
	}
	// As if the crash came before ca.crt and bundle.crt were written.
	if err := os.WriteFile(filepath.Join(dir, AuthorityCert), oldCert, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, BundleFile), oldCert, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenAuthority(dir); err == nil || !strings.Contains(err.Error(), "copy it to ca.key and remove previous.crt and previous.key") {
		t.Fatalf("OpenAuthority after a cut-short rotation: %v, want the way back", err)
	}
	// The way back, followed: the CA opens and rotates again.
	key, err := os.ReadFile(filepath.Join(dir, PreviousKey))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, AuthorityKey), key, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{PreviousCert, PreviousKey} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	a, err = OpenAuthority(dir)
	if err != nil {
		t.Fatalf("after following the way back: %v", err)
	}
	if err := a.Rotate(0); err != nil {
		t.Errorf("rotate again after following the way back: %v", err)
	}
}

// A CA directory others may write is refused before its lock file is
// made: there, the lock could be a link to a file of their choosing.
func TestOpenAuthorityRefusesBeforeTheLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	if _, err := InitAuthority(dir, CAOptions{CommonName: "Fleet CA"}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "made-by-the-lock")
	if err := os.Remove(filepath.Join(dir, lockFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, lockFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenAuthority(dir); err == nil {
		t.Error("a CA directory anyone may write was opened")
	}
	if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the lock link's target was made: %v", err)
	}
}
