package collector

import (
	"errors"
	"slices"
	"testing"
	"unsafe"
)

// btrfsBuild builds the btrfs collector with its ioctls replaced by answers
// keyed by mount path; a path not in answers fails as a non-btrfs mount would.
func btrfsBuild(t *testing.T, cfg Config, answers map[string]btrfsIoctlFS) (*btrfsCollector, *[]string) {
	t.Helper()
	c := build(t, "btrfs", cfg).(*btrfsCollector)
	var queried []string
	c.queryMount = func(path string) (btrfsIoctlFS, error) {
		queried = append(queried, path)
		if fs, ok := answers[path]; ok {
			return fs, nil
		}
		return btrfsIoctlFS{}, errors.New("permission denied")
	}
	return c, &queried
}

// TestBtrfs reads sysfs only: the fixture mounts hold no btrfs, so the
// device sizes come from sysfs without a btrfs_dev_uuid label.
func TestBtrfs(t *testing.T) {
	c, queried := btrfsBuild(t, fixtureConfig(), nil)
	compareGolden(t, c, "testdata/btrfs.prom")
	if len(*queried) != 0 {
		t.Errorf("queried %v, want no btrfs mount point", *queried)
	}
}

const btrfsMountinfo = `21 1 0:20 / /proc rw,relatime - proc proc rw
29 1 253:17 / / rw,relatime shared:1 - btrfs /dev/sdb rw,space_cache=v2,subvolid=5,subvol=/
30 29 253:17 /home /home rw,relatime shared:2 - btrfs /dev/sdb rw,space_cache=v2,subvolid=257,subvol=/home
31 29 253:17 /var /var rw,relatime shared:3 - btrfs /dev/sdb rw,space_cache=v2,subvolid=258,subvol=/var
32 29 252:3 / /srv\040data rw,noatime shared:4 - btrfs /dev/vda3 rw,space_cache=v2,subvolid=5,subvol=/
33 29 0:5 / /tmp rw,nosuid,nodev shared:5 - tmpfs tmpfs rw,size=8G
`

var btrfsAnswers = map[string]btrfsIoctlFS{
	"/home": {fsid: "7d3a1f620c5e4b8e93a1e2f6b4c8d905", devices: []btrfsIoctlDevice{
		{path: "/dev/sdb", uuid: "6f0c2a91-58e3-4d7b-b1a4-93e2c7f05d18", bytesUsed: 419430400000, totalBytes: 1000204886016, errors: [5]uint64{0, 3, 0, 1, 0}},
		{path: "/dev/sdc", uuid: "e42b7d06-1c9a-4f85-a3d2-7b60e18c4f93", bytesUsed: 419430400000, totalBytes: 1000204886016},
	}},
	"/var": {fsid: "7d3a1f620c5e4b8e93a1e2f6b4c8d905"},
	"/srv data": {fsid: "2c9e5b7a41d84f3c8e0b6a7d1c5e9f24", devices: []btrfsIoctlDevice{
		{path: "/dev/vda3", uuid: "0b95e3c7-7a21-46d0-9f3e-c4d8a2b16e57", bytesUsed: 9126805504, totalBytes: 21474836480, errors: [5]uint64{12, 0, 2, 0, 0}},
	}},
}

func TestBtrfsIoctl(t *testing.T) {
	for _, tc := range []struct {
		name, mountinfo string
	}{
		{name: "mounts of pid 1", mountinfo: "1/mountinfo"},
		// With hidepid, /proc/1 is not there; the collector's own mounts are read.
		{name: "own mounts", mountinfo: "self/mountinfo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.ProcPath = t.TempDir()
			cfg.RootfsPath = "/"
			writeFixtureFiles(t, cfg.ProcPath, map[string]string{tc.mountinfo: btrfsMountinfo})
			c, queried := btrfsBuild(t, cfg, btrfsAnswers)
			compareGolden(t, c, "testdata/btrfs_ioctl.prom",
				"node_btrfs_device_size_bytes", "node_btrfs_device_unused_bytes", "node_btrfs_device_errors_total")
			*queried = nil
			if _, err := drainCollector(c); err != nil {
				t.Fatal(err)
			}
			// / fails; /home answers for /dev/sdb, so /var is not asked;
			// the escaped space in /srv\040data is undone.
			if want := []string{"/", "/home", "/srv data"}; !slices.Equal(*queried, want) {
				t.Errorf("queried %q, want %q", *queried, want)
			}
		})
	}
}

