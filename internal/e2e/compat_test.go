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

// scrapePair runs node_exporter v1.12.1 and warden_node_exporter side by
// side on this machine with the same flags (each on its own loopback
// address) and returns what each exposes, less its own build info family,
// which names the binary.
func scrapePair(t *testing.T, args ...string) (theirs, ours map[string]*dto.MetricFamily) {
	t.Helper()
	ref := testenv.NodeExporter(t)
	refAddr, ourAddr := testenv.FreeAddr(t), testenv.FreeAddr(t)
	refProc := testenv.Start(t, ref, append(slices.Clone(args), "--web.listen-address="+refAddr)...)
	ourProc := testenv.Start(t, bins.Path("warden_node_exporter"), append(slices.Clone(args), "--web.listen-address="+ourAddr)...)
	testenv.WaitListening(t, refAddr, refProc)
	testenv.WaitListening(t, ourAddr, ourProc)

	theirs = families(t, refAddr)
	ours = families(t, ourAddr)
	delete(theirs, "node_exporter_build_info")
	delete(ours, "warden_node_exporter_build_info")
	return theirs, ours
}

// familyProblems compares every metric family node_exporter exposes with
// Warden's: name, type, label names and help text; and lists the families
// Warden exposes that node_exporter does not, but for Warden's own
// warden_* families (the security layer's). allowed names the families
// whose differences are known and justified, with the reason; an allowed
// family that shows no difference is reported too, so that the list does
// not outlive its reasons.
func familyProblems(theirs, ours map[string]*dto.MetricFamily, allowed map[string]string) []string {
	var problems []string
	differs := map[string]bool{}
	report := func(name, format string, args ...any) {
		differs[name] = true
		if _, ok := allowed[name]; !ok {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	for name, want := range theirs {
		got, ok := ours[name]
		switch {
		case !ok:
			report(name, "missing family %s (%s)", name, want.GetType())
		case got.GetType() != want.GetType():
			report(name, "%s: type %s, node_exporter has %s", name, got.GetType(), want.GetType())
		case labelNames(got) != labelNames(want):
			report(name, "%s: labels {%s}, node_exporter has {%s}", name, labelNames(got), labelNames(want))
		case got.GetHelp() != want.GetHelp():
			report(name, "%s: help %q, node_exporter has %q", name, got.GetHelp(), want.GetHelp())
		}
	}
	for name := range ours {
		if strings.HasPrefix(name, "warden_") {
			continue // the security layer's own metrics
		}
		if _, ok := theirs[name]; !ok {
			report(name, "extra family %s, which node_exporter does not expose here", name)
		}
	}
	for name, reason := range allowed {
		if !differs[name] {
			problems = append(problems, fmt.Sprintf("%s is allowed to differ (%s) but does not: remove it from the list", name, reason))
		}
	}
	slices.Sort(problems)
	return problems
}

// TestSameFamiliesAsNodeExporter runs node_exporter v1.12.1 and
// warden_node_exporter side by side on this machine with the foundation's
// collectors and compares every metric family: name, type, label names
// and help text, and the values of those that do not move.
func TestSameFamiliesAsNodeExporter(t *testing.T) {
	args := []string{"--collector.disable-defaults", "--web.disable-exporter-metrics"}
	for _, c := range foundationCollectors {
		args = append(args, "--collector."+c)
	}
	theirs, ours := scrapePair(t, args...)
	for _, p := range familyProblems(theirs, ours, nil) {
		t.Error(p)
	}

	// Values that do not move between two scrapes a moment apart.
	sameValues(t, theirs, ours, "node_memory_MemTotal_bytes", "node_boot_time_seconds", "node_uname_info", "node_filesystem_size_bytes")
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

// sameValues requires the named families, which must not move between two
// scrapes a moment apart, to have the same series and values in both.
func sameValues(t *testing.T, theirs, ours map[string]*dto.MetricFamily, names ...string) {
	t.Helper()
	for _, name := range names {
		want, got := values(theirs[name]), values(ours[name])
		if want == "" {
			t.Errorf("node_exporter exposes no %s here; the comparison needs it", name)
			continue
		}
		if got != want {
			t.Errorf("%s:\n warden:        %s\n node_exporter: %s", name, got, want)
		}
	}
}

// defaultFlagsExceptions are the families that may differ between
// node_exporter and Warden run with default flags on this machine, each
// with the reason. None is known: but for the build info family, which
// each binary names after itself and scrapePair leaves out, every family
// node_exporter exposes here Warden exposes with the same type, label
// names and help.
var defaultFlagsExceptions = map[string]string{}

// TestSameFamiliesWithDefaultFlags runs node_exporter v1.12.1 and
// warden_node_exporter side by side with default flags, as a user who
// swaps one binary for the other would, and requires every family
// node_exporter exposes on this machine to be exposed identically by
// Warden (name, type, label names, help), and no other node_* family.
// Values differ where documented: Warden reports
// node_scrape_collector_success 1 for a collector that finds no data
// (no such hardware here), node_exporter 0.
func TestSameFamiliesWithDefaultFlags(t *testing.T) {
	theirs, ours := scrapePair(t, "--web.disable-exporter-metrics")
	if len(theirs) == 0 {
		t.Fatal("node_exporter exposes nothing")
	}
	t.Logf("%d families of node_exporter compared", len(theirs))
	for _, p := range familyProblems(theirs, ours, defaultFlagsExceptions) {
		t.Error(p)
	}
	// Both run the same collectors.
	if want, got := collectorsRun(theirs), collectorsRun(ours); got != want {
		t.Errorf("collectors run:\n warden:        %s\n node_exporter: %s", got, want)
	}
	sameValues(t, theirs, ours, "node_memory_MemTotal_bytes", "node_boot_time_seconds", "node_uname_info",
		"node_filesystem_size_bytes", "node_os_info")
}

// collectorsRun lists the collector label values of node_scrape_collector_success.
func collectorsRun(mfs map[string]*dto.MetricFamily) string {
	var names []string
	for _, m := range mfs["node_scrape_collector_success"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "collector" {
				names = append(names, l.GetValue())
			}
		}
	}
	slices.Sort(names)
	return strings.Join(names, " ")
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
