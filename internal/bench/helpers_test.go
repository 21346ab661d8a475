//go:build bench

package bench

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warden-exporter/warden/internal/testenv"
)

// initConf writes `wardentool init`'s configuration into a temporary
// directory and returns it. Without mtls, the web config no longer asks
// for a client certificate, so that a client without one reaches the
// password check.
func initConf(b *testing.B, mtls bool) string {
	b.Helper()
	conf := filepath.Join(b.TempDir(), "conf")
	if code, _, stderr := testenv.Run(b, "", bins.Path("wardentool"), "init", "--dir", conf, "--host", "localhost"); code != 0 {
		b.Fatal(stderr)
	}
	if mtls {
		return conf
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
	return conf
}

// exporter is one exporter under test with its legitimate client.
type exporter struct {
	name   string
	addr   string
	proc   *testenv.Process
	client *http.Client
	pool   *x509.CertPool
	// cert is init's client certificate. A client presents it only when
	// the server asks for one, so it changes nothing without mTLS.
	cert tls.Certificate
	pass string
}

// startExporter runs bin with the web config in conf (written by
// initConf) and the given collectors only, or its default collectors
// when collectors is nil, and extra flags.
func startExporter(b *testing.B, name, bin, conf string, collectors []string, extra ...string) *exporter {
	b.Helper()
	addr := testenv.FreeAddr(b)
	args := []string{"--web.config.file=" + filepath.Join(conf, "web-config.yml"), "--web.listen-address=" + addr}
	if collectors != nil {
		args = append(args, "--collector.disable-defaults")
		for _, c := range collectors {
			args = append(args, "--collector."+c)
		}
	}
	args = append(args, extra...)
	p := testenv.Start(b, bin, args...)
	testenv.WaitListening(b, addr, p)
	caPEM, err := os.ReadFile(filepath.Join(conf, "ca.crt"))
	if err != nil {
		b.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	cert, err := tls.LoadX509KeyPair(filepath.Join(conf, "client.crt"), filepath.Join(conf, "client.key"))
	if err != nil {
		b.Fatal(err)
	}
	pass, err := os.ReadFile(filepath.Join(conf, "password"))
	if err != nil {
		b.Fatal(err)
	}
	return &exporter{name: name, addr: addr, proc: p, pool: pool, cert: cert, pass: strings.TrimSpace(string(pass)), client: newClient(pool, cert)}
}

// newClient returns a client that trusts pool, presents certs when the
// server asks for a client certificate, and keeps one connection alive.
func newClient(pool *x509.CertPool, certs ...tls.Certificate) *http.Client {
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost", Certificates: certs}, MaxIdleConnsPerHost: 1},
	}
}

// scrape gets /metrics with basic auth and discards the body.
func (e *exporter) scrape(c *http.Client, pass string) (int, error) {
	return e.get(c, pass, io.Discard)
}

// body returns one legitimate scrape's exposition text.
func (e *exporter) body(b *testing.B) []byte {
	b.Helper()
	var buf bytes.Buffer
	if status, err := e.get(e.client, e.pass, &buf); err != nil || status != http.StatusOK {
		b.Fatalf("%s: scrape: %d %v", e.name, status, err)
	}
	return buf.Bytes()
}

func (e *exporter) get(c *http.Client, pass string, w io.Writer) (int, error) {
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
	_, err = io.Copy(w, resp.Body)
	return resp.StatusCode, err
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

// peakRSS reads the process's resident set high-water mark (VmHWM) from
// /proc, in bytes.
func peakRSS(b *testing.B, pid int) float64 { return procStatus(b, pid, "VmHWM") }

// procStatus reads a size ("1234 kB") from the process's /proc status, in
// bytes.
func procStatus(b testing.TB, pid int, key string) float64 {
	b.Helper()
	v, err := readStatus(pid, key)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

func readStatus(pid int, key string) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			f := strings.Fields(v)
			if len(f) == 2 && f[1] == "kB" {
				if kb, err := strconv.ParseFloat(f[0], 64); err == nil {
					return kb * 1024, nil
				}
			}
			return 0, fmt.Errorf("/proc/%d/status: %s:%s", pid, key, strings.TrimSpace(v))
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, key)
}

// peakAnon samples the process's anonymous resident memory (RssAnon: its
// heap, stacks and runtime, not the pages of its binary, which are page
// cache shared with every process mapping the file) every 10 ms until
// stop is called, which returns the highest value seen, in bytes.
func peakAnon(b *testing.B, pid int) (stop func() float64) {
	done := make(chan struct{})
	result := make(chan float64, 1)
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		peak := 0.0
		for {
			if v, err := readStatus(pid, "RssAnon"); err == nil {
				peak = max(peak, v)
			}
			select {
			case <-done:
				result <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() float64 {
		close(done)
		peak := <-result
		if peak == 0 {
			b.Fatalf("no RssAnon read from /proc/%d/status", pid)
		}
		return peak
	}
}
