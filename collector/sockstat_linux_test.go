package collector

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// sockstatFixture builds the sockstat collector with 4 KiB pages, the page
// size the golden file assumes.
func sockstatFixture(t *testing.T, cfg Config) Collector {
	t.Helper()
	c := build(t, "sockstat", cfg).(*sockstatCollector)
	c.pageSize = 4096
	return c
}

func TestSockstat(t *testing.T) {
	compareGolden(t, sockstatFixture(t, fixtureConfig()), "testdata/sockstat.prom")
}

func TestSockstatPageSize(t *testing.T) {
	c := sockstatFixture(t, fixtureConfig())
	c.(*sockstatCollector).pageSize = 65536 // arm64 and ppc64le kernels
	want := `# HELP node_sockstat_TCP_mem_bytes Number of TCP sockets in state mem_bytes.
# TYPE node_sockstat_TCP_mem_bytes gauge
node_sockstat_TCP_mem_bytes 65536
`
	if err := testutil.CollectAndCompare(adapter{t: t, c: c}, strings.NewReader(want), "node_sockstat_TCP_mem_bytes"); err != nil {
		t.Error(err)
	}
}

// A kernel without IPv6 has no sockstat6; without either file nothing is
// sent and the scrape still succeeds, as with node_exporter.
func TestSockstatMissingFiles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  int
	}{
		{"no IPv6", map[string]string{"net/sockstat": "sockets: used 2\nTCP: inuse 1 orphan 0 tw 0 alloc 1 mem 0\n"}, 7},
		{"no IPv4", map[string]string{"net/sockstat6": "TCP6: inuse 1\nUDP6: inuse 2\n"}, 2},
		{"neither", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.ProcPath = t.TempDir()
			writeFixtureFiles(t, cfg.ProcPath, tc.files)
			metrics, err := drainCollector(sockstatFixture(t, cfg))
			if err != nil {
				t.Errorf("Update: %v", err)
			}
			if len(metrics) != tc.want {
				t.Errorf("sent %d metrics, want %d", len(metrics), tc.want)
			}
		})
	}
}

func TestSockstatMalformed(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"odd key/value pairs": {"net/sockstat": "sockets: used 2\nTCP: inuse 1 orphan\n"},
		"not a number":        {"net/sockstat6": "TCP6: inuse many\n"},
		"short line":          {"net/sockstat": "sockets: used\n"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.ProcPath = t.TempDir()
			writeFixtureFiles(t, cfg.ProcPath, files)
			if _, err := drainCollector(sockstatFixture(t, cfg)); err == nil || errors.Is(err, ErrNoData) {
				t.Errorf("Update: %v, want an error", err)
			}
		})
	}
}
