package collector

import (
	"errors"
	"testing"
)

// The fixture has two multipath maps, dm-1 and dm-2 (suspended, one path
// offline), an LVM volume dm-3 and a dm-0 that is not device-mapper; only the
// multipath maps are reported.
func TestDMMultipath(t *testing.T) {
	compareGolden(t, build(t, "dmmultipath", fixtureConfig()), "testdata/dmmultipath.prom")
}

func TestDMMultipathNoBlockDevices(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	metrics, err := drainCollector(build(t, "dmmultipath", cfg))
	if !errors.Is(err, ErrNoData) || len(metrics) != 0 {
		t.Fatalf("got %d metrics, err %v; want ErrNoData", len(metrics), err)
	}
}

func TestDMMultipathNoMultipath(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, map[string]string{
		"block/dm-0/dm/uuid": "LVM-8c4Jd2QyV0Z1rX5tW3nB7mK9pL6sA4fG\n",
		"block/dm-0/dm/name": "vg0-root\n",
		"block/sda/size":     "976773168\n",
	})
	metrics, err := drainCollector(build(t, "dmmultipath", cfg))
	if err != nil || len(metrics) != 0 {
		t.Fatalf("got %d metrics, err %v; want none and no error", len(metrics), err)
	}
}

func TestDMMultipathMalformed(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, map[string]string{
		"block/dm-1/dm/uuid":      "mpath-3600508b4000156d700012000000b0000\n",
		"block/dm-1/dm/name":      "mpatha\n",
		"block/dm-1/dm/suspended": "maybe\n",
		"block/dm-1/size":         "209715200\n",
	})
	if _, err := drainCollector(build(t, "dmmultipath", cfg)); err == nil || errors.Is(err, ErrNoData) {
		t.Fatalf("Update on a malformed dm/suspended: err %v, want a failure", err)
	}
}
