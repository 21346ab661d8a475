package alertclient

// A fuzz target for --alert.config.file, which wardentool and
// warden_node_exporter read.

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v2"
)

// FuzzLoadConfig checks LoadConfig. Every error names the file. A file it
// accepts has its defaults applied (no zero that would make a client
// panic, loop or fail every request), only http(s) Alertmanager URLs with
// a host and no credentials, a spool directory taken from the file's
// directory, and follow_redirects true only where the file says so. New
// builds a client from it, or says which http_config it cannot use.
func FuzzLoadConfig(f *testing.F) {
	addFixtureFiles(f, "testdata/*.yml")
	dir := f.TempDir()
	path := filepath.Join(dir, "alert.yml")
	f.Fuzz(func(t *testing.T, content []byte) {
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := LoadConfig(path)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "alert config "+path+": ") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		var raw struct {
			Alertmanagers []struct {
				HTTPConfig map[string]any `yaml:"http_config"`
			} `yaml:"alertmanagers"`
		}
		_ = yaml.Unmarshal(content, &raw) // LoadConfig read it strictly
		if len(c.Alertmanagers) == 0 || len(raw.Alertmanagers) != len(c.Alertmanagers) {
			t.Fatalf("%d alertmanagers accepted, %d in the file", len(c.Alertmanagers), len(raw.Alertmanagers))
		}
		for i, am := range c.Alertmanagers {
			if len(am.URLs) == 0 || am.Timeout <= 0 {
				t.Errorf("alertmanagers[%d]: %d URLs, timeout %v", i, len(am.URLs), am.Timeout)
			}
			for _, u := range am.URLs {
				if _, err := parseAlertmanagerURL(u); err != nil {
					t.Errorf("alertmanagers[%d]: accepted URL: %v", i, err)
				}
			}
			if _, given := raw.Alertmanagers[i].HTTPConfig["follow_redirects"]; am.HTTPConfig.FollowRedirects && !given {
				t.Errorf("alertmanagers[%d]: follows redirects, which the file does not say", i)
			}
		}
		if c.Retry.InitialBackoff <= 0 || c.Retry.MaxBackoff < c.Retry.InitialBackoff || c.BatchSize <= 0 || c.Spool.MaxBytes <= 0 {
			t.Errorf("accepted retry %+v, batch size %d, spool max bytes %d", c.Retry, c.BatchSize, c.Spool.MaxBytes)
		}
		if d := c.Spool.Directory; d != "" && !filepath.IsAbs(d) {
			t.Errorf("spool directory %q not taken from the file's directory", d)
		}

		// New would create the spool directory, and reads a CA file at
		// once: keep it to what the input holds.
		if strings.Contains(string(content), "file") {
			return
		}
		c.Spool.Directory = ""
		if _, err := New(Options{Config: c, Logger: slog.New(slog.DiscardHandler)}); err != nil && !strings.HasPrefix(err.Error(), "alertmanagers[") {
			t.Errorf("LoadConfig accepted what New refuses without naming the entry: %v", err)
		}
	})
}

// addFixtureFiles adds the files matching pattern as seeds.
func addFixtureFiles(f *testing.F, pattern string) {
	f.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures %s: %v", pattern, err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}
