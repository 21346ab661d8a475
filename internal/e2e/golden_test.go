//go:build e2e

package e2e

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warden-exporter/warden/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite testdata/node.golden.prom from warden_node_exporter's output")

// goldenFile is the whole /metrics output of warden_node_exporter on the
// collectors' fixture tree, normalized by normalizeGolden.
const goldenFile = "testdata/node.golden.prom"

// fixtureSource is the shared node fixture tree (proc, sys, rootfs, udev,
// textfile) in the top-level testdata/, seen from this package.
const fixtureSource = "../../testdata"

// fixturePlaceholder stands in the golden file for the temporary directory
// that holds the copy of the fixture tree; only label values that carry a
// path name it (node_textfile_mtime_seconds{file}).
const fixturePlaceholder = "$FIXTURE"

// volatile is what the placeholder replaces.
const volatile = "VOLATILE"

// Parts of the output that are read from the clock or from the running
// kernel rather than from the fixture tree. Only these are replaced by
// volatile in the golden file; everything else is compared as it is.
var (
	// volatileValues are families whose sample values are replaced.
	volatileValues = []string{
		"node_scrape_collector_duration_seconds",              // the wall clock
		"node_time_seconds",                                   // the wall clock
		"warden_config_last_reload_success_timestamp_seconds", // the wall clock
		// statfs(2) of the temporary directory holding the copied
		// rootfs, which the fixture's mountinfo mounts on "/"; the other
		// mount points do not exist in the copy and report their error.
		"node_filesystem_avail_bytes",
		"node_filesystem_files",
		"node_filesystem_files_free",
		"node_filesystem_free_bytes",
		"node_filesystem_size_bytes",
		// /proc/net/sockstat counts pages: the page size is the running
		// kernel's (4096 here, 16 or 64 KiB on some arm64 kernels).
		"node_sockstat_TCP_mem_bytes",
		"node_sockstat_UDP_mem_bytes",
	}
	// volatileValuePrefixes are name prefixes whose sample values are
	// replaced: the timex collector reads only adjtimex(2).
	volatileValuePrefixes = []string{"node_timex_"}
	// volatileLabels are families whose label values are replaced (the
	// label names stay).
	volatileLabels = []string{
		"node_uname_info",                 // uname(2)
		"warden_node_exporter_build_info", // the Go toolchain and the checkout
	}
)

var labelValue = regexp.MustCompile(`="(?:[^"\\]|\\.)*"`)

// normalizeGolden makes an exposition comparable across runs and
// machines: the temporary fixture root becomes fixturePlaceholder, and the
// volatile parts listed above become volatile.
func normalizeGolden(exposition, root string) string {
	exposition = strings.ReplaceAll(exposition, root, fixturePlaceholder)
	lines := strings.Split(exposition, "\n")
	for i, line := range lines {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		if slices.Contains(volatileValues, name) || slices.ContainsFunc(volatileValuePrefixes, func(p string) bool { return strings.HasPrefix(name, p) }) {
			// Warden writes no timestamps: the value is the last field,
			// and label values before it may hold spaces.
			lines[i] = line[:strings.LastIndexByte(line, ' ')+1] + volatile
		}
		if slices.Contains(volatileLabels, name) {
			lines[i] = labelValue.ReplaceAllString(lines[i], `="`+volatile+`"`)
		}
	}
	return strings.Join(lines, "\n")
}

