// Package setup writes a ready, secure configuration for one node: a
// private CA, server and client certificates, a random basic-auth
// password, a web config that requires TLS, a client certificate and the
// password, and a Prometheus scrape job that presents all three. It is
// what `wardentool init` runs.
//
// Files are written safely into a directory that may already hold an
// older set (--force): every file goes to a new temporary file in the
// directory, created exclusively with its final mode set on the open file,
// and is renamed over the old name only once all of them are written.
// So a symlink planted at a name is replaced, never followed; an old
// file's looser mode is never kept; and a failure before the renames
// leaves the old set as it was. A directory that group or others can
// write to is refused: anyone who can write there could swap the files
// after they are written.
package setup

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/warden-exporter/warden/internal/atomicfile"
	"github.com/warden-exporter/warden/internal/pki"
)

// File names written into the directory.
const (
	CACert       = "ca.crt"
	ServerCert   = "server.crt"
	ServerKey    = "server.key"
	ClientCert   = "client.crt"
	ClientKey    = "client.key"
	PasswordFile = "password"
	// Netrc holds the password for curl --netrc-file, one line per name
	// of the server certificate, so that a printed curl command never
	// holds the password itself.
	Netrc         = "netrc"
	WebConfig     = "web-config.yml"
	PrometheusJob = "prometheus-scrape.yml"
	Username      = "prometheus"
	ClientName    = "prometheus"
	DefaultPort   = "9100"
	// LeafValidity is how long the server and client certificates are
	// valid, CAValidity the CA's; README.md states both.
	LeafValidity   = 2 * 365 * 24 * time.Hour
	CAValidity     = 10 * 365 * 24 * time.Hour
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
	// CAExpiry, ServerExpiry and ClientExpiry are the NotAfter times of
	// the certificates written.
	CAExpiry, ServerExpiry, ClientExpiry time.Time
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
	if err := checkTarget(target); err != nil {
		return nil, err
	}
	cost := opts.BcryptCost
	if cost == 0 {
		cost = DefaultBcrypt
	}

	ca, err := pki.NewCA("Warden CA "+hosts[0], CAValidity)
	if err != nil {
		return nil, err
	}
	server, err := ca.Server(hosts[0], hosts, LeafValidity)
	if err != nil {
		return nil, err
	}
	client, err := ca.Client(ClientName, []string{ClientName}, LeafValidity)
	if err != nil {
		return nil, err
	}
	password, hash, err := NewPassword(cost)
	if err != nil {
		return nil, err
	}
	serverKey, err := pki.KeyPEM(server.Key)
	if err != nil {
		return nil, err
	}
	clientKey, err := pki.KeyPEM(client.Key)
	if err != nil {
		return nil, err
	}
	webConfig, err := WebConfigYAML("warden_node_exporter / node_exporter web config, written by wardentool init.", hash)
	if err != nil {
		return nil, err
	}
	at := func(name string) string { return filepath.Join(dir, name) }
	job, err := execute(scrapeTmpl, map[string]any{
		"Job": defaultJobName, "CA": at(CACert), "Cert": at(ClientCert), "Key": at(ClientKey),
		"User": Username, "PasswordFile": at(PasswordFile), "Target": target,
		"ServerName": hosts[0],
	})
	if err != nil {
		return nil, err
	}

	// The CA's key is not kept: nothing on the node should be able to mint
	// certificates. Run init again (with --force) to rotate.
	err = writeFiles(dir, []file{
		{CACert, pki.CertPEM(ca.Cert), 0o644},
		{ServerKey, serverKey, 0o600},
		{ServerCert, pki.CertPEM(server.Cert), 0o644},
		{ClientKey, clientKey, 0o600},
		{ClientCert, pki.CertPEM(client.Cert), 0o644},
		{PasswordFile, []byte(password + "\n"), 0o600},
		{Netrc, netrc(append([]string{targetHost(target)}, hosts...), password), 0o600},
		{WebConfig, webConfig, 0o640},
		{PrometheusJob, job, 0o644},
	})
	if err != nil {
		return nil, err
	}
	return &Result{
		Dir: dir, Hosts: hosts, Target: target,
		CAExpiry: ca.Cert.NotAfter, ServerExpiry: server.Cert.NotAfter, ClientExpiry: client.Cert.NotAfter,
	}, nil
}

