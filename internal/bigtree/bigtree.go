// Package bigtree writes a synthetic /proc, /sys, root file system and
// udev database for a big host, for benchmarks that point an exporter at
// it with --path.procfs, --path.sysfs, --path.rootfs and --path.udev.data.
// Its output is generated, never committed: `go run
// ./internal/bigtree/cmd/bigtree -dir DIR` writes one by hand.
//
// What a big host has many of is generated from Sizes, in the formats of
// the shared fixture tree (testdata/ at the module's root): CPUs in
// /proc/stat, /proc/cpuinfo and /sys/devices/system/cpu (with cpufreq and
// thermal throttle counters), network interfaces in /sys/class/net and
// /proc/net/dev, mounts in /proc/1/mountinfo (each a real directory under
// the root file system, so that statfs works), block devices in
// /proc/diskstats, /sys/block and the udev database, and hwmon sensors.
// Everything else in /proc (memory, load, vmstat, the network protocol
// counters) is the fixture tree's, the same at every size.
package bigtree

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/warden-exporter/warden/internal/fixture"
)

// Sizes is how many of each thing the host has.
type Sizes struct {
	CPUs       int
	Interfaces int
	Mounts     int
	Disks      int
	// Sensors are hwmon sensors, SensorsPerChip on each chip.
	Sensors int
}

// Full is the big host of the benchmark.
var Full = Sizes{CPUs: 384, Interfaces: 2000, Mounts: 1000, Disks: 500, Sensors: 200}

// Scaled returns s with every count multiplied by f (at least 1 each).
func (s Sizes) Scaled(f float64) Sizes {
	n := func(v int) int { return max(1, int(float64(v)*f+0.5)) }
	return Sizes{CPUs: n(s.CPUs), Interfaces: n(s.Interfaces), Mounts: n(s.Mounts), Disks: n(s.Disks), Sensors: n(s.Sensors)}
}

// SensorsPerChip is how many sensors each generated hwmon chip has.
const SensorsPerChip = 5

// Paths are the directories Write makes, for the exporters' flags.
type Paths struct {
	Proc, Sys, Rootfs, Udev string
}

// PathsIn returns the directories Write makes under dir.
func PathsIn(dir string) Paths {
	return Paths{
		Proc:   filepath.Join(dir, "proc"),
		Sys:    filepath.Join(dir, "sys"),
		Rootfs: filepath.Join(dir, "rootfs"),
		Udev:   filepath.Join(dir, "udev"),
	}
}

// generatedProc are the fixture's /proc files that Write generates
// instead of copying.
var generatedProc = map[string]bool{
	"stat": true, "cpuinfo": true, "diskstats": true, "net/dev": true, "1/mountinfo": true,
	// The fixture's md arrays and ZFS pools would add work that does not
	// grow with the host.
	"mdstat": true, "spl": true,
}

// Write writes a tree for s into dir, which must not exist or be empty,
// and returns its paths.
func Write(dir string, s Sizes) (Paths, error) {
	p := PathsIn(dir)
	w := &writer{}
	w.copyFixtureProc(p.Proc)
	w.copyFile(filepath.Join(fixture.Root(), "rootfs", "etc", "os-release"), filepath.Join(p.Rootfs, "etc", "os-release"))
	w.mkdir(p.Udev)
	w.cpus(p, s.CPUs)
	w.interfaces(p, s.Interfaces)
	w.mounts(p, s.Mounts)
	w.disks(p, s.Disks)
	w.hwmon(p, s.Sensors)
	return p, w.err
}

// writer keeps the first error, so that the generators read as lists of
// files.
type writer struct{ err error }

func (w *writer) mkdir(dir string) {
	if w.err == nil {
		w.err = os.MkdirAll(dir, 0o755)
	}
}

func (w *writer) file(path, content string) {
	w.mkdir(filepath.Dir(path))
	if w.err == nil {
		w.err = os.WriteFile(path, []byte(content), 0o644)
	}
}

// files writes one-line files into dir: name and content.
func (w *writer) files(dir string, lines map[string]string) {
	for name, value := range lines {
		w.file(filepath.Join(dir, name), value+"\n")
	}
}

func (w *writer) copyFile(from, to string) {
	if w.err != nil {
		return
	}
	data, err := os.ReadFile(from)
	if err != nil {
		w.err = err
		return
	}
	w.file(to, string(data))
}

// lines writes a file of many lines, buffered.
func (w *writer) lines(path string, write func(b *bufio.Writer)) {
	w.mkdir(filepath.Dir(path))
	if w.err != nil {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		w.err = err
		return
	}
	b := bufio.NewWriter(f)
	write(b)
	if err := b.Flush(); err != nil {
		w.err = err
	}
	if err := f.Close(); err != nil && w.err == nil {
		w.err = err
	}
}

func (w *writer) copyFixtureProc(proc string) {
	if w.err != nil {
		return
	}
	src := filepath.Join(fixture.Root(), "proc")
	w.err = fixture.CopyTree(src, proc, nil)
	if w.err != nil {
		return
	}
	for rel := range generatedProc {
		if err := os.RemoveAll(filepath.Join(proc, rel)); err != nil && !os.IsNotExist(err) {
			w.err = err
			return
		}
	}
}

