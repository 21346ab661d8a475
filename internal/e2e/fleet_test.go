//go:build e2e

package e2e

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warden-exporter/warden/internal/fleet"
	"github.com/warden-exporter/warden/internal/pki"
	"github.com/warden-exporter/warden/internal/testenv"
)

// fleetSize is the number of exporters, on 127.0.0.2 ... 127.0.0.21: Linux
// routes all of 127.0.0.0/8 to loopback.
const fleetSize = 20

// fleetEnv is a fleet made by `wardentool ca init` and `fleet init`: its
// exporters, each in its own node directory, and a Prometheus scraping
// them with the generated job and targets.json.
type fleetEnv struct {
	caDir, out string
	nodes      []fleetNode
	promAddr   string
}

type fleetNode struct {
	name, addr string
	proc       *testenv.Process
}

func (f *fleetEnv) nodeDir(n fleetNode) string { return filepath.Join(f.out, fleet.NodesDir, n.name) }
func (f *fleetEnv) promDir() string            { return filepath.Join(f.out, fleet.PrometheusDir) }

// wardentool runs wardentool and fails the test unless it exits 0.
func wardentool(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := testenv.Run(t, "", bins.Path("wardentool"), args...)
	if code != 0 {
		t.Fatalf("wardentool %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout
}

// freePortOn returns a port that is free on every one of ips.
func freePortOn(t *testing.T, ips []string) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", net.JoinHostPort(ips[0], "0"))
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		free := true
		var held []net.Listener
		for _, ip := range ips[1:] {
			m, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
			if err != nil {
				free = false
				break
			}
			held = append(held, m)
		}
		l.Close()
		for _, m := range held {
			m.Close()
		}
		if free {
			return port
		}
	}
	t.Fatal("no port free on all fleet addresses")
	return 0
}

