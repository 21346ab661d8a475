package collector

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestDMI(t *testing.T) {
	compareGolden(t, build(t, "dmi", fixtureConfig()), "testdata/dmi.prom")
}

func TestDMIFewFiles(t *testing.T) {
	// A virtual machine read by a user other than root: only some files,
	// and one with bytes that are not UTF-8.
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, map[string]string{
		"class/dmi/id/bios_vendor":  "SeaBIOS\n",
		"class/dmi/id/product_name": "Standard PC (Q35 + ICH9, 2009)\n",
		"class/dmi/id/sys_vendor":   "QEMU\xff\n",
		"class/dmi/id/chassis_type": "1\n",
		"class/dmi/id/modalias":     "dmi:bvnSeaBIOS:svnQEMU:\n",
	})
	want := `# HELP node_dmi_info ` + dmiInfoHelp + `
# TYPE node_dmi_info gauge
node_dmi_info{bios_vendor="SeaBIOS",product_name="Standard PC (Q35 + ICH9, 2009)",system_vendor="QEMU` + "\uFFFD" + `"} 1
`
	if err := testutil.CollectAndCompare(adapter{t: t, c: build(t, "dmi", cfg)}, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestDMINoData(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
	}{
		{"no dmi directory", nil},
		{"only files node_exporter does not expose", map[string]string{
			"class/dmi/id/chassis_type": "1\n",
			"class/dmi/id/uevent":       "MODALIAS=dmi:\n",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.SysPath = t.TempDir()
			writeFixtureFiles(t, cfg.SysPath, tc.files)
			metrics, err := drainCollector(build(t, "dmi", cfg))
			if !errors.Is(err, ErrNoData) || len(metrics) != 0 {
				t.Fatalf("Update = %v with %d metrics, want ErrNoData and none", err, len(metrics))
			}
		})
	}
}
