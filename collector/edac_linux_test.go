package collector

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The fixture has two controllers; mc0 has csrows with labelled DIMMs, one
// in the kernel's default "mc#0csrow#1channel#0" spelling and one channel
// without a label.
func TestEDAC(t *testing.T) {
	compareGolden(t, build(t, "edac", fixtureConfig()), "testdata/edac.prom")
}

func TestEDACChannelUncorrectable(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, map[string]string{
		"devices/system/edac/mc/mc0/ce_count":              "0\n",
		"devices/system/edac/mc/mc0/ce_noinfo_count":       "0\n",
		"devices/system/edac/mc/mc0/ue_count":              "4\n",
		"devices/system/edac/mc/mc0/ue_noinfo_count":       "0\n",
		"devices/system/edac/mc/mc0/csrow2/ce_count":       "0\n",
		"devices/system/edac/mc/mc0/csrow2/ue_count":       "4\n",
		"devices/system/edac/mc/mc0/csrow2/ch3_ce_count":   "0\n",
		"devices/system/edac/mc/mc0/csrow2/ch3_ue_count":   "4\n",
		"devices/system/edac/mc/mc0/csrow2/ch3_dimm_label": "DIMM_B2\n",
	})
	want := `# HELP node_edac_channel_uncorrectable_errors_total Total uncorrectable memory errors for this channel.
# TYPE node_edac_channel_uncorrectable_errors_total counter
node_edac_channel_uncorrectable_errors_total{channel="3",controller="0",csrow="2",dimm_label="DIMM_B2"} 4
`
	c := build(t, "edac", cfg)
	if err := testutil.CollectAndCompare(adapter{t: t, c: c}, strings.NewReader(want), "node_edac_channel_uncorrectable_errors_total"); err != nil {
		t.Error(err)
	}
}

func TestEDACNoData(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
	}{
		{"no edac directory", nil},
		{"no memory controller", map[string]string{"devices/system/edac/mc/power/control": "auto\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.SysPath = t.TempDir()
			writeFixtureFiles(t, cfg.SysPath, tc.files)
			metrics, err := drainCollector(build(t, "edac", cfg))
			if !errors.Is(err, ErrNoData) || len(metrics) != 0 {
				t.Fatalf("Update = %v with %d metrics, want ErrNoData and none", err, len(metrics))
			}
		})
	}
}

func TestEDACBadFiles(t *testing.T) {
	controller := map[string]string{
		"devices/system/edac/mc/mc0/ce_count":        "0\n",
		"devices/system/edac/mc/mc0/ce_noinfo_count": "0\n",
		"devices/system/edac/mc/mc0/ue_count":        "0\n",
		"devices/system/edac/mc/mc0/ue_noinfo_count": "0\n",
	}
	with := func(files map[string]string) map[string]string {
		all := maps.Clone(controller)
		for name, content := range files {
			if content == "" {
				delete(all, name)
				continue
			}
			all[name] = content
		}
		return all
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
	}{
		{"no ue_noinfo_count", with(map[string]string{"devices/system/edac/mc/mc0/ue_noinfo_count": ""})},
		{"malformed ce_count", with(map[string]string{"devices/system/edac/mc/mc0/ce_count": "-1\n"})},
		{"csrow without ue_count", with(map[string]string{"devices/system/edac/mc/mc0/csrow0/ce_count": "0\n"})},
		{"malformed channel count", with(map[string]string{
			"devices/system/edac/mc/mc0/csrow0/ce_count":     "0\n",
			"devices/system/edac/mc/mc0/csrow0/ue_count":     "0\n",
			"devices/system/edac/mc/mc0/csrow0/ch0_ce_count": "many\n",
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.SysPath = t.TempDir()
			writeFixtureFiles(t, cfg.SysPath, tc.files)
			_, err := drainCollector(build(t, "edac", cfg))
			if err == nil || errors.Is(err, ErrNoData) {
				t.Fatalf("Update = %v, want an error", err)
			}
		})
	}
}
