package pki

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/warden-exporter/warden/internal/atomicfile"
)

// A CA directory (InitAuthority, OpenAuthority) holds:
//
//	ca.crt        the CA that signs (0644)
//	ca.key        its key (0600)
//	serial        the serial number of the next certificate, hex (0600)
//	bundle.crt    what nodes and Prometheus trust: ca.crt's certificate, or
//	              during a rotation previous.crt's then ca.crt's (0644)
//	previous.crt  during a rotation, the CA before ca.crt (0644)
//	previous.key  its key, kept until the rotation ends so that an operator
//	              can still undo it by hand (0600)
//	retired/      the certificates of CAs whose rotation ended, by serial
//	lock          flock(2) target: issuing, rotating and ending a rotation
//	              take it exclusively, opening takes it shared
//
// The directory is 0700. Files are replaced by rename after fsync
// (internal/atomicfile), so a reader sees a whole file, old or new. A
// rotation is two commands: Rotate makes the new CA and the bundle of both;
// DropPrevious, once every certificate in use comes from the new CA, makes
// the bundle the new CA alone.
const (
	AuthorityCert = "ca.crt"
	AuthorityKey  = "ca.key"
	SerialFile    = "serial"
	BundleFile    = "bundle.crt"
	PreviousCert  = "previous.crt"
	PreviousKey   = "previous.key"
	RetiredDir    = "retired"
	lockFile      = "lock"
)

// DefaultCAValidity is how long a CA made by InitAuthority or Rotate is
// valid unless told otherwise.
const DefaultCAValidity = 10 * 365 * 24 * time.Hour

// Authority is a CA kept in a directory, as laid out above.
type Authority struct {
	// Dir is the directory.
	Dir string
	// CA is the CA that signs.
	CA *CA
	// Previous is the CA before CA while a rotation is under way, or nil.
	Previous *x509.Certificate
	// Bundle is the content of bundle.crt: the certificates to trust.
	Bundle []byte
}

// ErrNotEmpty is InitAuthority's refusal of a directory that has files.
var ErrNotEmpty = errors.New("directory is not empty")

