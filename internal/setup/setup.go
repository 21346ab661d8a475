// Package setup writes a ready, secure configuration for one node: a
// private CA, server and client certificates, a random basic-auth
// password, a web config that requires TLS, a client certificate and the
// password, and a Prometheus scrape job that presents all three. It is
// what `wardentool init` runs.
package setup

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/warden-exporter/warden/internal/pki"
)

// File names written into the directory.
const (
	CACert         = "ca.crt"
	ServerCert     = "server.crt"
	ServerKey      = "server.key"
	ClientCert     = "client.crt"
	ClientKey      = "client.key"
	PasswordFile   = "password"
	WebConfig      = "web-config.yml"
	PrometheusJob  = "prometheus-scrape.yml"
	Username       = "prometheus"
	ClientName     = "prometheus"
	DefaultPort    = "9100"
	validity       = 2 * 365 * 24 * time.Hour
	caValidity     = 10 * 365 * 24 * time.Hour
	passwordBytes  = 32
	DefaultBcrypt  = bcrypt.DefaultCost
	defaultJobName = "warden_node"
)

// Options says what to write.
type Options struct {
	// Dir receives the files. It must not exist or be empty unless Force.
	Dir string
	// Hosts are the DNS names and IP addresses the server certificate is
	// valid for. Empty: the machine's hostname, localhost and 127.0.0.1.
	Hosts []string
	// Target is the host:port the scrape job scrapes. Empty: the first of
	// Hosts (localhost when Hosts was empty) on port 9100.
	Target string
	// Force allows writing into a non-empty Dir, replacing its files.
	Force bool
	// BcryptCost of the password hash; zero means bcrypt.DefaultCost.
	BcryptCost int
}

// Result tells where things were written.
type Result struct {
	Dir    string
	Hosts  []string
	Target string
}

// Init writes the files into opts.Dir.
func Init(opts Options) (*Result, error) {
	if opts.Dir == "" {
		return nil, errors.New("--dir is required")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	if err := prepareDir(dir, opts.Force); err != nil {
		return nil, err
	}
	hosts := opts.Hosts
	target := opts.Target
	if len(hosts) == 0 {
		hosts = defaultHosts()
		if target == "" {
			target = net.JoinHostPort("localhost", DefaultPort)
		}
	}
	if target == "" {
		target = net.JoinHostPort(hosts[0], DefaultPort)
	}
	cost := opts.BcryptCost
	if cost == 0 {
		cost = DefaultBcrypt
	}

	ca, err := pki.NewCA("Warden CA "+hosts[0], caValidity)
	if err != nil {
		return nil, err
	}
	server, err := ca.Server(hosts[0], hosts, validity)
	if err != nil {
		return nil, err
	}
	client, err := ca.Client(ClientName, []string{ClientName}, validity)
	if err != nil {
		return nil, err
	}
	password, err := randomPassword()
	if err != nil {
		return nil, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}

	at := func(name string) string { return filepath.Join(dir, name) }
	// The CA's key is not kept: nothing on the node should be able to mint
	// certificates. Run init again (with --force) to rotate.
	if err := ca.WriteFiles(at(CACert), ""); err != nil {
		return nil, err
	}
	if err := server.WriteFiles(at(ServerCert), at(ServerKey)); err != nil {
		return nil, err
	}
	if err := client.WriteFiles(at(ClientCert), at(ClientKey)); err != nil {
		return nil, err
	}
	if err := os.WriteFile(at(PasswordFile), []byte(password+"\n"), 0o600); err != nil {
		return nil, err
	}
	if err := writeTemplate(at(WebConfig), 0o640, webConfigTmpl, map[string]any{
		"CA": CACert, "Cert": ServerCert, "Key": ServerKey, "User": Username, "Hash": string(hash),
	}); err != nil {
		return nil, err
	}
	if err := writeTemplate(at(PrometheusJob), 0o644, scrapeTmpl, map[string]any{
		"Job": defaultJobName, "CA": at(CACert), "Cert": at(ClientCert), "Key": at(ClientKey),
		"User": Username, "PasswordFile": at(PasswordFile), "Target": target,
		"ServerName": hosts[0],
	}); err != nil {
		return nil, err
	}
	return &Result{Dir: dir, Hosts: hosts, Target: target}, nil
}

func prepareDir(dir string, force bool) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return os.MkdirAll(dir, 0o750)
	case err != nil:
		return fmt.Errorf("--dir %s: %w", dir, err)
	case len(entries) > 0 && !force:
		return fmt.Errorf("--dir %s exists and is not empty; refusing to overwrite it without --force", dir)
	}
	return nil
}

func defaultHosts() []string {
	hosts := []string{}
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		hosts = append(hosts, h)
	}
	return append(hosts, "localhost", "127.0.0.1")
}

func randomPassword() (string, error) {
	b := make([]byte, passwordBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func writeTemplate(path string, mode os.FileMode, tmpl *template.Template, data any) error {
	var b strings.Builder
	if err := tmpl.Execute(&b, data); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), mode)
}

// Paths are relative to the web config's directory, where exporter-toolkit
// resolves them, so the directory can be moved as a whole.
var webConfigTmpl = template.Must(template.New("web").Parse(`# warden_node_exporter / node_exporter web config, written by wardentool init.
# Requires TLS, a client certificate signed by ca.crt, and basic auth.
tls_server_config:
  cert_file: {{.Cert}}
  key_file: {{.Key}}
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: {{.CA}}
  min_version: TLS12
basic_auth_users:
  {{.User}}: {{printf "%q" .Hash}}
`))

var scrapeTmpl = template.Must(template.New("scrape").Parse(`# Prometheus scrape job for warden_node_exporter, written by wardentool init.
# Use this file as is (prometheus --config.file=...) or copy the job into
# your scrape_configs. Prometheus must be able to read the files named here.
scrape_configs:
  - job_name: {{.Job}}
    scheme: https
    tls_config:
      ca_file: {{.CA}}
      cert_file: {{.Cert}}
      key_file: {{.Key}}
      server_name: {{.ServerName}}
    basic_auth:
      username: {{.User}}
      password_file: {{.PasswordFile}}
    static_configs:
      - targets: ['{{.Target}}']
`))
