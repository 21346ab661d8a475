package collector

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-exporter/warden/internal/testlog"
)

// Files that a container's /proc or /sys mount, or a textfile directory
// writable by a group, may hold: each costs at most its own collector's
// success, never the process (every one of them used to end it, or take
// gigabytes) nor the scrape in Prometheus.
//   - /proc/mdstat "Personalities : x": procfs panics on it.
//   - /proc/vmstat a link to /dev/zero: read until memory ran out.
//   - a netclass address with a byte that is not UTF-8: a label value
//     that panicked.
//   - a textfile whose name is not UTF-8 (its path is a label value), and
//     one whose HELP is not (Prometheus refuses the whole scrape then).
func TestHostileFilesCostOnlyTheirCollector(t *testing.T) {
	root, cfg := fixtureCopy(t)
	textfiles := filepath.Join(root, "textfiles")
	cfg.Textfile.Directories = []string{textfiles}
	writeFixtureFiles(t, root, map[string]string{
		"proc/mdstat":                 "Personalities : x\n",
		"sys/class/net/eth0/address":  "52:54:00:a1:5e:0c\xff\n",
		"textfiles/good.prom":         "# HELP good_metric Fine.\ngood_metric 1\n",
		"textfiles/bad_help.prom":     "# HELP bad_help_metric bad\xff\nbad_help_metric 1\n",
		"textfiles/bad_name\xff.prom": "bad_name_metric 1\n",
	})
	if err := os.Remove(filepath.Join(root, "proc/vmstat")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(root, "proc/vmstat")); err != nil {
		t.Fatal(err)
	}
	e := serveNode(t, cfg, []string{"mdadm", "vmstat", "netclass", "textfile", "loadavg"}, &testlog.Buffer{})

	for range 2 { // the process is still there for a second scrape
		_, body := scrapeTimed(t, e, "10")
		success := collectorSuccess(body)
		for name, want := range map[string]string{"mdadm": "0", "vmstat": "0", "netclass": "1", "textfile": "1", "loadavg": "1"} {
			if success[name] != want {
				t.Errorf("node_scrape_collector_success{collector=%q} %q, want %s", name, success[name], want)
			}
		}
		for _, want := range []string{
			`address="52:54:00:a1:5e:0c` + "\uFFFD" + `"`,
			"good_metric 1\n",
			"node_textfile_scrape_error 1\n",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("scrape lacks %q", want)
			}
		}
		for _, bad := range []string{"bad_help_metric", "bad_name_metric", "\xff"} {
			if strings.Contains(body, bad) {
				t.Errorf("scrape holds %q", bad)
			}
		}
	}
}
