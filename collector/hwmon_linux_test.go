package collector

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The fixture has the chips of a few machines: coretemp, acpitz (no
// device), a nct6798 Super I/O with alarms, beeps and a faulty sensor, two
// hwmon directories of one asus-nb-wmi device, and i2c humidity, current
// and energy sensors.
func TestHwmon(t *testing.T) {
	compareGolden(t, build(t, "hwmon", fixtureConfig()), "testdata/hwmon.prom")
}

// hwmonPCIAndACPIFixture holds chips of devices whose sysfs paths have ":"
// (PCI and ACPI devices), which Go module zips do not allow in file names:
// they are written at test time. files are written as they are; links are
// symbolic links, as sysfs has them.
var hwmonPCIAndACPIFixture = struct {
	files, links map[string]string
}{
	files: map[string]string{
		// An NVMe drive.
		hwmonNVMe + "name":        "nvme\n",
		hwmonNVMe + "temp1_input": "38850\n",
		hwmonNVMe + "temp1_label": "Composite\n",
		hwmonNVMe + "temp1_max":   "84850\n",
		hwmonNVMe + "temp1_min":   "-273150\n",
		hwmonNVMe + "temp1_alarm": "0\n",
		hwmonNVMe + "temp1_crit":  "89850\n",
		hwmonNVMe + "temp2_input": "38850\n",
		hwmonNVMe + "temp2_label": "Sensor 1\n",
		hwmonNVMe + "temp2_max":   "65261850\n",
		hwmonNVMe + "temp2_min":   "-273150\n",
		// An ACPI power meter of an older kernel: the files are in the
		// device directory, beside a "power" directory that is skipped.
		hwmonACPI + "hwmon/hwmon4/uevent":         "",
		hwmonACPI + "hwmon/hwmon4/power/control":  "auto\n",
		hwmonACPI + "name":                        "power_meter\n",
		hwmonACPI + "power1_average":              "345000000\n",
		hwmonACPI + "power1_average_interval":     "1000\n",
		hwmonACPI + "power1_average_interval_max": "3600000\n",
		hwmonACPI + "power1_average_interval_min": "1000\n",
		hwmonACPI + "power1_accuracy":             "95.0%\n",
		hwmonACPI + "power1_cap":                  "450000000\n",
		hwmonACPI + "power1_cap_hyst":             "0\n",
		hwmonACPI + "power1_is_battery":           "0\n",
		hwmonACPI + "power1_model_number":         "DELL-PM-1\n",
		hwmonACPI + "power1_serial_number":        "\n",
		hwmonACPI + "power/control":               "auto\n",
		// An amdgpu, with labelled frequencies.
		hwmonAMDGPU + "name":            "amdgpu\n",
		hwmonAMDGPU + "freq1_input":     "500000000\n",
		hwmonAMDGPU + "freq1_label":     "sclk\n",
		hwmonAMDGPU + "freq2_input":     "96000000\n",
		hwmonAMDGPU + "freq2_label":     "mclk\n",
		hwmonAMDGPU + "in0_input":       "750\n",
		hwmonAMDGPU + "in0_label":       "vddgfx\n",
		hwmonAMDGPU + "power1_average":  "9000000\n",
		hwmonAMDGPU + "power1_cap":      "186000000\n",
		hwmonAMDGPU + "power1_cap_max":  "186000000\n",
		hwmonAMDGPU + "power1_cap_min":  "0\n",
		hwmonAMDGPU + "temp1_input":     "45000\n",
		hwmonAMDGPU + "temp1_label":     "edge\n",
		hwmonAMDGPU + "temp1_crit":      "100000\n",
		hwmonAMDGPU + "temp1_crit_hyst": "-273150\n",
		hwmonAMDGPU + "fan1_input":      "0\n",
		hwmonAMDGPU + "fan1_min":        "0\n",
		hwmonAMDGPU + "fan1_max":        "3300\n",
		hwmonAMDGPU + "fan1_target":     "0\n",
		hwmonAMDGPU + "fan1_enable":     "0\n",
		hwmonAMDGPU + "pwm1":            "0\n",
		hwmonAMDGPU + "pwm1_enable":     "2\n",
		hwmonAMDGPU + "pwm1_min":        "0\n",
		hwmonAMDGPU + "pwm1_max":        "255\n",
	},
	links: map[string]string{
		hwmonNVMe + "device":              "../../nvme0",
		"class/hwmon/hwmon2":              "../../" + hwmonNVMe,
		hwmonACPI + "hwmon/hwmon4/device": "../../../ACPI000D:00",
		"class/hwmon/hwmon4":              "../../" + hwmonACPI + "hwmon/hwmon4",
		hwmonAMDGPU + "device":            "../../../0000:01:00.0",
		"class/hwmon/hwmon7":              "../../" + hwmonAMDGPU,
	},
}

const (
	hwmonNVMe   = "devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/hwmon2/"
	hwmonACPI   = "devices/LNXSYSTM:00/LNXSYBUS:00/ACPI000D:00/"
	hwmonAMDGPU = "devices/pci0000:00/0000:00:01.1/0000:01:00.0/hwmon/hwmon7/"
)

// The chip labels of PCI and ACPI devices keep the ":" of their bus
// addresses: "nvme_nvme0", "lnxsybus:00_acpi000d:00",
// "0000:00:01_1_0000:01:00_0".
func TestHwmonPCIAndACPI(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, hwmonPCIAndACPIFixture.files)
	for link, target := range hwmonPCIAndACPIFixture.links {
		hwmonSymlink(t, cfg.SysPath, link, target)
	}
	compareGolden(t, build(t, "hwmon", cfg), "testdata/hwmon_pci_acpi.prom")
}

