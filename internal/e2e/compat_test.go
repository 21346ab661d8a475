//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/warden-exporter/warden/internal/testenv"
)

// foundationCollectors are the collectors of the foundation issue.
var foundationCollectors = []string{
	"cpu", "diskstats", "filesystem", "loadavg", "meminfo", "netdev", "netstat",
	"pressure", "stat", "textfile", "time", "uname", "vmstat",
}

// families scrapes a plain-HTTP exporter and parses its exposition.
func families(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	mf, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", addr, err)
	}
	return mf
}

func labelNames(mf *dto.MetricFamily) string {
	set := map[string]bool{}
	for _, m := range mf.GetMetric() {
		for _, l := range m.GetLabel() {
			set[l.GetName()] = true
		}
	}
	var names []string
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// TestSameFamiliesAsNodeExporter runs node_exporter v1.12.1 and
// warden_node_exporter side by side on this machine with the foundation's
// collectors and compares every metric family: name, type, label names
// and help text, and the values of those that do not move.
func TestSameFamiliesAsNodeExporter(t *testing.T) {
	ref := testenv.NodeExporter(t)
	args := []string{"--collector.disable-defaults", "--web.disable-exporter-metrics"}
	for _, c := range foundationCollectors {
		args = append(args, "--collector."+c)
	}
	refAddr, ourAddr := testenv.FreeAddr(t), testenv.FreeAddr(t)
	refProc := testenv.Start(t, ref, append(args, "--web.listen-address="+refAddr)...)
	ourProc := testenv.Start(t, testenv.Bin("warden_node_exporter"), append(args, "--web.listen-address="+ourAddr)...)
	testenv.WaitListening(t, refAddr, refProc)
	testenv.WaitListening(t, ourAddr, ourProc)

	theirs := families(t, refAddr)
	ours := families(t, ourAddr)
	// Each names its own build info.
	delete(theirs, "node_exporter_build_info")
	delete(ours, "warden_node_exporter_build_info")

	var problems []string
	for name, want := range theirs {
		got, ok := ours[name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("missing family %s (%s)", name, want.GetType()))
		case got.GetType() != want.GetType():
			problems = append(problems, fmt.Sprintf("%s: type %s, node_exporter has %s", name, got.GetType(), want.GetType()))
		case labelNames(got) != labelNames(want):
			problems = append(problems, fmt.Sprintf("%s: labels {%s}, node_exporter has {%s}", name, labelNames(got), labelNames(want)))
		case got.GetHelp() != want.GetHelp():
			problems = append(problems, fmt.Sprintf("%s: help %q, node_exporter has %q", name, got.GetHelp(), want.GetHelp()))
		}
	}
	for name := range ours {
		if strings.HasPrefix(name, "warden_") {
			continue // the security layer's own metrics
		}
		if _, ok := theirs[name]; !ok {
			problems = append(problems, fmt.Sprintf("extra family %s, which node_exporter does not expose here", name))
		}
	}
	slices.Sort(problems)
	for _, p := range problems {
		t.Error(p)
	}

	// Values that do not move between two scrapes a moment apart.
	for _, name := range []string{"node_memory_MemTotal_bytes", "node_boot_time_seconds", "node_uname_info", "node_filesystem_size_bytes"} {
		want, got := values(theirs[name]), values(ours[name])
		if want == "" {
			t.Errorf("node_exporter exposes no %s here; the comparison needs it", name)
			continue
		}
		if got != want {
			t.Errorf("%s:\n warden:        %s\n node_exporter: %s", name, got, want)
		}
	}
	cpus := func(mfs map[string]*dto.MetricFamily) int {
		n := 0
		for _, m := range mfs["node_cpu_seconds_total"].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "mode" && l.GetValue() == "idle" {
					n++
				}
			}
		}
		return n
	}
	if a, b := cpus(ours), cpus(theirs); a != b || a == 0 {
		t.Errorf("CPU count: warden %d, node_exporter %d", a, b)
	}
}

// values renders a family's series with their values, sorted.
func values(mf *dto.MetricFamily) string {
	if mf == nil {
		return ""
	}
	var out []string
	for _, m := range mf.GetMetric() {
		var ls []string
		for _, l := range m.GetLabel() {
			ls = append(ls, l.GetName()+"="+l.GetValue())
		}
		sort.Strings(ls)
		v := m.GetGauge().GetValue() + m.GetCounter().GetValue() + m.GetUntyped().GetValue()
		out = append(out, fmt.Sprintf("{%s} %g", strings.Join(ls, ","), v))
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}
