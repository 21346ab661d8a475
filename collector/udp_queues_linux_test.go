package collector

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestUDPQueues(t *testing.T) {
	compareGolden(t, build(t, "udp_queues", fixtureConfig()), "testdata/udp_queues.prom")
}

func TestUDPQueuesMissingFiles(t *testing.T) {
	udp, err := os.ReadFile("../testdata/proc/net/udp")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("no IPv6", func(t *testing.T) {
		cfg := fixtureConfig()
		cfg.ProcPath = t.TempDir()
		writeFixtureFiles(t, cfg.ProcPath, map[string]string{"net/udp": string(udp)})
		want := `# HELP node_udp_queues Number of allocated memory in the kernel for UDP datagrams in bytes.
# TYPE node_udp_queues gauge
node_udp_queues{ip="v4",queue="rx"} 4352
node_udp_queues{ip="v4",queue="tx"} 832
`
		if err := testutil.CollectAndCompare(adapter{t: t, c: build(t, "udp_queues", cfg)}, strings.NewReader(want)); err != nil {
			t.Error(err)
		}
	})
	t.Run("neither", func(t *testing.T) {
		cfg := fixtureConfig()
		cfg.ProcPath = t.TempDir()
		if _, err := drainCollector(build(t, "udp_queues", cfg)); !errors.Is(err, ErrNoData) {
			t.Errorf("Update: %v, want ErrNoData", err)
		}
	})
}

func TestUDPQueuesMalformed(t *testing.T) {
	const header = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
	for name, line := range map[string]string{
		"no queue colon": "  361: 00000000:0044 00000000:0000 07 0000000000000000 00:00000000 00000000     0        0 21334 2 0000000000000000 0\n",
		"queue not hex":  "  361: 00000000:0044 00000000:0000 07 0000zz00:00000000 00:00000000 00000000     0        0 21334 2 0000000000000000 0\n",
		"short line":     "  361: 00000000:0044 00000000:0000 07\n",
	} {
		t.Run(name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.ProcPath = t.TempDir()
			writeFixtureFiles(t, cfg.ProcPath, map[string]string{"net/udp6": header + line})
			if _, err := drainCollector(build(t, "udp_queues", cfg)); err == nil || errors.Is(err, ErrNoData) {
				t.Errorf("Update: %v, want an error", err)
			}
		})
	}
}