// InitAuthority makes a new CA as opts say (Generation 1 when zero) and
// writes it into dir, which must not exist or be empty.
func InitAuthority(dir string, opts CAOptions) (*Authority, error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	case len(entries) > 0:
		return nil, fmt.Errorf("%s: %w; a CA is made once (rotate it with `wardentool ca rotate`)", dir, ErrNotEmpty)
	}
	if err := atomicfile.CheckOwner(dir); err != nil {
		return nil, fmt.Errorf("CA directory: %w", err)
	}
	// MkdirAll leaves an existing directory's mode, and umask trims a new one's.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, err
	}
	if opts.Generation == 0 {
		opts.Generation = 1
	}
	if opts.ValidFor == 0 {
		opts.ValidFor = DefaultCAValidity
	}
	ca, err := CreateCA(opts)
	if err != nil {
		return nil, err
	}
	keyPEM, err := KeyPEM(ca.Key)
	if err != nil {
		return nil, err
	}
	a := &Authority{Dir: dir, CA: ca, Bundle: CertPEM(ca.Cert)}
	err = a.locked(unix.LOCK_EX, func() error {
		return a.writeFiles(
			file{SerialFile, []byte("01\n"), 0o600},
			file{AuthorityKey, keyPEM, 0o600},
			file{AuthorityCert, CertPEM(ca.Cert), 0o644},
			file{BundleFile, a.Bundle, 0o644},
		)
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// OpenAuthority reads the CA kept in dir.
func OpenAuthority(dir string) (*Authority, error) {
	a := &Authority{Dir: dir}
	// Checked before the lock file is made, which would litter a
	// directory named by mistake.
	if _, err := os.Stat(a.path(AuthorityCert)); err != nil {
		return nil, fmt.Errorf("%s is not a CA directory (wardentool ca init): %w", dir, err)
	}
	// And before the lock file is made: in a directory others may write,
	// it could be a link to a file of theirs choosing.
	if err := checkPrivateDir(dir); err != nil {
		return nil, err
	}
	if err := a.locked(unix.LOCK_SH, a.read); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *Authority) read() error {
	// Whoever may write the directory may put a CA of theirs in it.
	if err := checkPrivateDir(a.Dir); err != nil {
		return err
	}
	cert, err := ReadCertificate(a.path(AuthorityCert))
	if err != nil {
		return fmt.Errorf("CA directory %s: %w", a.Dir, err)
	}
	if err := checkSecret(a.path(AuthorityKey)); err != nil {
		return err
	}
	key, err := ReadKey(a.path(AuthorityKey))
	if err != nil {
		return fmt.Errorf("CA directory %s: %w", a.Dir, err)
	}
	if !Matches(cert, key) {
		hint := ""
		if prev, err := ReadKey(a.path(PreviousKey)); err == nil && Matches(cert, prev) {
			// Rotate writes previous.* first, then ca.key, then ca.crt.
			hint = fmt.Sprintf(": a `ca rotate` was cut short after writing %s; %s is the key of %s, so copy it to %s and remove %s and %s to go back, then rotate again", AuthorityKey, PreviousKey, AuthorityCert, AuthorityKey, PreviousCert, PreviousKey)
		}
		return fmt.Errorf("CA directory %s: %s is not the key of %s%s", a.Dir, AuthorityKey, AuthorityCert, hint)
	}
	a.CA = &CA{Cert: cert, Key: key}
	if a.Bundle, err = os.ReadFile(a.path(BundleFile)); err != nil {
		return fmt.Errorf("CA directory %s: %w", a.Dir, err)
	}
	a.Previous, err = ReadCertificate(a.path(PreviousCert))
	if errors.Is(err, fs.ErrNotExist) {
		a.Previous, err = nil, nil
	}
	if err != nil {
		return err
	}
	// cert trust hands the bundle to every node and Prometheus: one
	// without the CA that signs (or, in a rotation, the one before it)
	// would have them trust nothing that is issued.
	if !a.Trusts(a.Bundle) {
		return fmt.Errorf("CA directory %s: %s does not hold %s (%s); restore it from %s", a.Dir, BundleFile, AuthorityCert, a.Trusted(), AuthorityCert)
	}
	if a.Previous != nil && !(&Authority{CA: &CA{Cert: a.Previous}}).Trusts(a.Bundle) {
		return fmt.Errorf("CA directory %s: %s does not hold %s during a rotation (%s)", a.Dir, BundleFile, PreviousCert, a.Trusted())
	}
	return nil
}

// checkPrivateDir refuses a CA directory that is not this user's or that
// group or others may write.
func checkPrivateDir(dir string) error {
	if err := atomicfile.CheckPrivate(dir, 0o022, "they could put a CA of theirs in it; chmod 0700"); err != nil {
		return fmt.Errorf("CA directory: %w", err)
	}
	return nil
}

// checkSecret refuses a key file that is not this user's, or that others
// may read or write.
func checkSecret(path string) error {
	return atomicfile.CheckPrivate(path, 0o077, "it signs certificates; chmod 0600")
}

// Issue signs r with the next serial number of the directory.
func (a *Authority) Issue(r Request) (*x509.Certificate, error) {
	serial, err := a.Reserve(1)
	if err != nil {
		return nil, err
	}
	r.SerialNumber = serial
	return a.CA.Issue(r)
}

// Reserve takes n serial numbers from the directory's counter and returns
// the first; the caller issues first, first+1, ... first+n-1. It fails when
// the directory's CA is no longer a.CA (rotated since it was opened).
func (a *Authority) Reserve(n int) (*big.Int, error) {
	if n < 1 {
		return nil, fmt.Errorf("reserve %d serial numbers: want at least one", n)
	}
	var first *big.Int
	err := a.locked(unix.LOCK_EX, func() error {
		cur, err := os.ReadFile(a.path(AuthorityCert))
		if err != nil {
			return err
		}
		if !bytes.Equal(cur, CertPEM(a.CA.Cert)) {
			return fmt.Errorf("CA directory %s: the CA changed since it was read (a rotation?); run the command again", a.Dir)
		}
		b, err := os.ReadFile(a.path(SerialFile))
		if err != nil {
			return err
		}
		var ok bool
		if first, ok = new(big.Int).SetString(strings.TrimSpace(string(b)), 16); !ok || first.Sign() <= 0 {
			return fmt.Errorf("CA directory %s: %s holds %q, not a positive hexadecimal number", a.Dir, SerialFile, bytes.TrimSpace(b))
		}
		next := new(big.Int).Add(first, big.NewInt(int64(n)))
		return atomicfile.Write(a.path(SerialFile), []byte(fmt.Sprintf("%02x\n", next)), 0o600)
	})
	return first, err
}

// ErrRotating is Rotate's refusal while a rotation is under way.
var ErrRotating = errors.New("a rotation is under way")

// Rotate makes a new CA with the current one's name and name constraints,
// keeps the current one as previous.crt and previous.key, and writes the
// bundle of both. validFor zero means DefaultCAValidity.
func (a *Authority) Rotate(validFor time.Duration) error {
	if validFor == 0 {
		validFor = DefaultCAValidity
	}
	return a.locked(unix.LOCK_EX, func() error {
		if err := a.read(); err != nil {
			return err
		}
		if a.Previous != nil {
			return fmt.Errorf("CA directory %s: %w (%s is there); end it with `wardentool ca drop-old` first", a.Dir, ErrRotating, PreviousCert)
		}
		old := a.CA
		gen, _ := strconv.Atoi(old.Cert.Subject.SerialNumber)
		ca, err := CreateCA(CAOptions{
			CommonName:          old.Cert.Subject.CommonName,
			Generation:          max(gen, 1) + 1,
			ValidFor:            validFor,
			PermittedDNSDomains: old.Cert.PermittedDNSDomains,
			PermittedIPRanges:   old.Cert.PermittedIPRanges,
		})
		if err != nil {
			return err
		}
		oldKey, err := KeyPEM(old.Key)
		if err != nil {
			return err
		}
		newKey, err := KeyPEM(ca.Key)
		if err != nil {
			return err
		}
		bundle := BundlePEM(old.Cert, ca.Cert)
		// previous.* first: until ca.* are replaced, the directory is the
		// old CA with a copy of itself; a crash between ca.key and ca.crt
		// is caught by OpenAuthority's key check.
		if err := a.writeFiles(
			file{PreviousKey, oldKey, 0o600},
			file{PreviousCert, CertPEM(old.Cert), 0o644},
			file{AuthorityKey, newKey, 0o600},
			file{AuthorityCert, CertPEM(ca.Cert), 0o644},
			file{BundleFile, bundle, 0o644},
		); err != nil {
			return err
		}
		a.CA, a.Previous, a.Bundle = ca, old.Cert, bundle
		return nil
	})
}

// ErrNotRotating is DropPrevious' refusal when no rotation is under way.
var ErrNotRotating = errors.New("no rotation is under way")

// DropPrevious ends a rotation: the bundle becomes the current CA alone,
// the previous key is deleted and its certificate moves to retired/.
func (a *Authority) DropPrevious() error {
	return a.locked(unix.LOCK_EX, func() error {
		if err := a.read(); err != nil {
			return err
		}
		if a.Previous == nil {
			return fmt.Errorf("CA directory %s: %w (no %s)", a.Dir, ErrNotRotating, PreviousCert)
		}
		bundle := CertPEM(a.CA.Cert)
		if err := atomicfile.Write(a.path(BundleFile), bundle, 0o644); err != nil {
			return err
		}
		if err := os.MkdirAll(a.path(RetiredDir), 0o700); err != nil {
			return err
		}
		retired := filepath.Join(RetiredDir, fmt.Sprintf("%x.crt", a.Previous.SerialNumber))
		if err := atomicfile.Write(a.path(retired), CertPEM(a.Previous), 0o644); err != nil {
			return err
		}
		if err := os.Remove(a.path(PreviousKey)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := os.Remove(a.path(PreviousCert)); err != nil {
			return err
		}
		a.Previous, a.Bundle = nil, bundle
		return nil
	})
}

// Trusts reports whether the PEM certificates in b include the CA that signs.
func (a *Authority) Trusts(b []byte) bool {
	certs, err := ParseCertificates(b)
	if err != nil {
		return false
	}
	for _, c := range certs {
		if c.Equal(a.CA.Cert) {
			return true
		}
	}
	return false
}

// Trusted names the CAs of the bundle, for messages.
func (a *Authority) Trusted() string {
	certs, err := ParseCertificates(a.Bundle)
	if err != nil {
		return "no certificate"
	}
	names := make([]string, len(certs))
	for i, c := range certs {
		names[i] = strconv.Quote(c.Subject.String())
	}
	return strings.Join(names, " and ")
}

type file struct {
	name string
	data []byte
	perm fs.FileMode
}

func (a *Authority) writeFiles(files ...file) error {
	for _, f := range files {
		if err := atomicfile.Write(a.path(f.name), f.data, f.perm); err != nil {
			return err
		}
	}
	return nil
}

func (a *Authority) path(name string) string { return filepath.Join(a.Dir, name) }

// locked runs f holding the directory's lock, shared or exclusive (how:
// unix.LOCK_SH or unix.LOCK_EX).
func (a *Authority) locked(how int, f func() error) error {
	l, err := os.OpenFile(a.path(lockFile), os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("CA directory %s: %w", a.Dir, err)
	}
	defer l.Close() // closing releases the lock
	if err := unix.Flock(int(l.Fd()), how); err != nil {
		return fmt.Errorf("lock CA directory %s: %w", a.Dir, err)
	}
	return f()
}
