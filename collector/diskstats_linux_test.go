package collector

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// udevFixture copies ../testdata/udev into a temporary udev database. The
// fixtures are stored as bMAJOR_MINOR because a ':' is not allowed in a
// file name inside a Go module; udev names them bMAJOR:MINOR.
func udevFixture(t *testing.T) string {
	t.Helper()
	entries, err := os.ReadDir("../testdata/udev")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("../testdata/udev", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		name := strings.Replace(e.Name(), "_", ":", 1)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func diskstatsFixtureConfig(t *testing.T) Config {
	cfg := fixtureConfig()
	cfg.UdevDataPath = udevFixture(t)
	return cfg
}

func TestDiskstats(t *testing.T) {
	compareGolden(t, build(t, "diskstats", diskstatsFixtureConfig(t)), "testdata/diskstats.prom")
}

// Without a udev database the disks are still reported, with empty labels.
func TestDiskstatsWithoutUdev(t *testing.T) {
	cfg := fixtureConfig()
	cfg.UdevDataPath = filepath.Join(t.TempDir(), "missing")
	cfg.DiskStats.DeviceInclude = "^(sda|dm-0)$"
	want := `# HELP node_disk_info Info of /sys/block/<block_device>.
# TYPE node_disk_info gauge
node_disk_info{device="dm-0",major="253",minor="0",model="",path="",revision="",rotational="0",serial="",wwn=""} 1
node_disk_info{device="sda",major="8",minor="0",model="",path="",revision="",rotational="1",serial="",wwn=""} 1
`
	c := build(t, "diskstats", cfg)
	if err := testutil.CollectAndCompare(adapter{t, c}, strings.NewReader(want),
		"node_disk_info", "node_disk_filesystem_info", "node_disk_device_mapper_info", "node_disk_ata_write_cache"); err != nil {
		t.Error(err)
	}
}

func TestDiskstatsFilter(t *testing.T) {
	tests := []struct {
		name    string
		options DiskStatsOptions
		want    []string
		wantErr bool
	}{
		{"default exclude", DiskStatsOptions{DeviceExclude: DefaultDiskStatsExclude}, []string{"dm-0", "nvme0n1", "sda", "sr0", "vda"}, false},
		{"include replaces the default exclude", DiskStatsOptions{DeviceInclude: "^(sda1|loop0)$", DeviceExclude: DefaultDiskStatsExclude}, []string{"loop0", "sda1"}, false},
		{"nothing filtered", DiskStatsOptions{}, []string{"dm-0", "loop0", "nvme0n1", "nvme0n1p1", "nvme0n1p2", "sda", "sda1", "sr0", "vda", "zram0"}, false},
		{"include and custom exclude", DiskStatsOptions{DeviceInclude: "^sda$", DeviceExclude: "^sr"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := diskstatsFixtureConfig(t)
			cfg.DiskStats = tt.options
			c, err := newDiskstatsCollector(cfg.withDefaults())
			if tt.wantErr {
				if err == nil {
					t.Error("newDiskstatsCollector succeeded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(diskDevices(t, c), " ")
			if got != strings.Join(tt.want, " ") {
				t.Errorf("devices = %s, want %s", got, strings.Join(tt.want, " "))
			}
		})
	}
}

// diskDevices returns the devices that have a node_disk_info, sorted.
func diskDevices(t *testing.T, c Collector) []string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(adapter{t, c})
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var devices []string
	for _, mf := range families {
		if mf.GetName() != "node_disk_info" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "device" {
					devices = append(devices, l.GetValue())
				}
			}
		}
	}
	return devices
}

// diskStatNames are the families read from /proc/diskstats, in its order.
var diskStatNames = []string{
	"node_disk_reads_completed_total", "node_disk_reads_merged_total", "node_disk_read_bytes_total",
	"node_disk_read_time_seconds_total", "node_disk_writes_completed_total", "node_disk_writes_merged_total",
	"node_disk_written_bytes_total", "node_disk_write_time_seconds_total", "node_disk_io_now",
	"node_disk_io_time_seconds_total", "node_disk_io_time_weighted_seconds_total",
	"node_disk_discards_completed_total", "node_disk_discards_merged_total", "node_disk_discarded_sectors_total",
	"node_disk_discard_time_seconds_total", "node_disk_flush_requests_total", "node_disk_flush_requests_time_seconds_total",
}

// Kernels before 4.18 have no discard fields and before 5.5 no flush
// fields; the collector then sends only what the kernel has.
func TestDiskstatsOlderKernels(t *testing.T) {
	tests := []struct {
		name, line string
		want       int // series of the families in diskStatNames
	}{
		{"4.x without discards", "   8       0 sda 412381 53207 61285546 2250183 97214 118201 23457128 1572019 0 1429952 3896104", 11},
		{"4.18 with discards", "   8       0 sda 412381 53207 61285546 2250183 97214 118201 23457128 1572019 0 1429952 3896104 0 0 0 0", 15},
		{"5.5 with flushes", "   8       0 sda 412381 53207 61285546 2250183 97214 118201 23457128 1572019 0 1429952 3896104 0 0 0 0 2710 73902", 17},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := diskstatsFixtureConfig(t)
			cfg.ProcPath = t.TempDir()
			if err := os.WriteFile(filepath.Join(cfg.ProcPath, "diskstats"), []byte(tt.line+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			c := build(t, "diskstats", cfg)
			if got := testutil.CollectAndCount(adapter{t, c}, diskStatNames...); got != tt.want {
				t.Errorf("%d stat series, want %d", got, tt.want)
			}
		})
	}
}

func TestDiskstatsMissingFile(t *testing.T) {
	cfg := diskstatsFixtureConfig(t)
	cfg.ProcPath = t.TempDir()
	c := build(t, "diskstats", cfg)
	if err := c.Update(t.Context(), make(chan prometheus.Metric, 100)); err == nil {
		t.Fatal("Update succeeded without /proc/diskstats")
	}
}

func TestDiskstatsMalformed(t *testing.T) {
	cfg := diskstatsFixtureConfig(t)
	cfg.ProcPath = t.TempDir()
	bad := "   8       0 sda 412381 53207 sixty 2250183 97214 118201 23457128 1572019 0 1429952 3896104\n"
	if err := os.WriteFile(filepath.Join(cfg.ProcPath, "diskstats"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	c := build(t, "diskstats", cfg)
	if err := c.Update(t.Context(), make(chan prometheus.Metric, 100)); err == nil {
		t.Fatal("Update succeeded on malformed /proc/diskstats")
	}
}
