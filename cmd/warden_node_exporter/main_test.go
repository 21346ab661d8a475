package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunExitCodes(t *testing.T) {
	badConfig := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(badConfig, []byte("basic_auth_users:\n  prometheus: plaintext\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr []string
	}{
		{"help", []string{"--help"}, 0, "--web.config.file", nil},
		{"version", []string{"--version"}, 0, "", []string{"warden_node_exporter, version"}},
		{"unknown flag", []string{"--web.nosuch"}, 2, "", []string{"unknown long flag '--web.nosuch'"}},
		{"plaintext password", []string{"--web.config.file=" + badConfig, "--web.listen-address=127.0.0.1:0"}, 1, "",
			[]string{badConfig, `user \"prometheus\": password is not a bcrypt hash`}},
		{"bad collector option", []string{"--collector.filesystem.mount-points-include=x", "--collector.filesystem.mount-points-exclude=y", "--web.listen-address=127.0.0.1:0"}, 1, "",
			[]string{"mutually exclusive"}},
		{"explicit insecure address", []string{"--web.listen-address=0.0.0.0:0"}, 1, "",
			[]string{"0.0.0.0:0", "--web.allow-insecure", "no TLS and no authentication"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantStdout, stdout.String())
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr.String(), w) && !strings.Contains(stdout.String(), w) {
					t.Errorf("output lacks %q:\n%s%s", w, stdout.String(), stderr.String())
				}
			}
		})
	}
}
