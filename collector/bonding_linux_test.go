package collector

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestBonding(t *testing.T) {
	compareGolden(t, build(t, "bonding", fixtureConfig()), "testdata/bonding.prom")
}

// Older kernels link the slaves from the master as slave_<name>.
func TestBondingSlavePrefix(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, map[string]string{
		"class/net/bonding_masters":                           "bond0 bond1\n",
		"class/net/bond0/bonding/slaves":                      "eth0 eth1\n",
		"class/net/bond0/slave_eth0/bonding_slave/mii_status": "up\n",
		"class/net/bond0/slave_eth1/bonding_slave/mii_status": "up\n",
		"class/net/bond1/bonding/slaves":                      "\n",
	})
	want := `# HELP node_bonding_active Number of active slaves per bonding interface.
# TYPE node_bonding_active gauge
node_bonding_active{master="bond0"} 2
node_bonding_active{master="bond1"} 0
# HELP node_bonding_slaves Number of configured slaves per bonding interface.
# TYPE node_bonding_slaves gauge
node_bonding_slaves{master="bond0"} 2
node_bonding_slaves{master="bond1"} 0
`
	if err := testutil.CollectAndCompare(adapter{t: t, c: build(t, "bonding", cfg)}, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestBondingNoData(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"no bonding module": {},
		"master went away":  {"class/net/bonding_masters": "bond0\n"},
		"slave went away": {
			"class/net/bonding_masters":      "bond0\n",
			"class/net/bond0/bonding/slaves": "eth0\n",
		},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.SysPath = t.TempDir()
			writeFixtureFiles(t, cfg.SysPath, files)
			metrics, err := drainCollector(build(t, "bonding", cfg))
			if !errors.Is(err, ErrNoData) {
				t.Errorf("Update: %v, want ErrNoData", err)
			}
			if len(metrics) != 0 {
				t.Errorf("sent %d metrics, want none", len(metrics))
			}
		})
	}
}

func TestBondingReadError(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, map[string]string{"class/net/bonding_masters": "bond0\n"})
	// A directory where the slaves file should be cannot be read.
	if err := os.MkdirAll(filepath.Join(cfg.SysPath, "class/net/bond0/bonding/slaves"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := drainCollector(build(t, "bonding", cfg)); err == nil || errors.Is(err, ErrNoData) {
		t.Errorf("Update: %v, want an error", err)
	}
}
