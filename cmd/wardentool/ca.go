package main

import (
	"fmt"
	"io"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/model"

	"github.com/warden-exporter/warden/internal/pki"
)

// caCmd holds the flags of `wardentool ca`.
type caCmd struct {
	dir       string
	name      string
	permitDNS []string
	permitIP  []string
	validFor  model.Duration

	init, rotate, dropOld *kingpin.CmdClause
}

func addCACommands(app *kingpin.Application) *caCmd {
	c := &caCmd{}
	cmd := app.Command("ca", "A certificate authority kept in a directory, for a fleet of nodes: make it, rotate it.")
	c.init = cmd.Command("init", "Make a CA in --dir (ca.crt, ca.key 0600, the serial counter, bundle.crt for nodes and Prometheus to trust). Refuses a directory that is not empty.")
	c.init.Flag("dir", "Directory of the CA; made 0700. Must not exist or be empty.").Required().StringVar(&c.dir)
	c.init.Flag("name", "Common name of the CA.").Default("Warden CA").StringVar(&c.name)
	c.init.Flag("permit-dns", "Name constraint: the CA signs only for this domain and its subdomains (repeatable; .example.com: subdomains only). With --permit-ip alone, no DNS name at all.").StringsVar(&c.permitDNS)
	c.init.Flag("permit-ip", "Name constraint: the CA signs only for addresses in this CIDR range (repeatable). With --permit-dns alone, no IP address at all.").StringsVar(&c.permitIP)
	c.init.Flag("valid-for", "How long the CA is valid (units y, w, d, h).").Default("10y").SetValue(&c.validFor)

	c.rotate = cmd.Command("rotate", "Start a CA rollover: make a new CA (same name and constraints) that signs from now on, and write bundle.crt with the old and the new for the overlap. Then: nodes and Prometheus trust the bundle (cert trust), every certificate is re-issued (cert renew), the old CA is dropped (ca drop-old, cert trust).")
	c.rotate.Flag("dir", "Directory of the CA.").Required().StringVar(&c.dir)
	c.rotate.Flag("valid-for", "How long the new CA is valid (units y, w, d, h).").Default("10y").SetValue(&c.validFor)

	c.dropOld = cmd.Command("drop-old", "End a CA rollover: bundle.crt holds the new CA alone; the old key is deleted and its certificate kept in retired/. Run once every certificate in use comes from the new CA.")
	c.dropOld.Flag("dir", "Directory of the CA.").Required().StringVar(&c.dir)
	return c
}

func (c *caCmd) run(cmd string, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintf(stderr, "%s %s: %v\n", name, cmd, err)
		return 1
	}
	switch cmd {
	case c.init.FullCommand():
		opts := pki.CAOptions{CommonName: c.name, ValidFor: time.Duration(c.validFor), PermittedDNSDomains: c.permitDNS}
		for _, s := range c.permitIP {
			r, err := pki.ParseIPRange(s)
			if err != nil {
				return fail(fmt.Errorf("--permit-ip: %w", err))
			}
			opts.PermittedIPRanges = append(opts.PermittedIPRanges, r)
		}
		a, err := pki.InitAuthority(c.dir, opts)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "Wrote the CA %q to %s: valid until %s, signs for %s.\n", a.CA.Cert.Subject.String(), a.Dir,
			a.CA.Cert.NotAfter.UTC().Format(time.DateOnly), a.CA.Permitted())
		fmt.Fprintf(stdout, "%s/%s signs: keep it on this machine only. Nodes and Prometheus trust %s/%s.\n", a.Dir, pki.AuthorityKey, a.Dir, pki.BundleFile)
	case c.rotate.FullCommand():
		a, err := pki.OpenAuthority(c.dir)
		if err != nil {
			return fail(err)
		}
		if err := a.Rotate(time.Duration(c.validFor)); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "New CA %q signs from now on; %s/%s holds it and the old %q.\n", a.CA.Cert.Subject.String(), a.Dir, pki.BundleFile, a.Previous.Subject.String())
		fmt.Fprintf(stdout, "Next, in this order:\n"+
			"  1. every node and Prometheus trust the bundle: wardentool cert trust --ca %[1]s --dir DIR ...; wait for the exporters to reload (5s)\n"+
			"  2. re-issue every certificate from the new CA:  wardentool cert renew --ca %[1]s --dir DIR ...\n"+
			"  3. drop the old CA:                              wardentool ca drop-old --dir %[1]s, then cert trust again\n", a.Dir)
	case c.dropOld.FullCommand():
		a, err := pki.OpenAuthority(c.dir)
		if err != nil {
			return fail(err)
		}
		old := a.Previous
		if err := a.DropPrevious(); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "Dropped the old CA %q; %s/%s holds %q alone. Distribute it: wardentool cert trust --ca %s --dir DIR ...\n",
			old.Subject.String(), a.Dir, pki.BundleFile, a.CA.Cert.Subject.String(), a.Dir)
	default:
		return fail(fmt.Errorf("unknown command"))
	}
	return 0
}

// commands lists the full names of the commands c runs.
func (c *caCmd) commands() []string {
	return []string{c.init.FullCommand(), c.rotate.FullCommand(), c.dropOld.FullCommand()}
}
