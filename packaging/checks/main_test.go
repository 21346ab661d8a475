package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// context makes a build context holding a copy of this test's executable as
// bin/warden_node_exporter, and the given .dockerignore.
func context(t *testing.T, dockerignore string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := checkStatic(exe); err != nil {
		t.Skipf("the test binary must be static (CGO_ENABLED=0): %v", err)
	}
	dir := t.TempDir()
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "warden_node_exporter"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	if dockerignore != "" {
		if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte(dockerignore), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestCheckDockerfile(t *testing.T) {
	const good = `FROM golang:1.26 AS build
RUN true
FROM gcr.io/distroless/static-debian12:nonroot
COPY bin/warden_node_exporter /usr/bin/
USER 65532:65532
EXPOSE 9100
ENTRYPOINT ["/usr/bin/warden_node_exporter"]
`
	ignoreAllButBinary := "*\n!bin/warden_node_exporter\n"
	tests := []struct {
		name, dockerfile, dockerignore string
		want                           []string // substrings of the problems, in order
	}{
		{"good", good, ignoreAllButBinary, nil},
		{"good without .dockerignore", good, "", nil},
		{"root user", strings.Replace(good, "USER 65532:65532", "USER root", 1), "", []string{`runs as root (USER "root")`}},
		{"no user", strings.Replace(good, "USER 65532:65532\n", "", 1), "", []string{`runs as root (USER "")`}},
		{"user only in the build stage", "FROM golang:1.26\nUSER 1000\n" + strings.Replace(good, "USER 65532:65532\n", "", 1), "", []string{"runs as root"}},
		{"other port", strings.Replace(good, "EXPOSE 9100", "EXPOSE 8080", 1), "", []string{"EXPOSE [8080]: want 9100"}},
		{"debian base", strings.Replace(good, "gcr.io/distroless/static-debian12:nonroot", "debian:12", 1), "", []string{"FROM [debian:12]"}},
		{"shell entrypoint", strings.Replace(good, `["/usr/bin/warden_node_exporter"]`, "/usr/bin/warden_node_exporter", 1), "", []string{"shell form"}},
		{"source excluded", good, "bin/\n", []string{"COPY bin/warden_node_exporter: excluded by .dockerignore", "ENTRYPOINT"}},
		{"source missing", strings.Replace(good, "bin/warden_node_exporter /usr", "bin/wardentool /usr", 1), "", []string{"COPY bin/wardentool: not in the build context", "ENTRYPOINT"}},
		{"ADD", strings.Replace(good, "COPY", "ADD", 1), "", []string{"ADD: use COPY", "ENTRYPOINT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := context(t, tt.dockerignore)
			path := filepath.Join(t.TempDir(), "Dockerfile")
			if err := os.WriteFile(path, []byte(tt.dockerfile), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := checkDockerfile(path, dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("problems %q, want %d matching %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

func TestCheckStatic(t *testing.T) {
	if err := checkStatic("/bin/sh"); err == nil || !strings.Contains(err.Error(), "dynamically linked") {
		t.Errorf("checkStatic(/bin/sh) = %v, want dynamically linked", err)
	}
	text := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(text, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := checkStatic(text); err == nil {
		t.Error("checkStatic(a shell script) = nil, want an error")
	}
}

func TestRunUsage(t *testing.T) {
	if code := run(nil, io.Discard, io.Discard); code != 2 {
		t.Errorf("run() = %d, want 2", code)
	}
}
