package collector

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestVMStat(t *testing.T) {
	compareGolden(t, build(t, "vmstat", fixtureConfig()), "testdata/vmstat.prom")
}

func TestVMStatFields(t *testing.T) {
	for _, tc := range []struct {
		fields string
		want   string // names sent, comma-separated
	}{
		{`^nr_(dirty|writeback)$`, "node_vmstat_nr_dirty,node_vmstat_nr_writeback"},
		{`^thp_split_p`, "node_vmstat_thp_split_page,node_vmstat_thp_split_page_failed,node_vmstat_thp_split_pmd,node_vmstat_thp_split_pud"},
		{`^no_such_field$`, ""},
	} {
		t.Run(tc.fields, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.VMStat.Fields = tc.fields
			values, err := scrapeValues(build(t, "vmstat", cfg))
			if err != nil {
				t.Fatal(err)
			}
			got := slices.Sorted(maps.Keys(values))
			if strings.Join(got, ",") != tc.want {
				t.Errorf("sent %v, want %s", got, tc.want)
			}
		})
	}
}

func TestVMStatBadFields(t *testing.T) {
	cfg := fixtureConfig().withDefaults()
	cfg.VMStat.Fields = "(pg"
	if _, err := newVMStatCollector(cfg); err == nil {
		t.Fatal("built with an invalid regexp")
	}
}

func TestVMStatErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
	}{
		{"no /proc/vmstat", map[string]string{}},
		// As in node_exporter, a field not sent must still parse.
		{"value not a number", map[string]string{"vmstat": "pgpgin 12\nnr_dirty many\n"}},
		{"value missing", map[string]string{"vmstat": "pgpgin\n"}},
		{"extra column", map[string]string{"vmstat": "pgpgin 12 13\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.ProcPath = t.TempDir()
			writeFixtureFiles(t, cfg.ProcPath, tc.files)
			if _, err := scrapeValues(build(t, "vmstat", cfg)); err == nil {
				t.Fatal("Update succeeded")
			}
		})
	}
}
