package buildinfo

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/prometheus/common/version"
)

func TestFill(t *testing.T) {
	saveVersion := func(t *testing.T) {
		saved := [3]string{version.Version, version.Revision, version.BuildDate}
		t.Cleanup(func() { version.Version, version.Revision, version.BuildDate = saved[0], saved[1], saved[2] })
	}
	vcs := []debug.BuildSetting{
		{Key: "vcs.revision", Value: "abcdef1234567890"},
		{Key: "vcs.time", Value: "2026-01-02T03:04:05Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	for _, tt := range []struct {
		name                  string
		ldflags               [3]string
		main                  string
		settings              []debug.BuildSetting
		version, rev, builtAt string
	}{
		{"go build in a clone", [3]string{}, "v0.0.0-20260102030405-abcdef123456+dirty", vcs,
			"v0.0.0-20260102030405-abcdef123456+dirty", "abcdef1234567890-modified", "20260102-03:04:05"},
		{"go install module@version", [3]string{}, "v0.1.0", nil, "v0.1.0", "", ""},
		{"go run", [3]string{}, "(devel)", nil, "(devel)", "", ""},
		{"make build: ldflags win", [3]string{"705bf09", "705bf09aaaa", "20260101-00:00:00"}, "v9.9.9", vcs,
			"705bf09", "705bf09aaaa", "20260101-00:00:00"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			saveVersion(t)
			version.Version, version.Revision, version.BuildDate = tt.ldflags[0], tt.ldflags[1], tt.ldflags[2]
			fill(&debug.BuildInfo{Main: debug.Module{Version: tt.main}, Settings: tt.settings})
			if version.Version != tt.version || version.Revision != tt.rev || version.BuildDate != tt.builtAt {
				t.Errorf("version %q revision %q date %q, want %q %q %q",
					version.Version, version.Revision, version.BuildDate, tt.version, tt.rev, tt.builtAt)
			}
		})
	}
}

// Both binaries, built as `go run` builds them (no -ldflags, and no VCS
// information: the case that reported an empty version), report one.
func TestBinariesReportAVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries")
	}
	dir := t.TempDir()
	commands := []string{"wardentool", "warden_node_exporter"}
	args := []string{"build", "-buildvcs=false", "-o", dir + string(filepath.Separator)}
	for _, cmd := range commands {
		args = append(args, "github.com/warden-exporter/warden/cmd/"+cmd)
	}
	build := exec.Command("go", args...)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go %v: %v\n%s", args, err, out)
	}
	for _, cmd := range commands {
		out, err := exec.Command(filepath.Join(dir, cmd), "--version").CombinedOutput()
		if err != nil {
			t.Fatalf("%s --version: %v\n%s", cmd, err, out)
		}
		first, _, _ := strings.Cut(string(out), "\n")
		if strings.Contains(first, "version  (") || !strings.Contains(first, cmd+", version ") {
			t.Errorf("%s: %q, want a version", cmd, first)
		}
	}
}
