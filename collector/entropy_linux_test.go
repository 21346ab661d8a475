package collector

import (
	"os"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestEntropy does not use compareGolden: node_exporter's names end in
// _bits, which the linter wants in bytes, and dashboards need them as they are.
func TestEntropy(t *testing.T) {
	want, err := os.Open("testdata/entropy.prom")
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	a := adapter{t: t, c: build(t, "entropy", fixtureConfig())}
	if err := testutil.CollectAndCompare(a, want); err != nil {
		t.Error(err)
	}
	problems, err := testutil.CollectAndLint(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if p.Text != `use base unit "bytes" instead of "bits"` {
			t.Errorf("lint %s: %s", p.Metric, p.Text)
		}
	}
}

func TestEntropyBadFiles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
	}{
		{"no random directory", nil},
		{"no entropy_avail", map[string]string{"sys/kernel/random/poolsize": "256\n"}},
		{"no poolsize", map[string]string{"sys/kernel/random/entropy_avail": "256\n"}},
		{"malformed entropy_avail", map[string]string{
			"sys/kernel/random/entropy_avail": "lots\n",
			"sys/kernel/random/poolsize":      "256\n",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.ProcPath = t.TempDir()
			writeFixtureFiles(t, cfg.ProcPath, tc.files)
			metrics, err := drainCollector(build(t, "entropy", cfg))
			if err == nil {
				t.Fatalf("Update succeeded and sent %d metrics", len(metrics))
			}
		})
	}
}
