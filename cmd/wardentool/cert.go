package main

import (
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/model"

	"github.com/warden-exporter/warden/internal/atomicfile"
	"github.com/warden-exporter/warden/internal/fleet"
	"github.com/warden-exporter/warden/internal/pki"
)

// certCmd holds the flags of `wardentool cert`.
type certCmd struct {
	caDir    string
	hosts    []string
	dir      string
	csr      string
	out      string
	allow    []string
	usage    string
	validFor model.Duration
	dirs     []string
	before   model.Duration
	newKey   bool
	adopt    bool

	request, sign, renew, trust *kingpin.CmdClause
}

func addCertCommands(app *kingpin.Application) *certCmd {
	c := &certCmd{}
	cmd := app.Command("cert", "Node certificates from a CA directory: keys that never leave the node (request, sign), renewal (renew) and trust (trust).")
	c.request = cmd.Command("request", "On the node: write a key (0600; an existing server.key is kept) and a certificate signing request (server.csr) for the hosts into --out.")
	c.request.Flag("host", "DNS name or IP address the certificate is for (repeatable); the first is also its CN.").Required().StringsVar(&c.hosts)
	c.request.Flag("out", "Node directory to write server.key and server.csr into; made 0700.").Required().StringVar(&c.dir)

	c.sign = cmd.Command("sign", "On the CA's machine: sign a certificate signing request and print the certificate (or write it to --out). Refuses a request for any name outside --allow-host or the CA's name constraints, naming them.")
	c.sign.Flag("ca", "Directory of the CA.").Required().StringVar(&c.caDir)
	c.sign.Flag("allow-host", "Pattern the requested names must match (repeatable): an IP address, a CIDR range, or a DNS name where * stands for any characters within one label (*.example.com).").StringsVar(&c.allow)
	c.sign.Flag("usage", "What the certificate is for: server (an exporter) or client (Prometheus).").Default("server").EnumVar(&c.usage, "server", "client")
	c.sign.Flag("valid-for", "How long the certificate is valid (units y, w, d, h).").Default("365d").SetValue(&c.validFor)
	c.sign.Flag("out", "Write the certificate to this file instead of standard output.").StringVar(&c.out)
	c.sign.Arg("csr", "Certificate signing request (PEM), as cert request wrote it. Without one (or with -), it is read from standard input.").StringVar(&c.csr)

	c.renew = cmd.Command("renew", "Re-issue each certificate of the directories (server.crt, client.crt) that expires within --before or comes from a CA that no longer signs, with the same names and usage, keeping its key. Exit 0 when nothing failed, nothing due included, so that it runs from a timer (warden_cert_renew.timer). The exporter and Prometheus pick the new files up without a restart.")
	c.renew.Flag("ca", "Directory of the CA.").Required().StringVar(&c.caDir)
	c.renew.Flag("dir", "Directory holding server.crt and server.key (a node) or client.crt and client.key (Prometheus); repeatable.").Required().StringsVar(&c.dirs)
	c.renew.Flag("before", "Renew what expires within this window (units y, w, d, h).").Default("30d").SetValue(&c.before)
	c.renew.Flag("valid-for", "How long a new certificate is valid (units y, w, d, h).").Default("365d").SetValue(&c.validFor)
	c.renew.Flag("adopt", "Also re-issue certificates that neither the CA nor the one before it issued (a `wardentool init` directory moving to this CA), with their names: check them first. Without it they are refused.").BoolVar(&c.adopt)
	c.renew.Flag("new-key", "Make a new key too (written before the certificate; Prometheus may fail a handshake that reads the two between the writes).").BoolVar(&c.newKey)

	c.trust = cmd.Command("trust", "Make each directory's ca.crt the CA's bundle.crt: during a rollover the old and the new CA, otherwise the CA alone. The exporter re-reads it within its reload interval, Prometheus at its next scrape.")
	c.trust.Flag("ca", "Directory of the CA.").Required().StringVar(&c.caDir)
	c.trust.Flag("dir", "Node or Prometheus directory holding ca.crt; repeatable.").Required().StringsVar(&c.dirs)
	c.trust.Flag("adopt", "Also write the bundle where the directory's own certificate comes from a CA the bundle does not hold (a `wardentool init` directory moving to this CA; `cert renew --adopt` next). Without it such a directory is refused: its peers would refuse its certificate.").BoolVar(&c.adopt)
	return c
}