func prepareDir(dir string, force bool) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return os.MkdirAll(dir, 0o750)
	case err != nil:
		return fmt.Errorf("--dir %s: %w", dir, err)
	}
	if err := atomicfile.CheckPrivate(dir, 0o022, "they could replace the keys and password after init writes them; use a directory only you can write to (chmod go-w)"); err != nil {
		return fmt.Errorf("--dir: %w", err)
	}
	if len(entries) > 0 && !force {
		return fmt.Errorf("--dir %s exists and is not empty; refusing to overwrite it without --force", dir)
	}
	return nil
}

// checkTarget refuses a --target that is not host:port: it is written
// into the scrape job's YAML and into netrc, where a quote or a line
// break would add targets or machines of the caller's choosing.
func checkTarget(target string) error {
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		return fmt.Errorf("--target %q: %w", target, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("--target %q: the port must be a number from 1 to 65535", target)
	}
	if _, _, err := pki.SplitHosts([]string{host}); err != nil {
		return fmt.Errorf("--target %q: %w", target, err)
	}
	return nil
}

// file is one file Init writes.
type file struct {
	name string
	data []byte
	mode os.FileMode
}

// writeFiles writes files into dir as the package comment describes: all
// to temporary files first, then each renamed into place, then the
// directory synced so that the renames survive a crash.
func writeFiles(dir string, files []file) (err error) {
	temps := make([]string, 0, len(files))
	defer func() {
		if err != nil {
			for _, t := range temps {
				_ = os.Remove(t) // fails only for those already renamed: nothing to undo
			}
		}
	}()
	for _, f := range files {
		tmp, err := atomicfile.WriteTemp(dir, f.name, f.data, f.mode)
		if tmp != "" {
			temps = append(temps, tmp)
		}
		if err != nil {
			return err
		}
	}
	for i, f := range files {
		if err := os.Rename(temps[i], filepath.Join(dir, f.name)); err != nil {
			return fmt.Errorf("write %s: %w", filepath.Join(dir, f.name), err)
		}
	}
	return atomicfile.SyncDir(dir)
}

// netrc is a curl --netrc-file for the password at each host, without
// repeats. curl matches a netrc line by the URL's host name, so every name
// the server certificate holds gets one.
func netrc(hosts []string, password string) []byte {
	var b strings.Builder
	seen := map[string]bool{}
	for _, h := range hosts {
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		fmt.Fprintf(&b, "machine %s login %s password %s\n", h, Username, password)
	}
	return []byte(b.String())
}

// targetHost is the host of a host:port target, or the target itself
// when it has no port.
func targetHost(target string) string {
	if h, _, err := net.SplitHostPort(target); err == nil {
		return h
	}
	return target
}

// ListenAddress is the --web.listen-address that serves target: the
// target itself for an IP address or localhost, and every address on its
// port for any other name (a name can resolve to several addresses, and
// the exporter listens on one address per flag).
func ListenAddress(target string) string {
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		return target
	}
	if _, err := netip.ParseAddr(host); err == nil || host == "localhost" {
		return target
	}
	return net.JoinHostPort("", port)
}

func defaultHosts() []string {
	hosts := []string{}
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		hosts = append(hosts, h)
	}
	return append(hosts, "localhost", "127.0.0.1")
}

// NewPassword returns a random password for Username and its bcrypt hash
// at cost.
func NewPassword(cost int) (password string, hash []byte, err error) {
	b := make([]byte, passwordBytes)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("generate password: %w", err)
	}
	password = base64.RawURLEncoding.EncodeToString(b)
	hash, err = bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", nil, fmt.Errorf("hash password: %w", err)
	}
	return password, hash, nil
}

// WebConfigYAML returns the web config of a node's directory, as init and
// fleet init write it: TLS with server.crt and server.key, a required
// client certificate signed by a CA of ca.crt, and the password of hash
// for Username. comment is its first line.
func WebConfigYAML(comment string, hash []byte) ([]byte, error) {
	return execute(webConfigTmpl, map[string]any{
		"Comment": comment, "CA": CACert, "Cert": ServerCert, "Key": ServerKey, "User": Username, "Hash": string(hash),
	})
}

func execute(tmpl *template.Template, data any) ([]byte, error) {
	var b strings.Builder
	if err := tmpl.Execute(&b, data); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

// Paths are relative to the web config's directory, where exporter-toolkit
// resolves them, so the directory can be moved as a whole.
var webConfigTmpl = template.Must(template.New("web").Parse(`# {{.Comment}}
# Requires TLS, a client certificate signed by a CA of ca.crt, and basic auth.
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
