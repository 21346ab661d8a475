package collector

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

const selinuxDisabledMetrics = `# HELP node_selinux_enabled SELinux is enabled, 1 is true, 0 is false
# TYPE node_selinux_enabled gauge
node_selinux_enabled 0
`

// buildSELinux builds the selinux collector from cfg and has it take
// the paths in mounts for writable selinuxfs mounts.
func buildSELinux(t *testing.T, cfg Config, mounts ...string) *selinuxCollector {
	t.Helper()
	c := build(t, "selinux", cfg).(*selinuxCollector)
	c.isSELinuxfs = func(path string) bool {
		for _, m := range mounts {
			if filepath.Clean(path) == filepath.Clean(m) {
				return true
			}
		}
		return false
	}
	return c
}

// TestSELinux reads a Fedora host booted permissive and switched to
// enforcing with setenforce 1.
func TestSELinux(t *testing.T) {
	cfg := fixtureConfig()
	c := buildSELinux(t, cfg, filepath.Join(cfg.SysPath, "fs/selinux"))
	compareGolden(t, c, "testdata/selinux.prom")
}

// TestSELinuxNotMounted uses the real statfs check, which the fixture
// directory does not pass: it is no selinuxfs.
func TestSELinuxNotMounted(t *testing.T) {
	c := build(t, "selinux", fixtureConfig())
	if err := testutil.CollectAndCompare(adapter{t: t, c: c}, strings.NewReader(selinuxDisabledMetrics)); err != nil {
		t.Error(err)
	}
}

// TestSELinuxNoPolicy checks a kernel with selinuxfs mounted but no
// policy loaded: processes then run as "kernel", and go-selinux calls
// SELinux disabled.
func TestSELinuxNoPolicy(t *testing.T) {
	cfg := fixtureConfig()
	cfg.ProcPath = t.TempDir()
	writeFixtureFiles(t, cfg.ProcPath, map[string]string{"thread-self/attr/current": "kernel\x00"})
	c := buildSELinux(t, cfg, filepath.Join(cfg.SysPath, "fs/selinux"))
	if err := testutil.CollectAndCompare(adapter{t: t, c: c}, strings.NewReader(selinuxDisabledMetrics)); err != nil {
		t.Error(err)
	}
}

// TestSELinuxElsewhere checks the search of mountinfo for an selinuxfs
// that is not at /sys/fs/selinux, as on old systems that used /selinux.
func TestSELinuxElsewhere(t *testing.T) {
	cfg := fixtureConfig()
	cfg.ProcPath = t.TempDir()
	cfg.SysPath = t.TempDir()
	cfg.RootfsPath = t.TempDir()
	mnt := t.TempDir()
	writeFixtureFiles(t, cfg.ProcPath, map[string]string{
		"filesystems":              "nodev\tsysfs\nnodev\tproc\nnodev\tselinuxfs\n\text4\n",
		"thread-self/attr/current": "system_u:system_r:node_exporter_t:s0\x00",
		"self/mountinfo": "22 1 253:0 / / rw,relatime shared:1 - ext4 /dev/mapper/root rw\n" +
			"23 22 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw\n" +
			"24 22 0:20 / " + mnt + " rw,nosuid,noexec,relatime shared:3 - selinuxfs selinuxfs rw\n",
	})
	writeFixtureFiles(t, mnt, map[string]string{"enforce": "0"})
	writeFixtureFiles(t, cfg.RootfsPath, map[string]string{"etc/selinux/config": "SELINUX=\"enforcing\"\nSELINUXTYPE=targeted\n"})
	c := buildSELinux(t, cfg, mnt)
	// Only selinuxfs mounts are worth a statfs.
	isSELinuxfs := c.isSELinuxfs
	c.isSELinuxfs = func(path string) bool {
		if path == "/" || path == "/sys" {
			t.Errorf("statfs of %s, which mountinfo says is no selinuxfs", path)
		}
		return isSELinuxfs(path)
	}
	want := strings.NewReplacer("config_mode 0", "config_mode 1", "current_mode 1", "current_mode 0")
	golden, err := readGolden("testdata/selinux.prom")
	if err != nil {
		t.Fatal(err)
	}
	if err := testutil.CollectAndCompare(adapter{t: t, c: c}, strings.NewReader(want.Replace(golden))); err != nil {
		t.Error(err)
	}
}

// TestSELinuxUnreadable checks that modes which cannot be read are -1,
// as go-selinux reports them, and do not fail the scrape.
func TestSELinuxUnreadable(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"no files":          nil,
		"bad enforce":       {"sys/fs/selinux/enforce": "on", "rootfs/etc/selinux/config": "SELINUX=disabled\n"},
		"no SELINUX line":   {"sys/fs/selinux/enforce": "", "rootfs/etc/selinux/config": "# SELINUX=enforcing\nSELINUXTYPE=targeted\n"},
		"unknown mode":      {"sys/fs/selinux/enforce": "x", "rootfs/etc/selinux/config": "SELINUX=strict\n"},
		"spaced assignment": {"sys/fs/selinux/enforce": "-", "rootfs/etc/selinux/config": "SELINUX = enforcing\n"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "proc"), 0o755); err != nil {
				t.Fatal(err)
			}
			writeFixtureFiles(t, dir, files)
			cfg := fixtureConfig()
			cfg.ProcPath = filepath.Join(dir, "proc")
			cfg.SysPath = filepath.Join(dir, "sys")
			cfg.RootfsPath = filepath.Join(dir, "rootfs")
			c := buildSELinux(t, cfg, filepath.Join(cfg.SysPath, "fs/selinux"))
			want := strings.NewReplacer("config_mode 0", "config_mode -1", "current_mode 1", "current_mode -1")
			golden, err := readGolden("testdata/selinux.prom")
			if err != nil {
				t.Fatal(err)
			}
			if err := testutil.CollectAndCompare(adapter{t: t, c: c}, strings.NewReader(want.Replace(golden))); err != nil {
				t.Error(err)
			}
		})
	}
}

func readGolden(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}

// TestIsWritableSELinuxfs checks the real statfs test on file systems
// that are not selinuxfs, and on a path that does not exist.
func TestIsWritableSELinuxfs(t *testing.T) {
	for _, path := range []string{"/", "/proc", t.TempDir(), filepath.Join(t.TempDir(), "missing")} {
		if isWritableSELinuxfs(path) {
			t.Errorf("isWritableSELinuxfs(%q) = true", path)
		}
	}
}

// TestSELinuxHost checks that the host can be read without failing the
// scrape, whatever its SELinux state.
func TestSELinuxHost(t *testing.T) {
	metrics, err := drainCollector(build(t, "selinux", DefaultConfig()))
	if err != nil {
		t.Fatal(err)
	}
	if len(metrics) != 1 && len(metrics) != 3 {
		t.Errorf("sent %d metrics, want 1 (disabled) or 3 (enabled)", len(metrics))
	}
}
