//go:build bench

package bench

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warden-exporter/warden/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// attackers is the number of connections guessing passwords, as in the
// issue's measurement of node_exporter.
const attackers = 16

// exporter is one exporter under test with its legitimate client.
type exporter struct {
	name   string
	addr   string
	proc   *testenv.Process
	client *http.Client
	pool   *x509.CertPool
	pass   string
}

// startExporter runs bin with `wardentool init`'s web config minus the
// client certificate requirement (so that guesses reach the password
// check), with three collectors, as the issue measured node_exporter.
func startExporter(b *testing.B, name, bin, conf string, collectors []string) *exporter {
	b.Helper()
	addr := testenv.FreeAddr(b)
	args := []string{"--web.config.file=" + filepath.Join(conf, "web-config.yml"), "--web.listen-address=" + addr}
	if collectors != nil {
		args = append(args, "--collector.disable-defaults")
		for _, c := range collectors {
			args = append(args, "--collector."+c)
		}
	}
	p := testenv.Start(b, bin, args...)
	testenv.WaitListening(b, addr, p)
	caPEM, err := os.ReadFile(filepath.Join(conf, "ca.crt"))
	if err != nil {
		b.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	pass, err := os.ReadFile(filepath.Join(conf, "password"))
	if err != nil {
		b.Fatal(err)
	}
	return &exporter{name: name, addr: addr, proc: p, pool: pool, pass: strings.TrimSpace(string(pass)), client: newClient(pool)}
}

func newClient(pool *x509.CertPool) *http.Client {
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}, MaxIdleConnsPerHost: 1},
	}
}

func (e *exporter) scrape(c *http.Client, pass string) (int, error) {
	req, err := http.NewRequest(http.MethodGet, "https://"+e.addr+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	req.SetBasicAuth("prometheus", pass)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// median latency of n legitimate scrapes.
func (e *exporter) latency(b *testing.B, n int) time.Duration {
	b.Helper()
	var ds []time.Duration
	for range n {
		start := time.Now()
		status, err := e.scrape(e.client, e.pass)
		if err != nil || status != http.StatusOK {
			b.Fatalf("%s: legitimate scrape: %d %v", e.name, status, err)
		}
		ds = append(ds, time.Since(start))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

// cpuSeconds reads the process's user+system CPU time from /proc.
func cpuSeconds(b *testing.B, pid int) float64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // USER_HZ
}

type result struct {
	rest, attacked time.Duration
	cpuPerSecond   float64
	guesses        int
	refused429     int
}

// underAttack measures legitimate scrapes at rest and while attackers
// send random passwords as fast as the exporter answers.
func underAttack(b *testing.B, e *exporter) result {
	b.Helper()
	const samples = 40
	e.latency(b, 5) // warm up: TLS session, credential cache
	var r result
	r.rest = e.latency(b, samples)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range attackers {
		wg.Go(func() {
			c := newClient(e.pool)
			buf := make([]byte, 12)
			for {
				select {
				case <-stop:
					return
				default:
				}
				rand.Read(buf)
				status, err := e.scrape(c, hex.EncodeToString(buf))
				mu.Lock()
				r.guesses++
				if err == nil && status == http.StatusTooManyRequests {
					r.refused429++
				}
				mu.Unlock()
			}
		})
	}
	time.Sleep(time.Second)
	cpu0, t0 := cpuSeconds(b, e.proc.PID()), time.Now()
	r.attacked = e.latency(b, samples)
	time.Sleep(2 * time.Second)
	r.cpuPerSecond = (cpuSeconds(b, e.proc.PID()) - cpu0) / time.Since(t0).Seconds()
	close(stop)
	wg.Wait()
	return r
}

// BenchmarkBruteForce compares the latency of a legitimate scrape while 16
// connections guess passwords with its latency at rest, for Warden and
// node_exporter v1.12.1 with the same web config, in the same run.
func BenchmarkBruteForce(b *testing.B) {
	conf := filepath.Join(b.TempDir(), "conf")
	if code, _, stderr := testenv.Run(b, "", testenv.Bin("wardentool"), "init", "--dir", conf, "--host", "localhost"); code != 0 {
		b.Fatal(stderr)
	}
	web, err := os.ReadFile(filepath.Join(conf, "web-config.yml"))
	if err != nil {
		b.Fatal(err)
	}
	web = []byte(strings.Replace(string(web), "client_auth_type: RequireAndVerifyClientCert", "client_auth_type: NoClientCert", 1))
	web = []byte(strings.Replace(string(web), "  client_ca_file: ca.crt\n", "", 1))
	if err := os.WriteFile(filepath.Join(conf, "web-config.yml"), web, 0o640); err != nil {
		b.Fatal(err)
	}
	ref := testenv.NodeExporter(b)

	for _, set := range []struct {
		name       string
		collectors []string
	}{
		{"three-collectors", []string{"loadavg", "meminfo", "stat"}},
		{"default-collectors", nil},
	} {
		b.Run(set.name, func(b *testing.B) {
			for range b.N {
				ours := startExporter(b, "warden", testenv.Bin("warden_node_exporter"), conf, set.collectors)
				w := underAttack(b, ours)
				ours.proc.Stop()
				theirs := startExporter(b, "node_exporter", ref, conf, set.collectors)
				n := underAttack(b, theirs)
				theirs.proc.Stop()

				wr := float64(w.attacked) / float64(w.rest)
				nr := float64(n.attacked) / float64(n.rest)
				b.ReportMetric(wr, "warden-attack/rest")
				b.ReportMetric(nr, "node_exporter-attack/rest")
				b.ReportMetric(w.cpuPerSecond, "warden-cpu-s/s")
				b.ReportMetric(n.cpuPerSecond, "node_exporter-cpu-s/s")
				b.Logf("%s: warden p50 %v at rest, %v under attack (x%.2f), %.2f CPU s/s, %d guesses, %d got 429",
					set.name, w.rest, w.attacked, wr, w.cpuPerSecond, w.guesses, w.refused429)
				b.Logf("%s: node_exporter p50 %v at rest, %v under attack (x%.2f), %.2f CPU s/s, %d guesses",
					set.name, n.rest, n.attacked, nr, n.cpuPerSecond, n.guesses)
			}
		})
	}
}
