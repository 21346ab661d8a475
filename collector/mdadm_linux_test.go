package collector

import (
	"errors"
	"testing"
)

// The fixture has a clean raid1, a raid5 recovering, a raid6 resyncing, a
// raid10 checking with a failed and a spare disk, an inactive array (no
// level, so no raid_disks) and a raid0.
func TestMdadm(t *testing.T) {
	compareGolden(t, build(t, "mdadm", fixtureConfig()), "testdata/mdadm.prom")
}

func TestMdadmNoMdstat(t *testing.T) {
	cfg := fixtureConfig()
	cfg.ProcPath = t.TempDir()
	metrics, err := drainCollector(build(t, "mdadm", cfg))
	if !errors.Is(err, ErrNoData) || len(metrics) != 0 {
		t.Fatalf("got %d metrics, err %v; want ErrNoData", len(metrics), err)
	}
}

// With the md driver loaded and no array, node_exporter sends nothing and succeeds.
func TestMdadmNoArray(t *testing.T) {
	cfg := fixtureConfig()
	cfg.ProcPath = t.TempDir()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.ProcPath, map[string]string{
		"mdstat": "Personalities : [raid1]\nunused devices: <none>\n",
	})
	metrics, err := drainCollector(build(t, "mdadm", cfg))
	if err != nil || len(metrics) != 0 {
		t.Fatalf("got %d metrics, err %v; want none and no error", len(metrics), err)
	}
}

func TestMdadmBroken(t *testing.T) {
	const mdstat = "Personalities : [raid1]\nmd0 : active raid1 sdb1[1] sda1[0]\n      976630464 blocks super 1.2 [2/2] [UU]\n\nunused devices: <none>\n"
	for _, tc := range []struct {
		name       string
		proc, sys  map[string]string
		wantNoData bool
	}{{
		name: "malformed mdstat",
		proc: map[string]string{"mdstat": "Personalities : [raid1]\nmd0 : active raid1 sdb1[1] sda1[0]\n      many blocks super 1.2 [2/2] [UU]\n"},
	}, {
		name: "malformed degraded",
		proc: map[string]string{"mdstat": mdstat},
		sys: map[string]string{
			"block/md0/md/level": "raid1\n", "block/md0/md/array_state": "clean\n", "block/md0/md/metadata_version": "1.2\n",
			"block/md0/md/raid_disks": "2\n", "block/md0/md/uuid": "3f1c9a2e:7b4d5e6f:8a9b0c1d:2e3f4a5b\n",
			"block/md0/md/degraded": "none\n", "block/md0/md/sync_action": "idle\n", "block/md0/md/sync_completed": "none\n",
		},
	}, {
		// An array's sysfs directory half there: node_exporter reports no data.
		name:       "incomplete sysfs",
		proc:       map[string]string{"mdstat": mdstat},
		sys:        map[string]string{"block/md0/md/level": "raid1\n"},
		wantNoData: true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.ProcPath = t.TempDir()
			cfg.SysPath = t.TempDir()
			writeFixtureFiles(t, cfg.ProcPath, tc.proc)
			writeFixtureFiles(t, cfg.SysPath, tc.sys)
			_, err := drainCollector(build(t, "mdadm", cfg))
			if tc.wantNoData != errors.Is(err, ErrNoData) || err == nil {
				t.Fatalf("err %v, want ErrNoData %v", err, tc.wantNoData)
			}
		})
	}
}
