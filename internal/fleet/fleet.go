// Package fleet puts many nodes under one CA (internal/pki's Authority):
// it issues every node's certificate from an inventory, writes each node's
// files and, once, what Prometheus needs to scrape them all; it renews the
// certificates of a directory and makes it trust what the CA says to trust.
// It is what `wardentool fleet` and `wardentool cert` run.
//
// Init writes into OUT:
//
//	nodes/NAME/server.crt         the node's certificate; SANs: its name and addresses
//	nodes/NAME/server.key         its key (0600)
//	nodes/NAME/ca.crt             the CA's bundle.crt: client certificates are verified against it
//	nodes/NAME/web-config.yml     TLS, a client certificate from ca.crt, the fleet password (0600)
//	prometheus/client.crt         Prometheus's client certificate (CN prometheus, no SAN)
//	prometheus/client.key         its key (0600)
//	prometheus/ca.crt             the CA's bundle.crt: server certificates are verified against it
//	prometheus/password           the fleet password (0600)
//	prometheus/targets.json       file_sd targets: one per node, with a node label
//	prometheus/prometheus-scrape.yml  the scrape job that reads them
//
// The names are `wardentool init`'s (internal/setup), so that Renew and
// Trust work on a directory either wrote. Directories are 0700.
package fleet

import (
	"cmp"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/warden-exporter/warden/internal/atomicfile"
	"github.com/warden-exporter/warden/internal/pki"
	"github.com/warden-exporter/warden/internal/setup"
)

// File and directory names: a node's are those of `wardentool init`, so
// that cert renew --adopt and cert trust work on its directory.
const (
	CACert        = setup.CACert
	ServerCert    = setup.ServerCert
	ServerKey     = setup.ServerKey
	ServerCSR     = "server.csr"
	ClientCert    = setup.ClientCert
	ClientKey     = setup.ClientKey
	PasswordFile  = setup.PasswordFile
	WebConfig     = setup.WebConfig
	Targets       = "targets.json"
	PrometheusJob = "prometheus-scrape.yml"
	NodesDir      = "nodes"
	PrometheusDir = "prometheus"
)

// Defaults of Options.
const (
	DefaultPort     = 9100
	DefaultJob      = "warden_node"
	DefaultValidity = 365 * 24 * time.Hour
	// Username is the basic-auth user Prometheus scrapes as; ClientName
	// the CN of its client certificate.
	Username   = setup.Username
	ClientName = setup.ClientName
	// NodeLabel is the target label naming the node in targets.json.
	NodeLabel = "node"
)

// Options says what Init writes.
type Options struct {
	// Authority issues the certificates.
	Authority *pki.Authority
	// Nodes, from ParseInventory.
	Nodes []Node
	// Out receives the files; it must not exist or be empty.
	Out string
	// Port the exporters listen on; zero means DefaultPort.
	Port int
	// Job is the scrape job's name; empty means DefaultJob.
	Job string
	// PrometheusPath is the directory the prometheus/ files will be in
	// on the Prometheus server, as the scrape job names them; empty means
	// where Init writes them (absolute).
	PrometheusPath string
	// ValidFor is how long certificates are valid; zero means DefaultValidity.
	ValidFor time.Duration
	// BcryptCost of the password's hash; zero means bcrypt.DefaultCost.
	BcryptCost int
}

// Result tells what Init wrote.
type Result struct {
	Out      string
	Nodes    int
	Job      string
	NotAfter time.Time
}

