package collector

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/sys/unix"
)

// fixtureAdjtimex answers as adjtimex(2) does on a host that chrony keeps
// in sync with a PPS source: status STA_PLL|STA_NANO, state TIME_OK.
func fixtureAdjtimex(tx *unix.Timex) (int, error) {
	*tx = unix.Timex{
		Offset:    -123456, // nanoseconds, as STA_NANO is set
		Freq:      -1234567,
		Maxerror:  12345,
		Esterror:  678,
		Status:    unix.STA_PLL | unix.STA_NANO,
		Constant:  7,
		Precision: 1,
		Tolerance: 32768000,
		Tick:      10000,
		Ppsfreq:   655360,
		Jitter:    4000,
		Shift:     2,
		Stabil:    131072,
		Jitcnt:    3,
		Calcnt:    15,
		Errcnt:    1,
		Stbcnt:    2,
		Tai:       37,
	}
	return unix.TIME_OK, nil
}

func TestTimex(t *testing.T) {
	c := build(t, "timex", fixtureConfig()).(*timexCollector)
	c.adjtimex = fixtureAdjtimex
	compareGolden(t, c, "testdata/timex.prom")
}

// TestTimexUnsynced checks a clock in TIME_ERROR whose kernel reports
// offset and jitter in microseconds (STA_NANO clear).
func TestTimexUnsynced(t *testing.T) {
	c := build(t, "timex", fixtureConfig()).(*timexCollector)
	c.adjtimex = func(tx *unix.Timex) (int, error) {
		*tx = unix.Timex{Offset: -1234, Jitter: 25, Status: unix.STA_UNSYNC, Maxerror: 16000000, Esterror: 16000000, Tick: 10000}
		return unix.TIME_ERROR, nil
	}
	want := `# HELP node_timex_offset_seconds Time offset in between local system and reference clock.
# TYPE node_timex_offset_seconds gauge
node_timex_offset_seconds -0.001234
# HELP node_timex_pps_jitter_seconds Pulse per second jitter.
# TYPE node_timex_pps_jitter_seconds gauge
node_timex_pps_jitter_seconds 2.5e-05
# HELP node_timex_status Value of the status array bits.
# TYPE node_timex_status gauge
node_timex_status 64
# HELP node_timex_sync_status Is clock synchronized to a reliable server (1 = yes, 0 = no).
# TYPE node_timex_sync_status gauge
node_timex_sync_status 0
# HELP node_timex_frequency_adjustment_ratio Local clock frequency adjustment.
# TYPE node_timex_frequency_adjustment_ratio gauge
node_timex_frequency_adjustment_ratio 1
# HELP node_timex_maxerror_seconds Maximum error in seconds.
# TYPE node_timex_maxerror_seconds gauge
node_timex_maxerror_seconds 16
`
	if err := testutil.CollectAndCompare(adapter{t: t, c: c}, strings.NewReader(want),
		"node_timex_offset_seconds", "node_timex_pps_jitter_seconds", "node_timex_status",
		"node_timex_sync_status", "node_timex_frequency_adjustment_ratio", "node_timex_maxerror_seconds"); err != nil {
		t.Error(err)
	}
}

func TestTimexErrors(t *testing.T) {
	c := build(t, "timex", fixtureConfig()).(*timexCollector)

	// A seccomp filter that forbids the call is no failure of the node.
	c.adjtimex = func(*unix.Timex) (int, error) { return -1, syscall.EPERM }
	if _, err := drainCollector(c); !errors.Is(err, ErrNoData) {
		t.Errorf("with EPERM Update returned %v, want ErrNoData", err)
	}

	c.adjtimex = func(*unix.Timex) (int, error) { return -1, syscall.EFAULT }
	if _, err := drainCollector(c); !errors.Is(err, syscall.EFAULT) {
		t.Errorf("with EFAULT Update returned %v, want EFAULT", err)
	}
}

// TestTimexHost checks that the real system call answers.
func TestTimexHost(t *testing.T) {
	metrics, err := drainCollector(build(t, "timex", fixtureConfig()))
	if errors.Is(err, ErrNoData) {
		t.Skip("adjtimex is not permitted here")
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(metrics) != 17 {
		t.Errorf("sent %d metrics, want 17", len(metrics))
	}
}
