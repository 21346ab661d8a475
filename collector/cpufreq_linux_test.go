package collector

import (
	"errors"
	"testing"
)

// The fixture has four CPUs with cpufreq, of three kinds: acpi-cpufreq with
// cpuinfo_cur_freq (cpu0, cpu1), intel_pstate with cpuinfo_avg_freq (cpu2),
// and one whose scaling_cur_freq reads "<unknown>" (cpu3), which is left
// out. cpu4 is offline.
func TestCPUFreq(t *testing.T) {
	compareGolden(t, build(t, "cpufreq", fixtureConfig()), "testdata/cpufreq.prom")
}

func TestCPUFreqNoData(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
	}{
		{"no cpu directory", nil},
		{"no cpufreq directory", map[string]string{
			"devices/system/cpu/offline":     "\n",
			"devices/system/cpu/cpu0/online": "1\n",
		}},
		{"cpufreq on offline cpus only", map[string]string{
			"devices/system/cpu/offline":                                  "1\n",
			"devices/system/cpu/cpu0/online":                              "1\n",
			"devices/system/cpu/cpu1/cpufreq/cpuinfo_max_freq":            "3600000\n",
			"devices/system/cpu/cpu1/cpufreq/related_cpus":                "1\n",
			"devices/system/cpu/cpu1/cpufreq/scaling_available_governors": "performance powersave\n",
			"devices/system/cpu/cpu1/cpufreq/scaling_driver":              "intel_pstate\n",
			"devices/system/cpu/cpu1/cpufreq/scaling_governor":            "powersave\n",
			"devices/system/cpu/cpu1/cpufreq/scaling_setspeed":            "<unsupported>\n",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.SysPath = t.TempDir()
			writeFixtureFiles(t, cfg.SysPath, tc.files)
			metrics, err := drainCollector(build(t, "cpufreq", cfg))
			if !errors.Is(err, ErrNoData) || len(metrics) != 0 {
				t.Fatalf("Update = %v with %d metrics, want ErrNoData and none", err, len(metrics))
			}
		})
	}
}

func TestCPUFreqBadFiles(t *testing.T) {
	cpufreq := func(files map[string]string) map[string]string {
		all := map[string]string{
			"devices/system/cpu/offline":                                    "\n",
			"devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq":              "3600000\n",
			"devices/system/cpu/cpu0/cpufreq/related_cpus":                  "0\n",
			"devices/system/cpu/cpu0/cpufreq/scaling_available_governors":   "performance powersave\n",
			"devices/system/cpu/cpu0/cpufreq/scaling_driver":                "intel_pstate\n",
			"devices/system/cpu/cpu0/cpufreq/scaling_governor":              "powersave\n",
			"devices/system/cpu/cpu0/cpufreq/scaling_setspeed":              "<unsupported>\n",
			"devices/system/cpu/cpu0/cpufreq/stats/total_trans":             "12\n",
			"devices/system/cpu/cpu0/cpufreq/energy_performance_preference": "balance_performance\n",
		}
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
		{"malformed frequency", cpufreq(map[string]string{"devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq": "fast\n"})},
		{"malformed offline list", cpufreq(map[string]string{"devices/system/cpu/offline": "1-x\n"})},
		{"no scaling_governor", cpufreq(map[string]string{"devices/system/cpu/cpu0/cpufreq/scaling_governor": ""})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.SysPath = t.TempDir()
			writeFixtureFiles(t, cfg.SysPath, tc.files)
			_, err := drainCollector(build(t, "cpufreq", cfg))
			if err == nil || errors.Is(err, ErrNoData) {
				t.Fatalf("Update = %v, want an error", err)
			}
		})
	}
}
