package collector

import (
	"context"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestCPU(t *testing.T) {
	compareGolden(t, build(t, "cpu", fixtureConfig()), "testdata/cpu.prom")
}

// cpuInfoFamilies are the families that --collector.cpu.info adds.
var cpuInfoFamilies = []string{"node_cpu_bug_info", "node_cpu_flag_info", "node_cpu_frequency_hertz", "node_cpu_info"}

// skipUnlessX86 skips tests of /proc/cpuinfo elsewhere: procfs parses it in
// the layout of the architecture it is built for, and the fixture is x86.
func skipUnlessX86(t *testing.T) {
	t.Helper()
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "386" {
		t.Skipf("the /proc/cpuinfo fixture is x86, this is %s", runtime.GOARCH)
	}
}

func TestCPUInfo(t *testing.T) {
	skipUnlessX86(t)
	cfg := fixtureConfig()
	cfg.CPU.Info = true
	cfg.CPU.FlagsInclude = "^(aes|avx.*)$"
	cfg.CPU.BugsInclude = "^(spectre_.*|mds)$"
	compareGolden(t, build(t, "cpu", cfg), "testdata/cpu_info.prom", cpuInfoFamilies...)
}

func TestCPUInfoOptions(t *testing.T) {
	skipUnlessX86(t)
	for _, tc := range []struct {
		name string
		opts CPUOptions
		want []string // families of cpuInfoFamilies sent
	}{
		{"default", CPUOptions{Guest: true}, nil},
		{"info without filters", CPUOptions{Info: true}, []string{"node_cpu_frequency_hertz", "node_cpu_info"}},
		// As in node_exporter, a filter turns the info on by itself.
		{"flags filter only", CPUOptions{FlagsInclude: "^avx2$"}, []string{"node_cpu_flag_info", "node_cpu_frequency_hertz", "node_cpu_info"}},
		{"bugs filter only", CPUOptions{BugsInclude: "l1tf"}, []string{"node_cpu_bug_info", "node_cpu_frequency_hertz", "node_cpu_info"}},
		{"filter matching nothing", CPUOptions{FlagsInclude: "^no_such_flag$"}, []string{"node_cpu_frequency_hertz", "node_cpu_info"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.CPU = tc.opts
			values, err := scrapeValues(build(t, "cpu", cfg))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range cpuInfoFamilies {
				if hasFamily(values, f) {
					got = append(got, f)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("families %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCPUGuestDisabled(t *testing.T) {
	cfg := fixtureConfig()
	cfg.CPU.Guest = false
	values, err := scrapeValues(build(t, "cpu", cfg))
	if err != nil {
		t.Fatal(err)
	}
	if hasFamily(values, "node_cpu_guest_seconds_total") {
		t.Error("node_cpu_guest_seconds_total sent with Guest off")
	}
	if !hasFamily(values, "node_cpu_seconds_total") {
		t.Error("node_cpu_seconds_total missing")
	}
}

func TestCPUBadFilters(t *testing.T) {
	for _, opts := range []CPUOptions{{FlagsInclude: "("}, {BugsInclude: "[a-"}} {
		cfg := fixtureConfig().withDefaults()
		cfg.CPU = opts
		if _, err := newCPUCollector(cfg); err == nil {
			t.Errorf("built with %+v", opts)
		}
	}
}

// cpuStatFile is a /proc/stat with one line per CPU, each given as user and
// idle ticks (USER_HZ, 100 a second); the other counters stay fixed.
func cpuStatFile(cpus map[int][2]int) string {
	var b strings.Builder
	b.WriteString("cpu  1 1 1 1 1 0 1 0 1 0\n")
	for _, id := range slices.Sorted(maps.Keys(cpus)) {
		fmt.Fprintf(&b, "cpu%d %d 5 300 %d 40 0 7 0 200 0\n", id, cpus[id][0], cpus[id][1])
	}
	b.WriteString("intr 100 0\nctxt 1000\nbtime 1717231843\nprocesses 500\nprocs_running 1\nprocs_blocked 0\n")
	return b.String()
}

// TestCPUCountersNeverFall follows one collector through scrapes in which
// the kernel's counters fall a little (held at the last value), idle falls
// by more than cpuJumpBackSeconds (a hotplug: restart from the new values),
// and a CPU goes offline and comes back.
func TestCPUCountersNeverFall(t *testing.T) {
	cfg := fixtureConfig()
	cfg.ProcPath = t.TempDir()
	c := build(t, "cpu", cfg)
	for _, step := range []struct {
		name string
		cpus map[int][2]int        // cpu: user and idle ticks in /proc/stat
		want map[string][2]float64 // cpu: user and idle seconds sent
	}{
		{"first scrape", map[int][2]int{0: {1000, 50000}, 1: {2000, 60000}},
			map[string][2]float64{"0": {10, 500}, "1": {20, 600}}},
		{"small fall is held", map[int][2]int{0: {990, 49800}, 1: {2100, 60100}},
			map[string][2]float64{"0": {10, 500}, "1": {21, 601}}},
		{"idle jump back resets, offline cpu dropped", map[int][2]int{0: {100, 49000}},
			map[string][2]float64{"0": {1, 490}}},
		{"cpu back online starts afresh", map[int][2]int{0: {200, 49100}, 1: {50, 100}},
			map[string][2]float64{"0": {2, 491}, "1": {0.5, 1}}},
	} {
		writeFixtureFiles(t, cfg.ProcPath, map[string]string{"stat": cpuStatFile(step.cpus)})
		values, err := scrapeValues(c)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		got := map[string][2]float64{}
		for key, v := range values {
			var cpu, mode string
			if _, err := fmt.Sscanf(key, `node_cpu_seconds_total{cpu=%q,mode=%q}`, &cpu, &mode); err != nil {
				continue
			}
			pair := got[cpu]
			switch mode {
			case "user":
				pair[0] = v
			case "idle":
				pair[1] = v
			}
			got[cpu] = pair
		}
		if fmt.Sprint(got) != fmt.Sprint(step.want) {
			t.Errorf("%s: user and idle seconds %v, want %v", step.name, got, step.want)
		}
	}
}

// TestCPUConcurrentScrapes is for the race detector: scrapes run in parallel
// and share the last values sent.
func TestCPUConcurrentScrapes(t *testing.T) {
	c := build(t, "cpu", fixtureConfig())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := scrapeValues(c); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func TestCPUSysfsVariants(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string // families other than seconds_total and guest, comma-separated
	}{{
		// x86 usually cannot offline CPU 0 and gives it no online file.
		name: "no online file for cpu0",
		files: map[string]string{
			"devices/system/cpu/cpu0/topology/physical_package_id": "0\n",
			"devices/system/cpu/cpu1/online":                       "1\n",
		},
	}, {
		name: "online, no isolated file, no thermal throttle",
		files: map[string]string{
			"devices/system/cpu/cpu0/online": "1\n",
			"devices/system/cpu/cpu1/online": "0\n",
		},
		want: "node_cpu_online",
	}, {
		name: "empty isolated file",
		files: map[string]string{
			"devices/system/cpu/isolated": "\n",
		},
	}, {
		name: "core throttles only",
		files: map[string]string{
			"devices/system/cpu/cpu0/topology/physical_package_id":         "0\n",
			"devices/system/cpu/cpu0/topology/core_id":                     "0\n",
			"devices/system/cpu/cpu0/thermal_throttle/core_throttle_count": "3\n",
		},
		want: "node_cpu_core_throttles_total",
	}, {
		name: "no cpus in sysfs",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.SysPath = t.TempDir()
			writeFixtureFiles(t, cfg.SysPath, tc.files)
			values, err := scrapeValues(build(t, "cpu", cfg))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for key := range values {
				name, _, _ := strings.Cut(key, "{")
				if !strings.Contains(name, "seconds_total") && !slices.Contains(got, name) {
					got = append(got, name)
				}
			}
			slices.Sort(got)
			if strings.Join(got, ",") != tc.want {
				t.Errorf("families %v, want %q", got, tc.want)
			}
		})
	}
}

func TestCPUErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		proc, sys map[string]string
		info      bool
	}{
		{name: "no /proc/stat", proc: map[string]string{}},
		{name: "malformed /proc/stat", proc: map[string]string{"stat": "cpu0 12 x 3\n"}},
		{name: "bad cpu number", proc: map[string]string{"stat": "cpuX 1 2 3 4 5 6 7 8 9 10\n"}},
		{name: "no /proc/cpuinfo", proc: map[string]string{"stat": cpuStatFile(map[int][2]int{0: {1, 1}})}, info: true},
		{name: "malformed isolated", proc: map[string]string{"stat": cpuStatFile(map[int][2]int{0: {1, 1}})},
			sys: map[string]string{"devices/system/cpu/isolated": "2-x\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.ProcPath, cfg.SysPath = t.TempDir(), t.TempDir()
			cfg.CPU.Info = tc.info
			writeFixtureFiles(t, cfg.ProcPath, tc.proc)
			writeFixtureFiles(t, cfg.SysPath, tc.sys)
			if _, err := scrapeValues(build(t, "cpu", cfg)); err == nil {
				t.Fatal("Update succeeded")
			}
		})
	}
}

// errRecorder runs one Update of a collector as a prometheus.Collector and
// keeps its error.
type errRecorder struct {
	c   Collector
	err error
}

// Describe sends nothing, which makes the recorder an unchecked collector:
// the families it sends depend on the host.
func (r *errRecorder) Describe(chan<- *prometheus.Desc) {}

func (r *errRecorder) Collect(ch chan<- prometheus.Metric) {
	r.err = r.c.Update(context.Background(), ch)
}

// scrapeValues runs one Update of c and returns the values sent, keyed by
// name{label="value",...} with labels sorted by name, as in exposition text.
func scrapeValues(c Collector) (map[string]float64, error) {
	rec := &errRecorder{c: c}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(rec); err != nil {
		return nil, err
	}
	families, err := reg.Gather()
	if rec.err != nil {
		return nil, rec.err
	}
	if err != nil {
		return nil, err
	}
	values := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			key := f.GetName()
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			var v float64
			switch {
			case m.GetCounter() != nil:
				v = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				v = m.GetGauge().GetValue()
			default:
				v = m.GetUntyped().GetValue()
			}
			values[key] = v
		}
	}
	return values, nil
}

// hasFamily reports whether values hold a series of the named family.
func hasFamily(values map[string]float64, name string) bool {
	for key := range values {
		if k, _, _ := strings.Cut(key, "{"); k == name {
			return true
		}
	}
	return false
}
