package collector

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestInfiniband(t *testing.T) {
	compareGolden(t, build(t, "infiniband", fixtureConfig()), "testdata/infiniband.prom")
}

func TestInfinibandDeviceFilter(t *testing.T) {
	const head = `# HELP node_infiniband_info Non-numeric data from /sys/class/infiniband/<device>, value is always 1.
# TYPE node_infiniband_info gauge
`
	for _, tc := range []struct {
		name             string
		include, exclude string
		want             string
	}{{
		name:    "include",
		include: "^mlx5",
		want:    `node_infiniband_info{board_id="MT_0000000012",device="mlx5_0",firmware_version="16.28.2006",hca_type="MT4119"} 1`,
	}, {
		name:    "exclude",
		exclude: "^mlx5",
		want:    `node_infiniband_info{board_id="SM_1141000001000",device="mlx4_0",firmware_version="2.31.5050",hca_type="MT4099"} 1`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.Infiniband.DeviceInclude, cfg.Infiniband.DeviceExclude = tc.include, tc.exclude
			c := build(t, "infiniband", cfg)
			if err := testutil.CollectAndCompare(adapter{t: t, c: c}, strings.NewReader(head+tc.want+"\n"), "node_infiniband_info"); err != nil {
				t.Error(err)
			}
		})
	}
	t.Run("both", func(t *testing.T) {
		cfg := fixtureConfig()
		cfg.Infiniband.DeviceInclude, cfg.Infiniband.DeviceExclude = "^mlx5", "^mlx4"
		if _, err := newInfinibandCollector(cfg.withDefaults()); err == nil {
			t.Error("built with both include and exclude")
		}
	})
}

// infinibandPort are the files every port has.
func infinibandPort(dir, state string) map[string]string {
	return map[string]string{
		dir + "/link_layer": "InfiniBand\n",
		dir + "/state":      state,
		dir + "/phys_state": "5: LinkUp\n",
		dir + "/rate":       "100 Gb/sec (4X EDR)\n",
	}
}

func TestInfinibandNoData(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"no device": {},
		// fw_ver is there since Linux 4.10; node_exporter gives up without it.
		"no fw_ver": {"class/infiniband/mlx5_0/board_id": "MT_0000000012\n"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.SysPath = t.TempDir()
			writeFixtureFiles(t, cfg.SysPath, files)
			if _, err := drainCollector(build(t, "infiniband", cfg)); !errors.Is(err, ErrNoData) {
				t.Errorf("Update: %v, want ErrNoData", err)
			}
		})
	}
}

func TestInfinibandMalformed(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, infinibandPort("class/infiniband/mlx4_0/ports/1", "4: ACTIVE\n"))
	writeFixtureFiles(t, cfg.SysPath, infinibandPort("class/infiniband/mlx5_0/ports/1", "ACTIVE\n"))
	writeFixtureFiles(t, cfg.SysPath, map[string]string{
		"class/infiniband/mlx4_0/fw_ver": "2.31.5050\n",
		"class/infiniband/mlx5_0/fw_ver": "16.28.2006\n",
	})
	// Nothing is sent, not even the good device read before the bad one.
	metrics, err := drainCollector(build(t, "infiniband", cfg))
	if err == nil || errors.Is(err, ErrNoData) {
		t.Errorf("Update: %v, want an error", err)
	}
	if len(metrics) != 0 {
		t.Errorf("sent %d metrics, want none", len(metrics))
	}

	// A device left out by the filter is not read, so it cannot fail the scrape.
	cfg.Infiniband.DeviceExclude = "^mlx5_0$"
	metrics, err = drainCollector(build(t, "infiniband", cfg))
	if err != nil {
		t.Errorf("Update with the broken device excluded: %v", err)
	}
	if len(metrics) != 4 { // info, state_id, physical_state_id, rate
		t.Errorf("sent %d metrics, want 4", len(metrics))
	}
}
