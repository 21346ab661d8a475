package collector

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestIPVS(t *testing.T) {
	compareGolden(t, build(t, "ipvs", fixtureConfig()), "testdata/ipvs.prom")
}

// Backends that share the values of the configured labels are summed.
func TestIPVSBackendLabels(t *testing.T) {
	cfg := fixtureConfig()
	// Order and duplicates do not matter; the labels come in node_exporter's order.
	cfg.IPVS.BackendLabels = []string{"proto", "local_port", "", "local_address", "proto"}
	want := `# HELP node_ipvs_backend_connections_active The current active connections by local and remote address.
# TYPE node_ipvs_backend_connections_active gauge
node_ipvs_backend_connections_active{local_address="",local_port="0",proto="FWM"} 0
node_ipvs_backend_connections_active{local_address="192.168.0.22",local_port="3306",proto="TCP"} 744
node_ipvs_backend_connections_active{local_address="192.168.0.57",local_port="3306",proto="TCP"} 496
node_ipvs_backend_connections_active{local_address="192.168.0.57",local_port="80",proto="TCP"} 12
node_ipvs_backend_connections_active{local_address="2620::1",local_port="53",proto="UDP"} 0
# HELP node_ipvs_backend_connections_inactive The current inactive connections by local and remote address.
# TYPE node_ipvs_backend_connections_inactive gauge
node_ipvs_backend_connections_inactive{local_address="",local_port="0",proto="FWM"} 0
node_ipvs_backend_connections_inactive{local_address="192.168.0.22",local_port="3306",proto="TCP"} 5
node_ipvs_backend_connections_inactive{local_address="192.168.0.57",local_port="3306",proto="TCP"} 4
node_ipvs_backend_connections_inactive{local_address="192.168.0.57",local_port="80",proto="TCP"} 40
node_ipvs_backend_connections_inactive{local_address="2620::1",local_port="53",proto="UDP"} 8
# HELP node_ipvs_backend_weight The current backend weight by local and remote address.
# TYPE node_ipvs_backend_weight gauge
node_ipvs_backend_weight{local_address="",local_port="0",proto="FWM"} 30
node_ipvs_backend_weight{local_address="192.168.0.22",local_port="3306",proto="TCP"} 300
node_ipvs_backend_weight{local_address="192.168.0.57",local_port="3306",proto="TCP"} 200
node_ipvs_backend_weight{local_address="192.168.0.57",local_port="80",proto="TCP"} 50
node_ipvs_backend_weight{local_address="2620::1",local_port="53",proto="UDP"} 2
`
	c := build(t, "ipvs", cfg)
	if err := testutil.CollectAndCompare(adapter{t: t, c: c}, strings.NewReader(want),
		"node_ipvs_backend_connections_active", "node_ipvs_backend_connections_inactive", "node_ipvs_backend_weight"); err != nil {
		t.Error(err)
	}
}

func TestIPVSUnknownBackendLabel(t *testing.T) {
	cfg := fixtureConfig()
	cfg.IPVS.BackendLabels = []string{"local_address", "scheduler", "backend"}
	_, err := newIPVSCollector(cfg.withDefaults())
	if err == nil || !strings.Contains(err.Error(), `"backend, scheduler"`) {
		t.Errorf("build: %v, want an error naming the unknown labels", err)
	}
}

func TestIPVSNoData(t *testing.T) {
	cfg := fixtureConfig()
	cfg.ProcPath = t.TempDir()
	if _, err := drainCollector(build(t, "ipvs", cfg)); !errors.Is(err, ErrNoData) {
		t.Errorf("Update: %v, want ErrNoData", err)
	}
}

func TestIPVSErrors(t *testing.T) {
	stats, err := os.ReadFile("../testdata/proc/net/ip_vs_stats")
	if err != nil {
		t.Fatal(err)
	}
	for name, files := range map[string]map[string]string{
		"no backend file": {"net/ip_vs_stats": string(stats)},
		"short stats":     {"net/ip_vs_stats": "   Total Incoming Outgoing         Incoming         Outgoing\n"},
		"stats not hex":   {"net/ip_vs_stats": strings.Replace(string(stats), "16AA370", "16AA37G", 1)},
		"bad backend": {
			"net/ip_vs_stats": string(stats),
			"net/ip_vs":       "TCP  C0A80016:0CEA wlc\n  -> C0A82016:0CEA      Tunnel  heavy  248        2\n",
		},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.ProcPath = t.TempDir()
			writeFixtureFiles(t, cfg.ProcPath, files)
			if _, err := drainCollector(build(t, "ipvs", cfg)); err == nil || errors.Is(err, ErrNoData) {
				t.Errorf("Update: %v, want an error", err)
			}
		})
	}
}