func TestBtrfsRootfs(t *testing.T) {
	cfg := fixtureConfig()
	cfg.ProcPath = t.TempDir()
	cfg.RootfsPath = "/host"
	writeFixtureFiles(t, cfg.ProcPath, map[string]string{"1/mountinfo": "29 1 253:17 / /host/home rw - btrfs /dev/sdb rw\n" +
		"30 1 252:3 / /srv rw - btrfs /dev/vda3 rw\n"})
	c, queried := btrfsBuild(t, cfg, nil)
	if _, err := drainCollector(c); err != nil {
		t.Fatal(err)
	}
	// Mount points are seen by the host; the collector finds them under --path.rootfs.
	if want := []string{"/host/home", "/host/srv"}; !slices.Equal(*queried, want) {
		t.Errorf("queried %q, want %q", *queried, want)
	}
}

// Without btrfs file systems node_exporter sends nothing and succeeds.
func TestBtrfsNone(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, map[string]string{"fs/btrfs/features/free_space_tree": ""})
	metrics, err := drainCollector(build(t, "btrfs", cfg))
	if err != nil || len(metrics) != 0 {
		t.Fatalf("got %d metrics, err %v; want none and no error", len(metrics), err)
	}
}

func TestBtrfsMalformed(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, map[string]string{
		"fs/btrfs/7d3a1f62-0c5e-4b8e-93a1-e2f6b4c8d905/devices/sdb/size": "1953525168\n",
		"fs/btrfs/7d3a1f62-0c5e-4b8e-93a1-e2f6b4c8d905/commit_stats":     "commits 1843 extra\n",
	})
	if _, err := drainCollector(build(t, "btrfs", cfg)); err == nil {
		t.Fatal("Update succeeded on a malformed commit_stats")
	}
}

// The ioctl argument structs must have the kernel's sizes: the sizes are
// part of the request numbers and the kernel copies that many bytes.
func TestBtrfsIoctlABI(t *testing.T) {
	for _, tc := range []struct {
		name      string
		size, req uintptr
		wantSize  uintptr
		wantReq   uintptr
	}{
		{"BTRFS_IOC_FS_INFO", unsafe.Sizeof(btrfsFSInfoArgs{}), btrfsIocFSInfo, 1024, 0x8400941f},
		{"BTRFS_IOC_DEV_INFO", unsafe.Sizeof(btrfsDevInfoArgs{}), btrfsIocDevInfo, 4096, 0xd000941e},
		{"BTRFS_IOC_GET_DEV_STATS", unsafe.Sizeof(btrfsGetDevStatsArgs{}), btrfsIocGetDevStats, 1032, 0xc4089434},
	} {
		if tc.size != tc.wantSize || tc.req != tc.wantReq {
			t.Errorf("%s: size %d request %#x, want %d %#x", tc.name, tc.size, tc.req, tc.wantSize, tc.wantReq)
		}
	}
	if got := btrfsFormatUUID([16]byte{0x6f, 0x0c, 0x2a, 0x91, 0x58, 0xe3, 0x4d, 0x7b, 0xb1, 0xa4, 0x93, 0xe2, 0xc7, 0xf0, 0x5d, 0x18}); got != "6f0c2a91-58e3-4d7b-b1a4-93e2c7f05d18" {
		t.Errorf("btrfsFormatUUID = %s", got)
	}
}

func TestBtrfsQueryMountNotBtrfs(t *testing.T) {
	if _, err := btrfsQueryMount(t.TempDir()); err == nil {
		t.Skip("the temporary directory is on btrfs")
	}
}
