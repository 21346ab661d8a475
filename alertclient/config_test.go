package alertclient

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		file string
		want string // substring of the error; "" for a good file
	}{
		{"full.good.yml", ""},
		{"minimal.good.yml", ""},
		{"unknown-key.bad.yml", "field timeuot not found"},
		{"no-alertmanagers.bad.yml", "alertmanagers: at least one is needed"},
		{"bad-scheme.bad.yml", `alertmanagers[0].urls[1]: "ftp://am:9093": scheme must be http or https`},
		{"credentials-in-url.bad.yml", "alertmanagers[0].urls[0]: \"https://user:xxxxx@am:9093\": put credentials in http_config"},
		{"two-auths.bad.yml", "at most one of basic_auth, oauth2 & authorization must be configured"},
		{"backoff.bad.yml", "retry: need 0 < initial_backoff <= max_backoff"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", tt.file)
			c, err := LoadConfig(path)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("got %v (config %+v), want an error naming %s and %q", err, c, path, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error repeats a credential: %v", err)
			}
		})
	}
}

func TestConfigDefaultsAndPaths(t *testing.T) {
	c, err := LoadConfig("testdata/minimal.good.yml")
	if err != nil {
		t.Fatal(err)
	}
	if c.BatchSize != DefaultBatchSize || time.Duration(c.Alertmanagers[0].Timeout) != DefaultTimeout ||
		time.Duration(c.Retry.InitialBackoff) != DefaultInitialBackoff || c.Spool.MaxBytes != DefaultSpoolMaxBytes {
		t.Errorf("defaults not applied: %+v", c)
	}
	c, err = LoadConfig("testdata/full.good.yml")
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs("testdata")
	if c.Spool.Directory != filepath.Join("testdata", "spool") && c.Spool.Directory != filepath.Join(abs, "spool") {
		t.Errorf("spool directory %q not resolved against the config's directory", c.Spool.Directory)
	}
	if got := c.Alertmanagers[0].HTTPConfig.BasicAuth.PasswordFile; !strings.HasSuffix(got, filepath.Join("testdata", "password")) {
		t.Errorf("password_file %q not resolved against the config's directory", got)
	}
}