func (c *certCmd) commands() []string {
	return []string{c.request.FullCommand(), c.sign.FullCommand(), c.renew.FullCommand(), c.trust.FullCommand()}
}

func (c *certCmd) run(cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(stderr, "%s %s: %s\n", name, cmd, line)
		}
		return 1
	}
	switch cmd {
	case c.request.FullCommand():
		kept, err := fleet.Request(c.dir, c.hosts)
		if err != nil {
			return fail(err)
		}
		key := "a new key in " + filepath.Join(c.dir, fleet.ServerKey)
		if kept {
			key = "the key in " + filepath.Join(c.dir, fleet.ServerKey) + " (kept)"
		}
		fmt.Fprintf(stdout, "Wrote %s for %s, for %s.\nOn the CA's machine: wardentool cert sign --ca CA %s > %s\n",
			filepath.Join(c.dir, fleet.ServerCSR), strings.Join(c.hosts, ", "), key, fleet.ServerCSR, fleet.ServerCert)
	case c.sign.FullCommand():
		cert, err := c.signCSR(stdin)
		if err != nil {
			return fail(err)
		}
		if c.out == "" {
			_, err = stdout.Write(pki.CertPEM(cert))
		} else {
			err = atomicfile.Write(c.out, pki.CertPEM(cert), 0o644)
		}
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stderr, "Signed %q for %s, serial %x, valid until %s.\n", cert.Subject.CommonName,
			strings.Join(certHosts(cert), ", "), cert.SerialNumber, cert.NotAfter.UTC().Format(time.DateOnly))
	case c.renew.FullCommand(), c.trust.FullCommand():
		a, err := pki.OpenAuthority(c.caDir)
		if err != nil {
			return fail(err)
		}
		code := 0
		for _, dir := range c.dirs {
			if err := c.eachDir(cmd, a, dir, stdout); err != nil {
				code = fail(err)
			}
		}
		return code
	}
	return 0
}

// eachDir renews or trusts in one directory and says what it did, one
// line a file.
func (c *certCmd) eachDir(cmd string, a *pki.Authority, dir string, stdout io.Writer) error {
	if cmd == c.trust.FullCommand() {
		changed, err := fleet.Trust(dir, a, c.adopt)
		if err != nil {
			return err
		}
		state := "already the CA's bundle"
		if changed {
			state = "now the CA's bundle"
		}
		fmt.Fprintf(stdout, "%s: %s (%s)\n", filepath.Join(dir, fleet.CACert), state, a.Trusted())
		return nil
	}
	renewals, err := fleet.Renew(dir, fleet.RenewOptions{Authority: a, Before: time.Duration(c.before), ValidFor: time.Duration(c.validFor), NewKey: c.newKey, Adopt: c.adopt})
	for _, r := range renewals {
		if r.Renewed {
			fmt.Fprintf(stdout, "%s: renewed (%s); valid until %s\n", r.File, r.Reason, r.NotAfter.UTC().Format(time.DateOnly))
		} else {
			fmt.Fprintf(stdout, "%s: %s\n", r.File, r.Reason)
		}
	}
	return err
}

// maxCSR bounds a certificate request read: one is a few hundred bytes,
// and it comes from a node.
const maxCSR = 64 << 10

// signCSR reads the request (a file, or standard input) and signs it.
func (c *certCmd) signCSR(stdin io.Reader) (*x509.Certificate, error) {
	r := stdin
	if c.csr == "" || c.csr == "-" { // kingpin passes a lone "-" on as ""
		c.csr = "standard input"
	} else {
		f, err := os.Open(c.csr)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxCSR+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxCSR {
		return nil, fmt.Errorf("%s is larger than %d KiB: not a certificate request", c.csr, maxCSR>>10)
	}
	a, err := pki.OpenAuthority(c.caDir)
	if err != nil {
		return nil, err
	}
	usage := x509.ExtKeyUsageServerAuth
	if c.usage == "client" {
		usage = x509.ExtKeyUsageClientAuth
	}
	cert, err := fleet.Sign(a, b, fleet.SignOptions{Allow: pki.HostPatterns(c.allow), Usage: usage, ValidFor: time.Duration(c.validFor)})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.csr, err)
	}
	return cert, nil
}

// certHosts lists a certificate's SANs.
func certHosts(c *x509.Certificate) []string {
	hosts := slices.Clone(c.DNSNames)
	for _, ip := range c.IPAddresses {
		hosts = append(hosts, ip.String())
	}
	return hosts
}
