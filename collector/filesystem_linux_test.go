package collector

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"golang.org/x/sys/unix"
)

// fixtureStatfs answers statfs for the mounts in ../testdata/proc/1/mountinfo,
// by the path under ../testdata/rootfs the collector asks for.
func fixtureStatfs(path string, buf *unix.Statfs_t) error {
	stats := map[string]unix.Statfs_t{
		"../testdata/rootfs":                   {Bsize: 4096, Blocks: 60_817_408, Bfree: 31_457_280, Bavail: 28_348_416, Files: 15_204_352, Ffree: 14_112_034},
		"../testdata/rootfs/run":               {Bsize: 4096, Blocks: 407_449, Bfree: 405_017, Bavail: 405_017, Files: 2_037_246, Ffree: 2_036_071},
		"../testdata/rootfs/boot/efi":          {Bsize: 4096, Blocks: 261_628, Bfree: 260_218, Bavail: 260_218},
		"../testdata/rootfs/home":              {Bsize: 4096, Blocks: 122_045_184, Bfree: 73_400_320, Bavail: 73_400_320, Files: 244_195_328, Ffree: 243_100_672},
		"../testdata/rootfs/srv/data":          {Bsize: 4096, Blocks: 60_817_408, Bfree: 31_457_280, Bavail: 28_348_416, Files: 15_204_352, Ffree: 14_112_034},
		"../testdata/rootfs/media/backup disk": {Bsize: 4096, Blocks: 488_378_368, Bfree: 102_400_000, Bavail: 77_987_840, Files: 122_101_760, Ffree: 121_000_000},
		"../testdata/rootfs/mnt/archive":       {Bsize: 1024, Blocks: 1_000_000, Bfree: 10, Bavail: 0, Files: 65_536, Ffree: 65_000},
		"../testdata/rootfs/mnt/nfs":           {Bsize: 1_048_576, Blocks: 3_814_697, Bfree: 2_000_000, Bavail: 2_000_000, Files: 250_000_000, Ffree: 249_000_000},
		"../testdata/rootfs/run/user/1000":     {Bsize: 4096, Blocks: 407_448, Bfree: 407_400, Bavail: 407_400, Files: 407_448, Ffree: 407_380},
	}
	if path == "../testdata/rootfs/mnt/remote" {
		return unix.EACCES
	}
	s, ok := stats[path]
	if !ok {
		return unix.ENOENT
	}
	*buf = s
	return nil
}

func fixtureFilesystemCollector(t *testing.T, cfg Config) *filesystemCollector {
	t.Helper()
	c := build(t, "filesystem", cfg).(*filesystemCollector)
	c.statfs = fixtureStatfs
	return c
}

func TestFilesystem(t *testing.T) {
	compareGolden(t, fixtureFilesystemCollector(t, fixtureConfig()), "testdata/filesystem.prom")
}

func TestFilesystemFilters(t *testing.T) {
	tests := []struct {
		name  string
		opts  func(*FilesystemOptions)
		wants []string // mount points reported
	}{
		{
			name:  "mount point include replaces the default exclude",
			opts:  func(o *FilesystemOptions) { o.MountPointsInclude = "^/(proc|home)$" },
			wants: []string{"/home"}, // /proc still goes by its fs type
		},
		{
			name:  "fs type include replaces the default exclude",
			opts:  func(o *FilesystemOptions) { o.FSTypesInclude = "^(squashfs|xfs)$" },
			wants: []string{"/snap/core22/1380", "/home"},
		},
		{
			name: "custom exclude",
			opts: func(o *FilesystemOptions) {
				o.MountPointsExclude = "^/(dev|proc|sys|run|snap|var|mnt|media|srv|boot)($|/)"
				o.FSTypesExclude = "^tmpfs$"
			},
			wants: []string{"/", "/home"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := fixtureConfig()
			tt.opts(&cfg.Filesystem)
			c := fixtureFilesystemCollector(t, cfg)
			got := filesystemMountPoints(t, c)
			if strings.Join(got, " ") != strings.Join(tt.wants, " ") {
				t.Errorf("mount points = %q, want %q", got, tt.wants)
			}
		})
	}
}