func TestHwmonFilters(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts HwmonOptions
		want string
	}{
		{
			// The filter sees the chip label after the asus chips were told apart.
			name: "chip include",
			opts: HwmonOptions{ChipInclude: "^platform_asus_nb_wmi_asus$"},
			want: `node_hwmon_fan_rpm{chip="platform_asus_nb_wmi_asus",sensor="fan1"} 2900
`,
		},
		{
			name: "chip exclude",
			opts: HwmonOptions{ChipExclude: "^(platform_asus_nb_wmi_.*|platform_nct6775_656)$"},
			want: ``,
		},
		{
			name: "sensor include",
			opts: HwmonOptions{SensorInclude: "^platform_nct6775_656;fan2$"},
			want: `node_hwmon_fan_rpm{chip="platform_nct6775_656",sensor="fan2"} 0
`,
		},
		{
			name: "sensor exclude",
			opts: HwmonOptions{SensorExclude: ";fan1$"},
			want: `node_hwmon_fan_rpm{chip="platform_nct6775_656",sensor="fan2"} 0
`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.Hwmon = tc.opts
			want := "# HELP node_hwmon_fan_rpm Hardware monitor for fan revolutions per minute (input)\n# TYPE node_hwmon_fan_rpm gauge\n" + tc.want
			if tc.want == "" {
				want = ""
			}
			err := testutil.CollectAndCompare(adapter{t: t, c: build(t, "hwmon", cfg)}, strings.NewReader(want), "node_hwmon_fan_rpm")
			if err != nil {
				t.Error(err)
			}
		})
	}
}

func TestHwmonBadFilters(t *testing.T) {
	for _, opts := range []HwmonOptions{
		{ChipInclude: "a", ChipExclude: "b"},
		{SensorInclude: "a", SensorExclude: "b"},
		{ChipInclude: "(coretemp"},
		{SensorExclude: "[temp"},
	} {
		cfg := fixtureConfig()
		cfg.Hwmon = opts
		if _, err := factories["hwmon"].build(cfg); err == nil {
			t.Errorf("built with %+v", opts)
		}
	}
}

