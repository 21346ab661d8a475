// Package buildinfo completes github.com/prometheus/common/version from the
// Go toolchain's build information when a binary was built without the
// Makefile's -ldflags (`go run`, `go build`, `go install`), so that
// --version and <binary>_build_info name the module version and commit
// instead of nothing. A value set with -ldflags is never replaced. Import
// it for its effect, from main packages only:
//
//	import _ "github.com/warden-exporter/warden/internal/buildinfo"
//
// What the toolchain records: `go install module@v1.2.3` gives v1.2.3; a
// build in a git clone gives a pseudo-version such as
// v0.0.0-20260101120000-abcdef123456 (+dirty with local changes), the
// commit and its time; `go run` records none of these, and the version is
// "(devel)".
package buildinfo

import (
	"runtime/debug"
	"time"

	"github.com/prometheus/common/version"
)

// version's fields are package variables that -ldflags -X sets; filling
// them at init is the only way to reach every reader (the version flag,
// the build_info metric, the start-up log line) without changing them.
func init() {
	if bi, ok := debug.ReadBuildInfo(); ok {
		fill(bi)
	}
}

// fill sets each of version's empty fields that bi knows.
func fill(bi *debug.BuildInfo) {
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	revision := settings["vcs.revision"]
	if revision != "" && settings["vcs.modified"] == "true" {
		revision += "-modified" // what version.GetRevision says too
	}
	var date string
	if t, err := time.Parse(time.RFC3339, settings["vcs.time"]); err == nil {
		date = t.UTC().Format("20060102-15:04:05") // the Makefile's BUILD_DATE format
	}
	setIfEmpty(&version.Version, bi.Main.Version)
	setIfEmpty(&version.Revision, revision)
	setIfEmpty(&version.BuildDate, date)
}

func setIfEmpty(field *string, value string) {
	if *field == "" {
		*field = value
	}
}