// cpus writes /proc/stat, /proc/cpuinfo and /sys/devices/system/cpu.
func (w *writer) cpus(p Paths, n int) {
	w.lines(filepath.Join(p.Proc, "stat"), func(b *bufio.Writer) {
		fmt.Fprintf(b, "cpu  %d %d %d %d %d 0 %d 0 %d %d\n", 600000*n, 300*n, 235000*n, 15600000*n, 12000*n, 5000*n, 12000*n, 25*n)
		for i := range n {
			fmt.Fprintf(b, "cpu%d %d %d %d %d %d 0 %d 0 %d %d\n", i, 600000+i, 300+i%7, 235000+i, 15600000+i, 12000+i, 5000+i%13, 12000+i, i%3)
		}
		_, _ = b.WriteString("intr 181452869 9 0 0 0 0 0 0 0 0 0 0 0 144\nctxt 394838576\nbtime 1717231843\nprocesses 6328163\nprocs_running 3\nprocs_blocked 1\nsoftirq 75924031 21 27283120 1 2290834 1151004 0 60711 22867392 0 22270948\n")
	})
	cores := max(1, n/4) // two packages, two threads a core
	w.lines(filepath.Join(p.Proc, "cpuinfo"), func(b *bufio.Writer) {
		for i := range n {
			fmt.Fprintf(b, "processor\t: %d\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\nmodel name\t: Intel(R) Xeon(R) Platinum 8490H\nstepping\t: 8\nmicrocode\t: 0x2b0004b1\ncpu MHz\t\t: 1900.000\ncache size\t: 115200 KB\nphysical id\t: %d\nsiblings\t: %d\ncore id\t\t: %d\ncpu cores\t: %d\napicid\t\t: %d\nflags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc avx avx2 avx512f\nbogomips\t: 3800.00\n\n",
				i, i%2, max(1, n/2), (i/2)%cores, cores, i)
		}
	})
	cpuDir := filepath.Join(p.Sys, "devices", "system", "cpu")
	last := fmt.Sprintf("0-%d", n-1)
	for _, f := range []string{"online", "possible", "present"} {
		w.file(filepath.Join(cpuDir, f), last+"\n")
	}
	w.file(filepath.Join(cpuDir, "offline"), "\n")
	w.file(filepath.Join(cpuDir, "isolated"), "\n")
	for i := range n {
		dir := filepath.Join(cpuDir, fmt.Sprintf("cpu%d", i))
		if i > 0 { // cpu0 cannot go offline and has no online file
			w.file(filepath.Join(dir, "online"), "1\n")
		}
		w.file(filepath.Join(dir, "topology", "physical_package_id"), fmt.Sprintf("%d\n", i%2))
		w.file(filepath.Join(dir, "topology", "core_id"), fmt.Sprintf("%d\n", (i/2)%cores))
		w.file(filepath.Join(dir, "thermal_throttle", "core_throttle_count"), fmt.Sprintf("%d\n", i%11))
		w.file(filepath.Join(dir, "thermal_throttle", "package_throttle_count"), fmt.Sprintf("%d\n", 30+i%2))
		w.files(filepath.Join(dir, "cpufreq"), map[string]string{
			"affected_cpus":                 fmt.Sprint(i),
			"related_cpus":                  fmt.Sprint(i),
			"cpuinfo_cur_freq":              fmt.Sprint(1900000 + 1000*(i%50)),
			"cpuinfo_max_freq":              "3500000",
			"cpuinfo_min_freq":              "800000",
			"cpuinfo_transition_latency":    "0",
			"scaling_available_governors":   "performance powersave",
			"scaling_cur_freq":              fmt.Sprint(1899000 + 1000*(i%50)),
			"scaling_driver":                "intel_pstate",
			"scaling_governor":              "powersave",
			"scaling_max_freq":              "3500000",
			"scaling_min_freq":              "800000",
			"scaling_setspeed":              "<unsupported>",
			"energy_performance_preference": "balance_performance",
		})
	}
}

// interfaces writes /sys/class/net and /proc/net/dev: eth0 to eth(n-1).
func (w *writer) interfaces(p Paths, n int) {
	w.lines(filepath.Join(p.Proc, "net", "dev"), func(b *bufio.Writer) {
		_, _ = b.WriteString("Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n")
		for i := range n {
			fmt.Fprintf(b, "%6s: %d %d %d %d 0 0 0 %d %d %d %d %d 0 0 0 0\n",
				fmt.Sprintf("eth%d", i), 98127364512+int64(i)*1000, 9873312+i, i%5, i%17, i%31, 912873461+int64(i)*100, 6231987+i, i%3, i%7)
		}
	})
	for i := range n {
		w.files(filepath.Join(p.Sys, "class", "net", fmt.Sprintf("eth%d", i)), map[string]string{
			"addr_assign_type":   "0",
			"addr_len":           "6",
			"address":            fmt.Sprintf("02:00:00:%02x:%02x:%02x", i>>16&0xff, i>>8&0xff, i&0xff),
			"broadcast":          "ff:ff:ff:ff:ff:ff",
			"carrier":            "1",
			"carrier_changes":    fmt.Sprint(2 + i%5),
			"carrier_down_count": fmt.Sprint(1 + i%3),
			"carrier_up_count":   fmt.Sprint(1 + i%3),
			"dev_id":             "0x0",
			"dev_port":           "0",
			"dormant":            "0",
			"duplex":             "full",
			"flags":              "0x1003",
			"ifalias":            "",
			"ifindex":            fmt.Sprint(i + 2),
			"iflink":             fmt.Sprint(i + 2),
			"link_mode":          "0",
			"mtu":                "1500",
			"name_assign_type":   "4",
			"netdev_group":       "0",
			"operstate":          "up",
			"proto_down":         "0",
			"speed":              "25000",
			"tx_queue_len":       "1000",
			"type":               "1",
		})
	}
}