// hwmonSymlink makes link (under dir) point to target, as sysfs does.
func hwmonSymlink(t *testing.T, dir, link, target string) {
	t.Helper()
	path := filepath.Join(dir, link)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

// Two hwmon directories of one device with the same name file are told
// apart by their hwmonN directory; a chip with neither device nor name is
// named after its directory; a dangling link is skipped.
func TestHwmonChipNames(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	smm := "devices/platform/dell_smm_hwmon/hwmon/"
	writeFixtureFiles(t, cfg.SysPath, map[string]string{
		smm + "hwmon1/name":                        "dell_smm\n",
		smm + "hwmon1/fan1_input":                  "1200\n",
		smm + "hwmon2/name":                        "dell_smm\n",
		smm + "hwmon2/temp1_input":                 "40000\n",
		"devices/virtual/hwmon/hwmon3/temp1_input": "30000\n",
		// A label that is not UTF-8.
		"devices/virtual/hwmon/hwmon3/temp1_label": "Ambient \xb0\n",
	})
	hwmonSymlink(t, cfg.SysPath, smm+"hwmon1/device", "../../../dell_smm_hwmon")
	hwmonSymlink(t, cfg.SysPath, smm+"hwmon2/device", "../../../dell_smm_hwmon")
	hwmonSymlink(t, cfg.SysPath, "class/hwmon/hwmon1", "../../"+smm+"hwmon1")
	hwmonSymlink(t, cfg.SysPath, "class/hwmon/hwmon2", "../../"+smm+"hwmon2")
	hwmonSymlink(t, cfg.SysPath, "class/hwmon/hwmon3", "../../devices/virtual/hwmon/hwmon3")
	hwmonSymlink(t, cfg.SysPath, "class/hwmon/hwmon4", "../../devices/virtual/hwmon/gone")

	want := `# HELP node_hwmon_chip_names Annotation metric for human-readable chip names
# TYPE node_hwmon_chip_names gauge
node_hwmon_chip_names{chip="platform_dell_smm_hwmon_hwmon1",chip_name="dell_smm"} 1
node_hwmon_chip_names{chip="platform_dell_smm_hwmon_hwmon2",chip_name="dell_smm"} 1
# HELP node_hwmon_fan_rpm Hardware monitor for fan revolutions per minute (input)
# TYPE node_hwmon_fan_rpm gauge
node_hwmon_fan_rpm{chip="platform_dell_smm_hwmon_hwmon1",sensor="fan1"} 1200
# HELP node_hwmon_sensor_label Label for given chip and sensor
# TYPE node_hwmon_sensor_label gauge
node_hwmon_sensor_label{chip="hwmon3",label="Ambient ` + "\uFFFD" + `",sensor="temp1"} 1
# HELP node_hwmon_temp_celsius Hardware monitor for temperature (input)
# TYPE node_hwmon_temp_celsius gauge
node_hwmon_temp_celsius{chip="hwmon3",sensor="temp1"} 30
node_hwmon_temp_celsius{chip="platform_dell_smm_hwmon_hwmon2",sensor="temp1"} 40
`
	if err := testutil.CollectAndCompare(adapter{t: t, c: build(t, "hwmon", cfg)}, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestHwmonNoData(t *testing.T) {
	requireNoData(t, "hwmon", []sysTree{
		{"no hwmon class", nil},
		{"no chip", []string{"class/hwmon"}},
	})
}

// Values that are not numbers are left out, not failures: drivers put text
// in some files.
func TestHwmonTextValues(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, map[string]string{
		"class/hwmon/hwmon0/name":        "it8728\n",
		"class/hwmon/hwmon0/temp1_input": "N/A\n",
		"class/hwmon/hwmon0/vrm":         "unknown\n",
		"class/hwmon/hwmon0/in0_input":   "1104\n",
	})
	want := `# HELP node_hwmon_chip_names Annotation metric for human-readable chip names
# TYPE node_hwmon_chip_names gauge
node_hwmon_chip_names{chip="it8728",chip_name="it8728"} 1
# HELP node_hwmon_in_volts Hardware monitor for voltage (input)
# TYPE node_hwmon_in_volts gauge
node_hwmon_in_volts{chip="it8728",sensor="in0"} 1.104
`
	if err := testutil.CollectAndCompare(adapter{t: t, c: build(t, "hwmon", cfg)}, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestHwmonSplitFileName(t *testing.T) {
	for _, tc := range []struct {
		file, sensorType, element string
		num                       int
		ok                        bool
	}{
		{"temp1_crit_alarm", "temp", "crit_alarm", 1, true},
		{"in0_input", "in", "input", 0, true},
		{"pwm1", "pwm", "", 1, true},
		{"pwm1_auto_point1_pwm", "pwm", "auto_point1_pwm", 1, true},
		{"beep_enable", "beep_enable", "", 0, true},
		{"update_interval", "update_interval", "", 0, true},
		{"energy17_input", "energy", "input", 17, true},
		{"1_input", "", "", 0, false},
		{"fan99999999999999999999_input", "", "", 0, false},
	} {
		sensorType, num, element, ok := hwmonSplitFileName(tc.file)
		if sensorType != tc.sensorType || num != tc.num || element != tc.element || ok != tc.ok {
			t.Errorf("hwmonSplitFileName(%q) = %q, %d, %q, %v; want %q, %d, %q, %v",
				tc.file, sensorType, num, element, ok, tc.sensorType, tc.num, tc.element, tc.ok)
		}
	}
}

// A chip whose directory cannot be listed fails the scrape; the other
// chips are still sent.
func TestHwmonUnreadableChip(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, map[string]string{
		"class/hwmon/hwmon0/name":        "acpitz\n",
		"class/hwmon/hwmon0/temp1_input": "27800\n",
		"class/hwmon/hwmon1/name":        "broken\n",
		// device must be a directory; here it cannot be listed.
		"class/hwmon/hwmon1/device": "",
	})
	metrics, err := drainCollector(build(t, "hwmon", cfg))
	if err == nil || errors.Is(err, ErrNoData) {
		t.Fatalf("Update = %v, want an error", err)
	}
	if len(metrics) != 2 {
		t.Errorf("sent %d metrics, want the 2 of acpitz", len(metrics))
	}
}
