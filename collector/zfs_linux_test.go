package collector

import (
	"errors"
	"strings"
	"testing"
)

// The fixture has the module-wide kstats of OpenZFS 2.2 (no
// vdev_cache_stats, no xuio_stats), a pool tank with two datasets, one with
// a space in its name, a degraded pool backup with a pre-2.0 io file, and a
// pool data whose root dataset is also named data.
func TestZFS(t *testing.T) {
	compareGolden(t, build(t, "zfs", fixtureConfig()), "testdata/zfs.prom")
}

func TestZFSNotLoaded(t *testing.T) {
	cfg := fixtureConfig()
	cfg.ProcPath = t.TempDir()
	metrics, err := drainCollector(build(t, "zfs", cfg))
	if !errors.Is(err, ErrNoData) || len(metrics) != 0 {
		t.Fatalf("got %d metrics, err %v; want ErrNoData", len(metrics), err)
	}
}

// Kstat names become metric names as they are, abbreviated units and all
// (OpenZFS 2.2 zfetchstats), as in node_exporter; the golden test cannot
// hold them because promlint objects to "_us".
func TestZFSNamesAsInKernel(t *testing.T) {
	cfg := fixtureConfig()
	cfg.ProcPath = t.TempDir()
	writeFixtureFiles(t, cfg.ProcPath, map[string]string{
		"spl/kstat/zfs/zfetchstats": "8 1 0x01 11 3008 6390184339 1278330494171008\nname                            type data\n" +
			"max_completion_us               4    22981\n",
	})
	metrics, err := drainCollector(build(t, "zfs", cfg))
	if err != nil || len(metrics) != 1 {
		t.Fatalf("got %d metrics, err %v; want 1", len(metrics), err)
	}
	want := `fqName: "node_zfs_zfetch_max_completion_us", help: "kstat.zfs.misc.zfetchstats.max_completion_us"`
	if got := metrics[0].Desc().String(); !strings.Contains(got, want) {
		t.Errorf("got %s, want %s", got, want)
	}
}

// With the module loaded and no pool imported there are only the
// module-wide kstats.
func TestZFSNoPool(t *testing.T) {
	cfg := fixtureConfig()
	cfg.ProcPath = t.TempDir()
	writeFixtureFiles(t, cfg.ProcPath, map[string]string{
		"spl/kstat/zfs/fm": "0 1 0x01 4 1088 6383987012 1278330494157201\nname                            type data\n" +
			"erpt-dropped                    4    18\nerpt-set-failed                 4    0\n",
	})
	metrics, err := drainCollector(build(t, "zfs", cfg))
	if err != nil || len(metrics) != 2 {
		t.Fatalf("got %d metrics, err %v; want 2 and no error", len(metrics), err)
	}
}

func TestZFSMalformed(t *testing.T) {
	const (
		header   = "9 1 0x01 147 39984 6390193429 1278330493871905\nname                            type data\n"
		ioHeader = "12 3 0x00 1 80 2225326830828 1278330494190122\n" +
			"nread nwritten reads writes wtime wlentime wupdate rtime rlentime rupdate wcnt rcnt\n"
	)
	for _, tc := range []struct{ name, file, content string }{
		{"bad uint64", "arcstats", header + "hits                            4    many\n"},
		{"bad int64", "dmu_tx", header + "dmu_tx_delay                    3    -x\n"},
		{"no name type data line", "zil", "zil_commit_count 4 3210001\n"},
		{"bad objset value", "tank/objset-0x36", header + "dataset_name 7 tank\nwrites 4 -1\n"},
		{"objset without name type data line", "tank/objset-0x37", "dataset_name 7 tank\nwrites 4 1\n"},
		{"io with too few values", "backup/io", ioHeader + "1 2 3\n"},
		{"bad io value", "backup/io", ioHeader + "1 2 3 4 5 6 7 8 9 10 11 x\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.ProcPath = t.TempDir()
			writeFixtureFiles(t, cfg.ProcPath, map[string]string{"spl/kstat/zfs/" + tc.file: tc.content})
			if _, err := drainCollector(build(t, "zfs", cfg)); err == nil || errors.Is(err, ErrNoData) {
				t.Fatalf("Update on a malformed %s: err %v, want a failure", tc.file, err)
			}
		})
	}
}