// filesystemMountPoints returns the mount points with a readonly metric, in
// the order of mountinfo.
func filesystemMountPoints(t *testing.T, c Collector) []string {
	t.Helper()
	ch := make(chan prometheus.Metric, 1000)
	if err := c.Update(t.Context(), ch); err != nil {
		t.Fatal(err)
	}
	close(ch)
	var mountPoints []string
	for m := range ch {
		if !strings.Contains(m.Desc().String(), `"node_filesystem_readonly"`) {
			continue
		}
		var pb dto.Metric
		if err := m.Write(&pb); err != nil {
			t.Fatal(err)
		}
		for _, l := range pb.GetLabel() {
			if l.GetName() == "mountpoint" {
				mountPoints = append(mountPoints, l.GetValue())
			}
		}
	}
	return mountPoints
}

func TestFilesystemBadFilters(t *testing.T) {
	for name, opts := range map[string]FilesystemOptions{
		"both mount point lists": {MountPointsInclude: "^/$", MountPointsExclude: "^/home$"},
		"both fs type lists":     {FSTypesInclude: "^ext4$", FSTypesExclude: "^xfs$"},
		"bad regexp":             {MountPointsInclude: "("},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.Filesystem = opts
			if _, err := newFilesystemCollector(cfg.withDefaults()); err == nil {
				t.Error("newFilesystemCollector succeeded")
			}
		})
	}
}