// copyFixtureTree copies the collectors' fixture tree into dir, keeping its
// symbolic links, and gives the udev database files their real names: they
// are stored as bMAJOR_MINOR because Go module zips do not allow ':' in file
// names, and udev names them bMAJOR:MINOR. The textfile fixtures get a fixed
// mtime, which node_textfile_mtime_seconds reports.
func copyFixtureTree(t *testing.T, dir string) {
	t.Helper()
	udevName := regexp.MustCompile(`^([bc]\d+)_(\d+)$`)
	err := filepath.WalkDir(fixtureSource, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(fixtureSource, path)
		if err != nil {
			return err
		}
		if filepath.Dir(rel) == "udev" {
			rel = filepath.Join("udev", udevName.ReplaceAllString(d.Name(), "$1:$2"))
		}
		dst := filepath.Join(dir, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(target, dst)
		default:
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(dst, data, 0o644)
		}
	})
	if err != nil {
		t.Fatalf("copy %s: %v", fixtureSource, err)
	}
	mtime := time.Unix(1_700_000_000, 0)
	files, err := filepath.Glob(filepath.Join(dir, "textfile", "two_files", "*.prom"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no textfile fixtures in the copy: %v", err)
	}
	for _, f := range files {
		if err := os.Chtimes(f, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGoldenFixtureOutput runs warden_node_exporter with every default
// collector on the collectors' fixture tree (--path.procfs, --path.sysfs,
// --path.rootfs, --path.udev.data and a textfile directory) and compares
// its whole /metrics output with testdata/node.golden.prom, after
// normalizeGolden. `go test -tags e2e -run Golden ./internal/e2e -update`
// rewrites the golden file. Collectors without data in the tree send
// nothing and report success: rapl's and some hwmon fixtures have ':' in
// their paths and are written by the collector tests at run time, so they
// are not in the tree.
func TestGoldenFixtureOutput(t *testing.T) {
	promtool := testenv.Need(t, "promtool")
	root := filepath.Join(t.TempDir(), "fixture")
	copyFixtureTree(t, root)
	// node_time_zone_offset_seconds names the local zone.
	t.Setenv("TZ", "UTC")

	addr := testenv.FreeAddr(t)
	p := testenv.Start(t, bins.Path("warden_node_exporter"),
		"--web.listen-address="+addr,
		"--web.disable-exporter-metrics",
		"--path.procfs="+filepath.Join(root, "proc"),
		"--path.sysfs="+filepath.Join(root, "sys"),
		"--path.rootfs="+filepath.Join(root, "rootfs"),
		"--path.udev.data="+filepath.Join(root, "udev"),
		"--collector.textfile.directory="+filepath.Join(root, "textfile", "two_files"),
	)
	testenv.WaitListening(t, addr, p)
	body := scrapePlain(t, addr)

	// promtool lints the output as served.
	code, stdout, stderr := testenv.Run(t, body, promtool, "check", "metrics")
	var problems []string
	for _, line := range strings.Split(strings.TrimSpace(stdout+stderr), "\n") {
		if line != "" && !acceptedLint(line) {
			problems = append(problems, line)
		}
	}
	if len(problems) > 0 || (code != 0 && code != 3) {
		t.Errorf("promtool check metrics: exit %d; problems:\n%s", code, strings.Join(problems, "\n"))
	}

	got := normalizeGolden(body, root)
	if *update {
		if err := os.MkdirAll(filepath.Dir(goldenFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenFile, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", goldenFile)
		return
	}
	want, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := lineDiff(string(want), got); diff != "" {
		t.Errorf("/metrics differs from %s (- golden, + warden; run with -update if the change is intended):\n%s", goldenFile, diff)
	}
}

// acceptedLint reports whether a promtool complaint is drawn by a name that
// node_exporter exposes, which Warden keeps so that dashboards work.
func acceptedLint(line string) bool {
	// The kernel's CamelCase fields: node_memory_MemTotal_bytes,
	// node_netstat_Tcp_InSegs.
	if strings.HasSuffix(line, "metric names should be written in 'snake_case' not 'camelCase'") {
		return true
	}
	return slices.Contains([]string{
		`node_entropy_available_bits use base unit "bytes" instead of "bits"`,
		`node_entropy_pool_size_bits use base unit "bytes" instead of "bits"`,
	}, line)
}

// lineDiff lists the lines of want missing from got (-) and those of got
// missing from want (+), in order; an exposition has no duplicate lines
// that matter here. It returns "" when both are equal.
func lineDiff(want, got string) string {
	if want == got {
		return ""
	}
	count := func(s string) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(s, "\n") {
			m[l]++
		}
		return m
	}
	wantSet, gotSet := count(want), count(got)
	var out []string
	for _, l := range strings.Split(want, "\n") {
		if gotSet[l] == 0 {
			out = append(out, "- "+l)
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if wantSet[l] == 0 {
			out = append(out, "+ "+l)
		}
	}
	if len(out) == 0 {
		// Same lines in another order or number.
		return "(the same lines, in another order or number)"
	}
	const limit = 60
	if len(out) > limit {
		out = append(out[:limit], "...")
	}
	return strings.Join(out, "\n")
}
