package collector

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fixtureNow is the clock of the time tests: half a second past a whole
// second, in a zone east of UTC.
func fixtureNow() time.Time {
	return time.Unix(1717231843, 500_000_000).In(time.FixedZone("CEST", 2*60*60))
}

func fixtureTimeCollector(t *testing.T, cfg Config) *timeCollector {
	t.Helper()
	c := build(t, "time", cfg).(*timeCollector)
	c.now = fixtureNow
	return c
}

func TestTime(t *testing.T) {
	compareGolden(t, fixtureTimeCollector(t, fixtureConfig()), "testdata/time.prom")
}

func TestTimeClocksources(t *testing.T) {
	for _, tc := range []struct {
		name    string
		files   map[string]string
		want    []string // series of the clocksource families
		wantErr bool
	}{{
		// A kernel without clock source devices in sysfs.
		name: "no clocksource directory",
	}, {
		name: "one clocksource",
		files: map[string]string{
			"devices/system/clocksource/clocksource0/available_clocksource": "kvm-clock \n",
			"devices/system/clocksource/clocksource0/current_clocksource":   "kvm-clock\n",
		},
		want: []string{
			`node_time_clocksource_available_info{clocksource="kvm-clock",device="0"}`,
			`node_time_clocksource_current_info{clocksource="kvm-clock",device="0"}`,
		},
	}, {
		name: "no current_clocksource",
		files: map[string]string{
			"devices/system/clocksource/clocksource0/available_clocksource": "tsc hpet\n",
		},
		wantErr: true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.SysPath = t.TempDir()
			writeFixtureFiles(t, cfg.SysPath, tc.files)
			values, err := scrapeValues(fixtureTimeCollector(t, cfg))
			if tc.wantErr {
				if err == nil {
					t.Fatal("Update succeeded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for key := range values {
				if strings.HasPrefix(key, "node_time_clocksource_") {
					got = append(got, key)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("sent %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTimeNoSysfs(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = filepath.Join(t.TempDir(), "missing")
	if _, err := scrapeValues(fixtureTimeCollector(t, cfg)); err == nil {
		t.Fatal("Update succeeded without sysfs")
	}
}

// TestTimeHostClock checks that the real clock is used.
func TestTimeHostClock(t *testing.T) {
	before := float64(time.Now().UnixNano()) / 1e9
	values, err := scrapeValues(build(t, "time", fixtureConfig()))
	if err != nil {
		t.Fatal(err)
	}
	after := float64(time.Now().UnixNano()) / 1e9
	if got := values["node_time_seconds"]; got < before || got > after {
		t.Errorf("node_time_seconds %f, want between %f and %f", got, before, after)
	}
}
