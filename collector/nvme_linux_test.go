package collector

import (
	"errors"
	"testing"
)

// The fixture has a PCIe controller with a 512-byte and a 4096-byte
// formatted namespace, and an NVMe/TCP controller whose namespace is the
// per-path device nvme1c1n1 of native multipath, with an ANA state.
func TestNVMe(t *testing.T) {
	compareGolden(t, build(t, "nvme", fixtureConfig()), "testdata/nvme.prom")
}

func TestNVMeNoDevices(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	metrics, err := drainCollector(build(t, "nvme", cfg))
	if !errors.Is(err, ErrNoData) || len(metrics) != 0 {
		t.Fatalf("got %d metrics, err %v; want ErrNoData", len(metrics), err)
	}
}

const nvmeController = "class/nvme/nvme0/"

var nvmeControllerFiles = map[string]string{
	nvmeController + "firmware_rev":                     "5B2QGXA7\n",
	nvmeController + "model":                            "Samsung SSD 980 PRO 1TB\n",
	nvmeController + "serial":                           "S5GXNF0R912345K\n",
	nvmeController + "state":                            "live\n",
	nvmeController + "cntlid":                           "6\n",
	nvmeController + "nvme0n1/size":                     "1953525168\n",
	nvmeController + "nvme0n1/queue/logical_block_size": "512\n",
}

// Kernels before 6.8 have no nuse file: the used space is left out.
func TestNVMeWithoutNuse(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, nvmeControllerFiles)
	c := build(t, "nvme", cfg)
	metrics, err := drainCollector(c)
	if err != nil {
		t.Fatal(err)
	}
	// info, namespace_info, capacity, size, logical block size.
	if len(metrics) != 5 {
		t.Errorf("got %d metrics, want 5 without namespace_used_bytes", len(metrics))
	}
	for _, m := range metrics {
		if m.Desc() == c.(*nvmeCollector).used.desc {
			t.Errorf("namespace_used_bytes sent without nuse")
		}
	}
}

func TestNVMeMalformedNuse(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, nvmeControllerFiles)
	writeFixtureFiles(t, cfg.SysPath, map[string]string{nvmeController + "nvme0n1/nuse": "lots\n"})
	if _, err := drainCollector(build(t, "nvme", cfg)); err == nil || errors.Is(err, ErrNoData) {
		t.Fatalf("Update on a malformed nuse: err %v, want a failure", err)
	}
}