// Init issues a certificate for every node and Prometheus, and writes the
// files described in the package comment. It checks every node's names
// against the CA's constraints before it writes anything.
func Init(opts Options) (*Result, error) {
	if opts.Authority == nil || len(opts.Nodes) == 0 || opts.Out == "" {
		return nil, errors.New("fleet init needs a CA, nodes and an output directory")
	}
	opts.Port = cmp.Or(opts.Port, DefaultPort)
	opts.Job = cmp.Or(opts.Job, DefaultJob)
	opts.ValidFor = cmp.Or(opts.ValidFor, DefaultValidity)
	opts.BcryptCost = cmp.Or(opts.BcryptCost, bcrypt.DefaultCost)
	out, err := filepath.Abs(opts.Out)
	if err != nil {
		return nil, err
	}
	opts.PrometheusPath = cmp.Or(opts.PrometheusPath, filepath.Join(out, PrometheusDir))

	var problems []error
	for _, n := range opts.Nodes {
		if err := opts.Authority.CA.CheckHosts(n.Hosts); err != nil {
			problems = append(problems, fmt.Errorf("inventory %s: %w", n.Line, err))
		}
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	if err := emptyDir(out); err != nil {
		return nil, err
	}
	password, hash, err := setup.NewPassword(opts.BcryptCost)
	if err != nil {
		return nil, err
	}
	first, err := opts.Authority.Reserve(len(opts.Nodes) + 1)
	if err != nil {
		return nil, err
	}
	serial := func(i int) *big.Int { return new(big.Int).Add(first, big.NewInt(int64(i))) }

	prom := filepath.Join(out, PrometheusDir)
	if err := os.MkdirAll(prom, 0o700); err != nil {
		return nil, err
	}
	client, err := issue(opts.Authority, pki.Request{
		CommonName: ClientName, Usage: x509.ExtKeyUsageClientAuth, ValidFor: opts.ValidFor, SerialNumber: serial(0),
	}, prom, ClientCert, ClientKey)
	if err != nil {
		return nil, err
	}
	if err := writeAll(prom,
		file{CACert, opts.Authority.Bundle, 0o644},
		file{PasswordFile, []byte(password + "\n"), 0o600},
	); err != nil {
		return nil, err
	}

	err = parallel(len(opts.Nodes), func(i int) error {
		n := opts.Nodes[i]
		dir := filepath.Join(out, NodesDir, n.Name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		if _, err := issue(opts.Authority, pki.Request{
			CommonName: n.Name, Hosts: n.Hosts, Usage: x509.ExtKeyUsageServerAuth, ValidFor: opts.ValidFor, SerialNumber: serial(i + 1),
		}, dir, ServerCert, ServerKey); err != nil {
			return fmt.Errorf("node %s (%s): %w", n.Name, n.Line, err)
		}
		web, err := setup.WebConfigYAML(fmt.Sprintf("warden_node_exporter web config of node %s, written by wardentool fleet init.", n.Name), hash)
		if err != nil {
			return err
		}
		return writeAll(dir,
			file{CACert, opts.Authority.Bundle, 0o644},
			file{WebConfig, web, 0o600},
		)
	})
	if err != nil {
		return nil, fmt.Errorf("%w (remove %s and run again)", err, out)
	}

	targets, err := targetsJSON(opts.Nodes, opts.Port)
	if err != nil {
		return nil, err
	}
	at := func(name string) string { return filepath.Join(opts.PrometheusPath, name) }
	job, err := render(scrapeTmpl, map[string]any{
		"Job": opts.Job, "CA": at(CACert), "Cert": at(ClientCert), "Key": at(ClientKey),
		"User": Username, "PasswordFile": at(PasswordFile), "Targets": at(Targets),
	})
	if err != nil {
		return nil, err
	}
	if err := writeAll(prom, file{Targets, targets, 0o644}, file{PrometheusJob, []byte(job), 0o644}); err != nil {
		return nil, err
	}
	return &Result{Out: out, Nodes: len(opts.Nodes), Job: opts.Job, NotAfter: client.NotAfter}, nil
}

// targetGroup is one entry of a file_sd file.
type targetGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

func targetsJSON(nodes []Node, port int) ([]byte, error) {
	groups := make([]targetGroup, len(nodes))
	for i, n := range nodes {
		groups[i] = targetGroup{
			Targets: []string{net.JoinHostPort(n.Host, strconv.Itoa(port))},
			Labels:  map[string]string{NodeLabel: n.Name},
		}
	}
	b, err := json.MarshalIndent(groups, "", "  ")
	return append(b, '\n'), err
}

// issue makes a key, has the CA sign r for it, and writes both into dir.
func issue(a *pki.Authority, r pki.Request, dir, certName, keyName string) (*x509.Certificate, error) {
	key, err := pki.NewKey()
	if err != nil {
		return nil, err
	}
	r.PublicKey = key.Public()
	cert, err := a.CA.Issue(r)
	if err != nil {
		return nil, err
	}
	keyPEM, err := pki.KeyPEM(key)
	if err != nil {
		return nil, err
	}
	return cert, writeAll(dir, file{keyName, keyPEM, 0o600}, file{certName, pki.CertPEM(cert), 0o644})
}

type file struct {
	name string
	data []byte
	perm fs.FileMode
}

func writeAll(dir string, files ...file) error {
	for _, f := range files {
		if err := atomicfile.Write(filepath.Join(dir, f.name), f.data, f.perm); err != nil {
			return err
		}
	}
	return nil
}

// parallel runs f(0) ... f(n-1) on as many goroutines as there are CPUs
// and returns the first error; after one, the indexes not started are
// skipped.
func parallel(n int, f func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		next  int
		first error
	)
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				stop := first != nil || i >= n
				mu.Unlock()
				if stop {
					return
				}
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return first
}

// emptyDir makes dir (0700) or checks that it is empty.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return os.MkdirAll(dir, 0o700)
	case err != nil:
		return err
	case len(entries) > 0:
		return fmt.Errorf("%s exists and is not empty; fleet init writes a new directory", dir)
	}
	// Another user's directory, though empty, is theirs to fill meanwhile
	// (as InitAuthority and init's --dir refuse it).
	if err := atomicfile.CheckOwner(dir); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}

func render(t *template.Template, data any) (string, error) {
	var b strings.Builder
	err := t.Execute(&b, data)
	return b.String(), err
}

var scrapeTmpl = template.Must(template.New("scrape").Parse(`# Prometheus scrape job for a Warden fleet, written by wardentool fleet init.
# Copy the job into scrape_configs. Prometheus reads the files named here:
# targets.json lists the nodes (file_sd, re-read when it changes); ca.crt,
# client.crt and client.key are re-read as they change, so renewals and a
# CA rollover need no reload.
scrape_configs:
  - job_name: {{printf "%q" .Job}}
    scheme: https
    tls_config:
      ca_file: {{printf "%q" .CA}}
      cert_file: {{printf "%q" .Cert}}
      key_file: {{printf "%q" .Key}}
      min_version: TLS12
    basic_auth:
      username: {{printf "%q" .User}}
      password_file: {{printf "%q" .PasswordFile}}
    file_sd_configs:
      - files: [{{printf "%q" .Targets}}]
`))