// writeMountinfo writes a procfs with only pid's mountinfo ("self" or "1").
func writeMountinfo(t *testing.T, pid, content string) string {
	t.Helper()
	proc := t.TempDir()
	if err := os.MkdirAll(filepath.Join(proc, pid), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(proc, pid, "mountinfo"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return proc
}

func TestFilesystemSelfMountinfoFallback(t *testing.T) {
	cfg := fixtureConfig()
	cfg.ProcPath = writeMountinfo(t, "self", "48 28 253:1 / /home rw,relatime shared:31 - xfs /dev/mapper/vg0-home rw\n")
	got := filesystemMountPoints(t, fixtureFilesystemCollector(t, cfg))
	if strings.Join(got, " ") != "/home" {
		t.Errorf("mount points = %q, want [/home]", got)
	}
}

func TestFilesystemRootfs(t *testing.T) {
	cfg := fixtureConfig()
	cfg.RootfsPath = "/host"
	cfg.ProcPath = writeMountinfo(t, "1", strings.Join([]string{
		"1 0 259:2 / /host rw,relatime - ext4 /dev/nvme0n1p2 rw",
		"2 1 253:1 / /host/home rw,relatime - xfs /dev/mapper/vg0-home rw",
		"3 1 0:22 / /host/proc rw,relatime - proc proc rw",
		"",
	}, "\n"))
	c := fixtureFilesystemCollector(t, cfg)
	var mu sync.Mutex
	var paths []string
	c.statfs = func(path string, buf *unix.Statfs_t) error {
		mu.Lock()
		paths = append(paths, path)
		mu.Unlock()
		*buf = unix.Statfs_t{Bsize: 4096, Blocks: 10}
		return nil
	}
	got := filesystemMountPoints(t, c)
	if strings.Join(got, " ") != "/ /home" {
		t.Errorf("mount points = %q, want [/ /home]", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(paths) != 2 || !strings.Contains(strings.Join(paths, " "), "/host/home") {
		t.Errorf("statfs paths = %q, want /host and /host/home", paths)
	}
}

func TestFilesystemBadMountinfo(t *testing.T) {
	for name, content := range map[string]string{
		"missing separator":   "28 1 259:2 / / rw,relatime shared:1 ext4 /dev/nvme0n1p2 rw\n",
		"malformed major:min": "28 1 259-2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n",
		"non-numeric major":   "28 1 x:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n",
	} {
		t.Run(name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.ProcPath = writeMountinfo(t, "1", content)
			c := fixtureFilesystemCollector(t, cfg)
			if err := c.Update(t.Context(), make(chan prometheus.Metric, 100)); err == nil {
				t.Error("Update succeeded on malformed mountinfo")
			}
		})
	}
}

func TestFilesystemMissingMountinfo(t *testing.T) {
	cfg := fixtureConfig()
	cfg.ProcPath = t.TempDir()
	c := fixtureFilesystemCollector(t, cfg)
	if err := c.Update(t.Context(), make(chan prometheus.Metric, 100)); err == nil {
		t.Fatal("Update succeeded without mountinfo")
	}
}

// TestFilesystemStaleMount hangs the statfs of /mnt/nfs: the first scrape
// gives up after the mount timeout, the next one skips the mount without a
// new statfs, and once the call returns the mount is reported again.
func TestFilesystemStaleMount(t *testing.T) {
	cfg := fixtureConfig()
	cfg.Filesystem.MountPointsInclude = "^/mnt/nfs$"
	cfg.Filesystem.MountTimeout = 20 * time.Millisecond
	c := fixtureFilesystemCollector(t, cfg)
	release := make(chan struct{})
	var calls atomic.Int32
	c.statfs = func(path string, buf *unix.Statfs_t) error {
		calls.Add(1)
		<-release
		return fixtureStatfs(path, buf)
	}
	stale := `# HELP node_filesystem_device_error Whether an error occurred while getting statistics for the given device.
# TYPE node_filesystem_device_error gauge
node_filesystem_device_error{device="fileserver:/export/data",device_error="mountpoint timeout",fstype="nfs4",mountpoint="/mnt/nfs"} 1
# HELP node_filesystem_readonly Filesystem read-only status.
# TYPE node_filesystem_readonly gauge
node_filesystem_readonly{device="fileserver:/export/data",device_error="mountpoint timeout",fstype="nfs4",mountpoint="/mnt/nfs"} 0
`
	for scrape := 1; scrape <= 2; scrape++ {
		if err := testutil.CollectAndCompare(adapter{t, c}, strings.NewReader(stale)); err != nil {
			t.Errorf("scrape %d: %v", scrape, err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("statfs called %d times while the mount was stale, want 1", n)
	}

	close(release)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		c.mu.Lock()
		n := len(c.stale)
		c.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("mount still stale after its statfs returned")
		}
	}
	c.mountTimeout = time.Minute // the next statfs must not time out on a busy test machine
	recovered := `# HELP node_filesystem_device_error Whether an error occurred while getting statistics for the given device.
# TYPE node_filesystem_device_error gauge
node_filesystem_device_error{device="fileserver:/export/data",device_error="",fstype="nfs4",mountpoint="/mnt/nfs"} 0
# HELP node_filesystem_size_bytes Filesystem size in bytes.
# TYPE node_filesystem_size_bytes gauge
node_filesystem_size_bytes{device="fileserver:/export/data",device_error="",fstype="nfs4",mountpoint="/mnt/nfs"} 3.999999721472e+12
`
	if err := testutil.CollectAndCompare(adapter{t, c}, strings.NewReader(recovered),
		"node_filesystem_device_error", "node_filesystem_size_bytes"); err != nil {
		t.Errorf("after recovery: %v", err)
	}
}

func TestFilesystemStatWorkers(t *testing.T) {
	const workers = 2
	cfg := fixtureConfig()
	cfg.Filesystem.StatWorkers = workers
	c := fixtureFilesystemCollector(t, cfg)
	var inflight, peak atomic.Int32
	c.statfs = func(path string, buf *unix.Statfs_t) error {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(10 * time.Millisecond)
		return fixtureStatfs(path, buf)
	}
	if err := c.Update(t.Context(), make(chan prometheus.Metric, 1000)); err != nil {
		t.Fatal(err)
	}
	if p := peak.Load(); p > workers {
		t.Errorf("%d concurrent statfs calls, want at most %d", p, workers)
	}
}
