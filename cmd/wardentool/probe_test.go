package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProbeUsage(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("scrape_configs:\n  - job_name: a\n    static_configs: [{targets: ['127.0.0.1:1']}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"probe"}, "no target"},
		{[]string{"probe", "--scrape-config", cfg, "--ca", "ca.crt"}, "--scrape-config takes the targets"},
		{[]string{"probe", "--job", "a", "127.0.0.1:1"}, "--job needs --scrape-config"},
		{[]string{"probe", "--scrape-config", cfg, "--job", "b"}, `no scrape job "b"`},
		{[]string{"probe", "--cert", "client.crt", "127.0.0.1:1"}, "key"},
	} {
		code, stdout, stderr := runTool(t, "", tt.args...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, %q, %q; want 2 and %q", tt.args, code, stdout, stderr, tt.want)
		}
	}
}

func TestProbeExitCodeAndJSON(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	code, stdout, _ := runTool(t, "", "probe", "--scheme", "http", closed)
	if code != 1 || !strings.HasPrefix(stdout, "FAIL "+closed+" [tcp_connect]: ") || strings.Count(stdout, "\n") != 1 {
		t.Errorf("probe of a closed port: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = runTool(t, "", "probe", "--scheme", "http", "--output", "json", closed, closed)
	var results []map[string]any
	if err := json.Unmarshal([]byte(stdout), &results); err != nil || code != 1 || len(results) != 2 || results[0]["cause"] != "tcp_connect" {
		t.Errorf("probe --output json: exit %d, %v\n%s", code, err, stdout)
	}
}
