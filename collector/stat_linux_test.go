package collector

import "testing"

func TestStat(t *testing.T) {
	compareGolden(t, build(t, "stat", fixtureConfig()), "testdata/stat.prom")
}

func TestStatErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
	}{
		{"no /proc/stat", map[string]string{}},
		{"btime not a number", map[string]string{"stat": "cpu  1 2 3 4 5 6 7 8 9 10\nbtime soon\n"}},
		{"negative ctxt", map[string]string{"stat": "ctxt -4\n"}},
		{"short softirq line", map[string]string{"stat": "softirq 12 3\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.ProcPath = t.TempDir()
			writeFixtureFiles(t, cfg.ProcPath, tc.files)
			if _, err := scrapeValues(build(t, "stat", cfg)); err == nil {
				t.Fatal("Update succeeded")
			}
		})
	}
}