// mounts writes /proc/1/mountinfo with n ext4 mounts on /mnt/dataNNNN,
// each a directory in the root file system.
func (w *writer) mounts(p Paths, n int) {
	w.lines(filepath.Join(p.Proc, "1", "mountinfo"), func(b *bufio.Writer) {
		_, _ = b.WriteString("22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n23 1 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw\n")
		for i := range n {
			fmt.Fprintf(b, "%d 1 253:%d / /mnt/data%04d rw,relatime shared:%d - ext4 /dev/mapper/vg-data%04d rw\n", 100+i, i, i, 100+i, i)
		}
	})
	for i := range n {
		w.mkdir(filepath.Join(p.Rootfs, "mnt", fmt.Sprintf("data%04d", i)))
	}
}

// disks writes /proc/diskstats, /sys/block and the udev database for n
// NVMe namespaces, nvme0n1 to nvme(n-1)n1.
func (w *writer) disks(p Paths, n int) {
	w.lines(filepath.Join(p.Proc, "diskstats"), func(b *bufio.Writer) {
		for i := range n {
			fmt.Fprintf(b, "%4d %7d nvme%dn1 %d %d %d %d %d %d %d %d 0 %d %d %d 0 %d %d %d %d\n",
				259, i, i, 412381+i, 53207+i%100, 61285546+i*8, 2250183+i, 97214+i, 118201+i%100, 23457128+i*8, 1572019+i,
				1429952+i, 3896104+i, 12+i%5, 1024+i, 4, 2710+i, 73902+i)
		}
	})
	for i := range n {
		name := fmt.Sprintf("nvme%dn1", i)
		w.file(filepath.Join(p.Sys, "block", name, "queue", "rotational"), "0\n")
		w.file(filepath.Join(p.Udev, fmt.Sprintf("b259:%d", i)), fmt.Sprintf(
			"S:disk/by-id/nvme-BIG_SSD_%06d\nI:3110422\nE:ID_SERIAL_SHORT=BIG%06d\nE:ID_WWN=eui.%016x\nE:ID_MODEL=Big SSD 7.68TB\nE:ID_REVISION=1.0\nE:ID_SERIAL=Big_SSD_7.68TB_BIG%06d\nE:ID_PATH=pci-0000:%02x:00.0-nvme-1\nG:systemd\nV:1\n",
			i, i, i, i, i%256))
	}
}

// hwmon writes n sensors in chips of SensorsPerChip: three temperatures
// (with max, crit and a label), a fan and a voltage.
func (w *writer) hwmon(p Paths, n int) {
	chips := (n + SensorsPerChip - 1) / SensorsPerChip
	for c := range chips {
		dir := filepath.Join(p.Sys, "class", "hwmon", fmt.Sprintf("hwmon%d", c))
		w.file(filepath.Join(dir, "name"), fmt.Sprintf("bigchip%d\n", c))
		for s := range min(SensorsPerChip, n-c*SensorsPerChip) {
			switch {
			case s < 3:
				t := fmt.Sprintf("temp%d", s+1)
				w.file(filepath.Join(dir, t+"_input"), fmt.Sprintf("%d\n", 40000+1000*s+c%10*100))
				w.file(filepath.Join(dir, t+"_max"), "95000\n")
				w.file(filepath.Join(dir, t+"_crit"), "105000\n")
				w.file(filepath.Join(dir, t+"_label"), fmt.Sprintf("Core %d\n", s))
			case s == 3:
				w.file(filepath.Join(dir, "fan1_input"), fmt.Sprintf("%d\n", 3000+c*10))
				w.file(filepath.Join(dir, "fan1_min"), "600\n")
			default:
				w.file(filepath.Join(dir, "in0_input"), fmt.Sprintf("%d\n", 1200+c%7))
				w.file(filepath.Join(dir, "in0_max"), "1500\n")
			}
		}
	}
}

// String describes s for a benchmark's log.
func (s Sizes) String() string {
	return strings.Join([]string{
		fmt.Sprintf("%d CPUs", s.CPUs), fmt.Sprintf("%d interfaces", s.Interfaces), fmt.Sprintf("%d mounts", s.Mounts),
		fmt.Sprintf("%d disks", s.Disks), fmt.Sprintf("%d hwmon sensors", s.Sensors),
	}, ", ")
}
