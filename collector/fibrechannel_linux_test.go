package collector

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestFibreChannel(t *testing.T) {
	compareGolden(t, build(t, "fibrechannel", fixtureConfig()), "testdata/fibrechannel.prom")
}

func TestFibreChannelNoData(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	if _, err := drainCollector(build(t, "fibrechannel", cfg)); !errors.Is(err, ErrNoData) {
		t.Errorf("Update: %v, want ErrNoData", err)
	}
}

// A driver may leave out attributes and statistics files, or the whole
// statistics directory; node_exporter v1.12.1 dereferences the missing
// counters and panics, Warden leaves them out.
func TestFibreChannelMissingFiles(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, map[string]string{
		"class/fc_host/host3/port_name":            "0x21000024ff7a1b2c\n",
		"class/fc_host/host3/port_state":           "Online\n",
		"class/fc_host/host3/statistics/rx_frames": "0x10\n",
		"class/fc_host/host3/statistics/tx_frames": "0xffffffffffffffff\n",
		"class/fc_host/host4/port_state":           "Bypassed\n",
	})
	want := `# HELP node_fibrechannel_info Non-numeric data from /sys/class/fc_host/<host>, value is always 1.
# TYPE node_fibrechannel_info gauge
node_fibrechannel_info{dev_loss_tmo="",fabric_name="",fc_host="host3",port_id="",port_name="21000024ff7a1b2c",port_state="Online",port_type="",speed="",supported_classes="",supported_speeds="",symbolic_name=""} 1
node_fibrechannel_info{dev_loss_tmo="",fabric_name="",fc_host="host4",port_id="",port_name="",port_state="Bypassed",port_type="",speed="",supported_classes="",supported_speeds="",symbolic_name=""} 1
# HELP node_fibrechannel_rx_frames_total Number of frames received
# TYPE node_fibrechannel_rx_frames_total counter
node_fibrechannel_rx_frames_total{fc_host="host3"} 16
`
	if err := testutil.CollectAndCompare(adapter{t: t, c: build(t, "fibrechannel", cfg)}, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestFibreChannelMalformed(t *testing.T) {
	cfg := fixtureConfig()
	cfg.SysPath = t.TempDir()
	writeFixtureFiles(t, cfg.SysPath, map[string]string{
		"class/fc_host/host0/port_state":           "Online\n",
		"class/fc_host/host0/statistics/nos_count": "lots\n",
	})
	if _, err := drainCollector(build(t, "fibrechannel", cfg)); err == nil || errors.Is(err, ErrNoData) {
		t.Errorf("Update: %v, want an error", err)
	}
}