// startFleet makes a CA and a fleet of fleetSize nodes from an inventory,
// starts an exporter per node directory and a Prometheus that scrapes
// every second with the generated job, used as it is: the job names its
// files by absolute paths, where fleet init wrote them, so nothing is
// rewritten; only a global section with the 1s interval is put before it.
func startFleet(t *testing.T, fleetArgs ...string) *fleetEnv {
	t.Helper()
	prometheus := testenv.Need(t, "prometheus")
	dir := t.TempDir()
	f := &fleetEnv{caDir: filepath.Join(dir, "ca"), out: filepath.Join(dir, "fleet")}
	wardentool(t, "ca", "init", "--dir", f.caDir, "--name", "Fleet CA", "--permit-dns", "fleet.test", "--permit-ip", "127.0.0.0/8")

	var ips, inventory []string
	for i := range fleetSize {
		ip := fmt.Sprintf("127.0.0.%d", i+2)
		ips = append(ips, ip)
		inventory = append(inventory, fmt.Sprintf("node%02d.fleet.test %s", i+2, ip))
	}
	inv := filepath.Join(dir, "hosts.txt")
	if err := os.WriteFile(inv, []byte(strings.Join(inventory, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePortOn(t, ips)
	wardentool(t, append([]string{"fleet", "init", "--ca", f.caDir, "--inventory", inv, "--out", f.out, "--port", strconv.Itoa(port)}, fleetArgs...)...)

	for i, ip := range ips {
		n := fleetNode{name: fmt.Sprintf("node%02d.fleet.test", i+2), addr: net.JoinHostPort(ip, strconv.Itoa(port))}
		// The security layer is what is under test: a few cheap collectors
		// keep twenty exporters scraped every second light on a small machine.
		n.proc = testenv.Start(t, bins.Path("warden_node_exporter"),
			"--web.config.file="+filepath.Join(f.nodeDir(n), fleet.WebConfig), "--web.listen-address="+n.addr,
			"--collector.disable-defaults", "--collector.loadavg", "--collector.time")
		f.nodes = append(f.nodes, n)
	}
	for _, n := range f.nodes {
		testenv.WaitListening(t, n.addr, n.proc)
	}

	job, err := os.ReadFile(filepath.Join(f.promDir(), fleet.PrometheusJob))
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, append([]byte("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"), job...), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := testenv.Run(t, "", testenv.Need(t, "promtool"), "check", "config", cfg); code != 0 {
		t.Fatalf("promtool check config on the generated job: exit %d\n%s%s", code, stdout, stderr)
	}
	f.promAddr = testenv.FreeAddr(t)
	p := testenv.Start(t, prometheus, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+f.promAddr)
	testenv.WaitListening(t, f.promAddr, p)
	return f
}

// upEverywhere waits until Prometheus has every node of the fleet up,
// each with its node label from targets.json.
func (f *fleetEnv) upEverywhere(t *testing.T) {
	t.Helper()
	testenv.Eventually(t, 90*time.Second, "up == 1 for every node of the fleet", func() error {
		s, err := testenv.PromQuery(t.Context(), f.promAddr, `up{job="`+fleet.DefaultJob+`"}`)
		if err != nil {
			return err
		}
		up := map[string]bool{}
		for _, x := range s {
			if x.Value == 1 {
				up[x.Metric["instance"]+" "+x.Metric["node"]] = true
			}
		}
		for _, n := range f.nodes {
			if !up[n.addr+" "+n.name] {
				return fmt.Errorf("%s (%s) is not up: %d of %d up", n.name, n.addr, len(up), len(f.nodes))
			}
		}
		return nil
	})
}

// TestFleet is the fleet's promise: twenty exporters, each with its own
// certificate from one `fleet init`, all up in a real Prometheus that uses
// the generated scrape job and targets.json.
//
// Then, with Prometheus scraping every second, every certificate is renewed
// (fleet init gave them 20 days; renew --before 30d) and the CA is rolled
// over in the order README gives (ca rotate; cert trust everywhere; cert
// renew everywhere; ca drop-old; cert trust everywhere), with no restart:
// Prometheus must record no up == 0 for any node over the whole time, and
// every exporter's expiry metric must show the certificates in force.
func TestFleet(t *testing.T) {
	f := startFleet(t, "--valid-for", "20d")
	f.upEverywhere(t)
	start := time.Now()
	dirs := []string{f.promDir()}
	for _, n := range f.nodes {
		dirs = append(dirs, f.nodeDir(n))
	}
	forEveryDir := func(args ...string) string {
		for _, d := range dirs {
			args = append(args, "--dir", d)
		}
		return wardentool(t, args...)
	}

	// Renewal: every certificate expires within 30 days.
	out := forEveryDir("cert", "renew", "--ca", f.caDir, "--before", "30d")
	if got := strings.Count(out, ": renewed (expires in 19d, within 30d)"); got != len(dirs) {
		t.Fatalf("renewed %d of %d certificates:\n%s", got, len(dirs), out)
	}
	f.serverCertsInForce(t)
	if out := forEveryDir("cert", "renew", "--ca", f.caDir, "--before", "30d"); strings.Contains(out, "renewed") {
		t.Fatalf("a second renewal renewed again:\n%s", out)
	}

	// Rollover.
	wardentool(t, "ca", "rotate", "--dir", f.caDir)
	forEveryDir("cert", "trust", "--ca", f.caDir)
	f.clientCAsInForce(t, "SERIALNUMBER=1,CN=Fleet CA,O=Warden", "SERIALNUMBER=2,CN=Fleet CA,O=Warden")
	out = forEveryDir("cert", "renew", "--ca", f.caDir, "--before", "30d")
	if got := strings.Count(out, `: renewed (issued by "SERIALNUMBER=1,CN=Fleet CA,O=Warden", not by the CA that signs now`); got != len(dirs) {
		t.Fatalf("re-issued %d of %d certificates from the new CA:\n%s", got, len(dirs), out)
	}
	f.serverCertsInForce(t)
	wardentool(t, "ca", "drop-old", "--dir", f.caDir)
	forEveryDir("cert", "trust", "--ca", f.caDir)
	f.clientCAsInForce(t, "SERIALNUMBER=2,CN=Fleet CA,O=Warden")
	// Scrapes with nothing but the new CA's certificates, on new connections too.
	time.Sleep(3 * time.Second)

	window := time.Since(start).Round(time.Second) + time.Second
	t.Logf("rotation took %s", window)
	lowest, err := testenv.PromQuery(t.Context(), f.promAddr, fmt.Sprintf(`min_over_time(up{job=%q}[%ds])`, fleet.DefaultJob, int(window.Seconds())))
	if err != nil {
		t.Fatal(err)
	}
	scrapes, err := testenv.PromQuery(t.Context(), f.promAddr, fmt.Sprintf(`count_over_time(up{job=%q}[%ds])`, fleet.DefaultJob, int(window.Seconds())))
	if err != nil {
		t.Fatal(err)
	}
	if len(lowest) != len(f.nodes) || len(scrapes) != len(f.nodes) {
		t.Fatalf("%d and %d series over the rotation, want %d", len(lowest), len(scrapes), len(f.nodes))
	}
	for i, s := range lowest {
		if s.Value != 1 {
			t.Errorf("%s: up was 0 during the rotation", s.Metric["node"])
		}
		// Scraped all along, not just before and after.
		if n := scrapes[i].Value; n < 0.7*window.Seconds() {
			t.Errorf("%s: %v scrapes in %s", scrapes[i].Metric["node"], n, window)
		}
	}
}

// serverCertsInForce waits until every exporter's expiry metric for its
// server certificate is the NotAfter of the certificate in its directory.
func (f *fleetEnv) serverCertsInForce(t *testing.T) {
	t.Helper()
	want := map[string]float64{}
	for _, n := range f.nodes {
		c, err := pki.ReadCertificate(filepath.Join(f.nodeDir(n), fleet.ServerCert))
		if err != nil {
			t.Fatal(err)
		}
		want[n.name] = float64(c.NotAfter.Unix())
	}
	testenv.Eventually(t, 60*time.Second, "every exporter serving its new certificate", func() error {
		s, err := testenv.PromQuery(t.Context(), f.promAddr, `warden_tls_certificate_expiry_timestamp_seconds{file=~".*/server.crt"}`)
		if err != nil {
			return err
		}
		done := 0
		for _, x := range s {
			if want[x.Metric["node"]] == x.Value {
				done++
			}
		}
		if done != len(f.nodes) {
			return fmt.Errorf("%d of %d exporters serve the certificate in their directory", done, len(f.nodes))
		}
		return nil
	})
}

// clientCAsInForce waits until every exporter verifies client
// certificates against exactly the CAs named, by its expiry metric.
func (f *fleetEnv) clientCAsInForce(t *testing.T, subjects ...string) {
	t.Helper()
	testenv.Eventually(t, 60*time.Second, "every exporter trusting "+strings.Join(subjects, " and "), func() error {
		s, err := testenv.PromQuery(t.Context(), f.promAddr, `warden_tls_certificate_expiry_timestamp_seconds{file=~".*/ca.crt"}`)
		if err != nil {
			return err
		}
		got := map[string][]string{}
		for _, x := range s {
			got[x.Metric["node"]] = append(got[x.Metric["node"]], x.Metric["subject"])
		}
		for _, n := range f.nodes {
			have := got[n.name]
			slices.Sort(have)
			if !slices.Equal(have, subjects) {
				return fmt.Errorf("%s trusts %v", n.name, have)
			}
		}
		return nil
	})
}

// TestFleetCertSign: a key made on the node, a request signed on the CA's
// machine; names outside --allow-host or the CA's constraints refused.
func TestFleetCertSign(t *testing.T) {
	dir := t.TempDir()
	caDir := filepath.Join(dir, "ca")
	wardentool(t, "ca", "init", "--dir", caDir, "--permit-dns", "fleet.test", "--permit-ip", "127.0.0.0/8")
	request := func(node string, hosts ...string) string {
		args := []string{"cert", "request", "--out", filepath.Join(dir, node)}
		for _, h := range hosts {
			args = append(args, "--host", h)
		}
		wardentool(t, args...)
		return filepath.Join(dir, node, fleet.ServerCSR)
	}
	allow := []string{"--allow-host", "*.dc1.fleet.test", "--allow-host", "127.0.0.0/24"}

	csr := request("good", "web1.dc1.fleet.test", "127.0.0.30")
	out := filepath.Join(dir, "good", fleet.ServerCert)
	wardentool(t, append(append([]string{"cert", "sign", "--ca", caDir, "--out", out}, allow...), csr)...)
	if c, err := pki.ReadCertificate(out); err != nil || c.DNSNames[0] != "web1.dc1.fleet.test" {
		t.Fatalf("signed certificate: %v", err)
	}

	for _, tt := range []struct {
		name, host, want string
	}{
		{"outside --allow-host", "web1.dc2.fleet.test", "not allowed by --allow-host *.dc1.fleet.test, 127.0.0.0/24: web1.dc2.fleet.test"},
		{"outside the CA's constraints", "web1.dc1.example.org", "the CA's name constraints do not permit web1.dc1.example.org"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			csr := request(tt.host, tt.host)
			code, stdout, stderr := testenv.Run(t, "", bins.Path("wardentool"), append(append([]string{"cert", "sign", "--ca", caDir}, allow...), csr)...)
			if code != 1 || stdout != "" || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 1, no certificate, and %q", code, stdout, stderr, tt.want)
			}
		})
	}
	// Without --allow-host, the CA's constraints still hold.
	code, _, stderr := testenv.Run(t, "", bins.Path("wardentool"), "cert", "sign", "--ca", caDir, request("org", "web2.example.org"))
	if code != 1 || !strings.Contains(stderr, "do not permit web2.example.org") {
		t.Errorf("no --allow-host, outside the constraints: exit %d, %s", code, stderr)
	}
}

// TestFleetProbe runs `wardentool probe` against real exporters: two good
// nodes of a fleet, and five ways a scrape fails (an expired certificate,
// a certificate without the address scraped, a certificate from another
// CA, a scrape without a client certificate, a wrong password). Each must
// be named, with exit 1; the good ones alone give exit 0.
func TestFleetProbe(t *testing.T) {
	dir := t.TempDir()
	caDir, out := filepath.Join(dir, "ca"), filepath.Join(dir, "fleet")
	wardentool(t, "ca", "init", "--dir", caDir, "--name", "Fleet CA")
	ips := []string{"127.0.0.40", "127.0.0.41", "127.0.0.42", "127.0.0.43", "127.0.0.44", "127.0.0.45"}
	port := strconv.Itoa(freePortOn(t, ips))
	at := func(ip string) string { return net.JoinHostPort(ip, port) }
	inv := filepath.Join(dir, "hosts.txt")
	if err := os.WriteFile(inv, []byte("good1.fleet.test 127.0.0.40\ngood2.fleet.test 127.0.0.41\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wardentool(t, "fleet", "init", "--ca", caDir, "--inventory", inv, "--out", out, "--port", port)
	prom := filepath.Join(out, fleet.PrometheusDir)
	good := filepath.Join(out, fleet.NodesDir, "good1.fleet.test")

	// A node directory with a key made on the node, its certificate
	// signed by the CA of caDir, and good1's web config and client CA.
	node := func(name, caDir string, hosts ...string) string {
		d := filepath.Join(dir, name)
		args := []string{"cert", "request", "--out", d}
		for _, h := range hosts {
			args = append(args, "--host", h)
		}
		wardentool(t, args...)
		wardentool(t, "cert", "sign", "--ca", caDir, "--out", filepath.Join(d, fleet.ServerCert), filepath.Join(d, fleet.ServerCSR))
		for _, f := range []string{fleet.WebConfig, fleet.CACert} {
			if err := os.WriteFile(filepath.Join(d, f), mustReadFile(t, filepath.Join(good, f)), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	expired := node("expired", caDir, "expired.fleet.test", "127.0.0.42")
	// wardentool issues nothing already expired: the test does, from the same CA.
	a, err := pki.OpenAuthority(caDir)
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.ReadKey(filepath.Join(expired, fleet.ServerKey))
	if err != nil {
		t.Fatal(err)
	}
	old, err := a.Issue(pki.Request{CommonName: "expired.fleet.test", Hosts: []string{"expired.fleet.test", "127.0.0.42"},
		Usage: x509.ExtKeyUsageServerAuth, PublicKey: key.Public(), ValidFor: -time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(expired, fleet.ServerCert), pki.CertPEM(old), 0o644); err != nil {
		t.Fatal(err)
	}
	san := node("san", caDir, "san.fleet.test", "127.0.0.43") // served on .44
	otherCA := filepath.Join(dir, "other-ca")
	wardentool(t, "ca", "init", "--dir", otherCA, "--name", "Other CA")
	foreign := node("foreign", otherCA, "foreign.fleet.test", "127.0.0.45")

	for _, s := range []struct{ dir, ip string }{
		{good, "127.0.0.40"}, {filepath.Join(out, fleet.NodesDir, "good2.fleet.test"), "127.0.0.41"},
		{expired, "127.0.0.42"}, {san, "127.0.0.44"}, {foreign, "127.0.0.45"},
	} {
		p := testenv.Start(t, bins.Path("warden_node_exporter"), "--web.config.file="+filepath.Join(s.dir, fleet.WebConfig),
			"--web.listen-address="+at(s.ip), "--collector.disable-defaults", "--collector.loadavg")
		testenv.WaitListening(t, at(s.ip), p)
	}

	wrong := filepath.Join(dir, "wrong-password")
	if err := os.WriteFile(wrong, []byte("not-the-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The generated job as it is (file_sd: the two good nodes), and jobs
	// for the broken cases in the same form.
	job := string(mustReadFile(t, filepath.Join(prom, fleet.PrometheusJob)))
	tlsFull := fmt.Sprintf("    tls_config: {ca_file: %q, cert_file: %q, key_file: %q}\n", filepath.Join(prom, "ca.crt"), filepath.Join(prom, "client.crt"), filepath.Join(prom, "client.key"))
	auth := func(file string) string {
		return fmt.Sprintf("    basic_auth: {username: prometheus, password_file: %q}\n", file)
	}
	password := filepath.Join(prom, fleet.PasswordFile)
	cfg := job + "  - job_name: broken_certificates\n    scheme: https\n" + tlsFull + auth(password) + fmt.Sprintf(`    static_configs:
      - targets: [%q]
        labels: {case: expired}
      - targets: [%q]
        labels: {case: san}
      - targets: [%q]
        labels: {case: other_ca}
`, at("127.0.0.42"), at("127.0.0.44"), at("127.0.0.45")) +
		"  - job_name: no_client_certificate\n    scheme: https\n" + fmt.Sprintf("    tls_config: {ca_file: %q}\n", filepath.Join(prom, "ca.crt")) + auth(password) +
		fmt.Sprintf("    static_configs:\n      - targets: [%q]\n        labels: {case: no_client_cert}\n", at("127.0.0.40")) +
		"  - job_name: wrong_password\n    scheme: https\n" + tlsFull + auth(wrong) +
		fmt.Sprintf("    static_configs:\n      - targets: [%q]\n        labels: {case: wrong_password}\n", at("127.0.0.41"))
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := testenv.Run(t, "", testenv.Need(t, "promtool"), "check", "config", "--syntax-only", cfgPath); code != 0 {
		t.Fatalf("promtool check config: %s%s\n%s", stdout, stderr, cfg)
	}

	code, stdout, stderr := testenv.Run(t, "", bins.Path("wardentool"), "probe", "--scrape-config", cfgPath, "--output", "json")
	if code != 1 {
		t.Fatalf("probe over the broken targets: exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	var results []struct {
		Target  string            `json:"target"`
		Job     string            `json:"job"`
		Labels  map[string]string `json:"labels"`
		OK      bool              `json:"ok"`
		Cause   string            `json:"cause"`
		Message string            `json:"message"`
	}
	if err := json.Unmarshal([]byte(stdout), &results); err != nil {
		t.Fatalf("probe --output json: %v\n%s", err, stdout)
	}
	want := map[string]struct{ cause, says string }{
		"expired":        {"server_cert_expired", "expired at"},
		"san":            {"server_cert_san_mismatch", "valid for san.fleet.test, 127.0.0.43, not for 127.0.0.44 (the address scraped)"},
		"other_ca":       {"server_cert_unknown_authority", `signed by "SERIALNUMBER=1,CN=Other CA,O=Warden", an unknown authority`},
		"no_client_cert": {"client_cert_refused", "the exporter requires one and tls_config has none"},
		"wrong_password": {"unauthorized", `401 Unauthorized: the exporter refused the password of basic_auth user "prometheus"`},
	}
	seen := map[string]bool{}
	for _, r := range results {
		c, broken := r.Labels["case"]
		if !broken {
			if !r.OK || r.Job != fleet.DefaultJob || r.Labels[fleet.NodeLabel] == "" {
				t.Errorf("good target %s: %+v", r.Target, r)
			}
			seen[r.Labels[fleet.NodeLabel]] = true
			continue
		}
		seen[c] = true
		if w := want[c]; r.OK || r.Cause != w.cause || !strings.Contains(r.Message, w.says) {
			t.Errorf("%s (%s): cause %s, %q; want %s, saying %q", c, r.Target, r.Cause, r.Message, w.cause, w.says)
		}
		if strings.Contains(r.Message, strings.TrimSpace(string(mustReadFile(t, password)))) {
			t.Errorf("%s: the password is in the message", c)
		}
	}
	if len(seen) != 7 {
		t.Errorf("probed %v, want the 2 good nodes and the 5 broken cases", seen)
	}

	// In text, one line a target.
	code, stdout, _ = testenv.Run(t, "", bins.Path("wardentool"), "probe", "--scrape-config", cfgPath)
	if code != 1 || strings.Count(stdout, "\nFAIL ")+strings.Count(stdout[:5], "FAIL ") != 5 || strings.Count(stdout, "\n") != 7 {
		t.Errorf("probe, text: exit %d\n%s", code, stdout)
	}
	t.Logf("probe output:\n%s", stdout)

	// The good ones alone: from the generated job, and from arguments.
	if code, stdout, stderr := testenv.Run(t, "", bins.Path("wardentool"), "probe", "--scrape-config", cfgPath, "--job", fleet.DefaultJob); code != 0 || strings.Count(stdout, "OK ") != 2 {
		t.Errorf("probe --job %s: exit %d\n%s%s", fleet.DefaultJob, code, stdout, stderr)
	}
	code, stdout, stderr = testenv.Run(t, "", bins.Path("wardentool"), "probe", "--ca", filepath.Join(prom, "ca.crt"),
		"--cert", filepath.Join(prom, "client.crt"), "--key", filepath.Join(prom, "client.key"), "--password-file", password, at("127.0.0.40"), at("127.0.0.41"))
	if code != 0 || strings.Count(stdout, "metric families in") != 2 {
		t.Errorf("probe of the good targets from arguments: exit %d\n%s%s", code, stdout, stderr)
	}
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
