//go:build e2e

package e2e

import (
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
