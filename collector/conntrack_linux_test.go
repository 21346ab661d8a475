package collector

import (
	"errors"
	"testing"
)

func TestConntrack(t *testing.T) {
	compareGolden(t, build(t, "conntrack", fixtureConfig()), "testdata/conntrack.prom")
}

const conntrackStatHeader = "entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart\n"

func TestConntrackNoData(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		sent  int // metrics sent before the missing file
	}{{
		name: "module not loaded",
	}, {
		name: "no statistics",
		files: map[string]string{
			"sys/net/netfilter/nf_conntrack_count": "12\n",
			"sys/net/netfilter/nf_conntrack_max":   "65536\n",
		},
		sent: 2,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.ProcPath = t.TempDir()
			writeFixtureFiles(t, cfg.ProcPath, tc.files)
			metrics, err := drainCollector(build(t, "conntrack", cfg))
			if !errors.Is(err, ErrNoData) {
				t.Errorf("Update: %v, want ErrNoData", err)
			}
			if len(metrics) != tc.sent {
				t.Errorf("sent %d metrics, want %d", len(metrics), tc.sent)
			}
		})
	}
}

func TestConntrackMalformed(t *testing.T) {
	good := map[string]string{
		"sys/net/netfilter/nf_conntrack_count": "12\n",
		"sys/net/netfilter/nf_conntrack_max":   "65536\n",
		"net/stat/nf_conntrack": conntrackStatHeader +
			"0000000c  00000000 00000001 00000000 00000000 00000002 00000000 00000000 00000003 00000000 00000000 00000000 00000000  00000000 00000000 00000000 00000000\n",
	}
	for name, change := range map[string]map[string]string{
		"count not a number": {"sys/net/netfilter/nf_conntrack_count": "many\n"},
		"empty max":          {"sys/net/netfilter/nf_conntrack_max": ""},
		"short stat line":    {"net/stat/nf_conntrack": conntrackStatHeader + "0000000c 00000000 00000001\n"},
		"stat not hex":       {"net/stat/nf_conntrack": conntrackStatHeader + "0000000c  zzzzzzzz 00000001 00000000 00000000 00000002 00000000 00000000 00000003 00000000 00000000 00000000 00000000  00000000 00000000 00000000 00000000\n"},
	} {
		t.Run(name, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range good {
				files[k] = v
			}
			for k, v := range change {
				files[k] = v
			}
			cfg := fixtureConfig()
			cfg.ProcPath = t.TempDir()
			writeFixtureFiles(t, cfg.ProcPath, files)
			if _, err := drainCollector(build(t, "conntrack", cfg)); err == nil || errors.Is(err, ErrNoData) {
				t.Errorf("Update: %v, want an error", err)
			}
		})
	}
	t.Run("good", func(t *testing.T) {
		cfg := fixtureConfig()
		cfg.ProcPath = t.TempDir()
		writeFixtureFiles(t, cfg.ProcPath, good)
		if _, err := drainCollector(build(t, "conntrack", cfg)); err != nil {
			t.Errorf("Update: %v", err)
		}
	})
}
