package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"
)

func init() {
	register("timex", true, newTimexCollector)
}

const (
	// timeError is what adjtimex(2) returns when the clock is not
	// synchronised (TIME_ERROR).
	timeError = 5
	// staNano in the status word says that offset and jitter are in
	// nanoseconds rather than microseconds.
	staNano = 0x2000
	// ppm16frac converts the kernel's scaled ppm (parts per million with a
	// 16-bit binary fraction, see NOTES in adjtimex(2)) into a ratio.
	ppm16frac = 1e6 * 65536
)

type timexCollector struct {
	// adjtimex is the adjtimex(2) system call; tests replace it, as the
	// kernel gives no file to put a fixture in.
	adjtimex func(*unix.Timex) (int, error)
	logger   *slog.Logger

	syncStatus, offset, freq, maxError, estError, status, constant, tick typedDesc
	ppsFreq, jitter, shift, stabil                                       typedDesc
	jitCount, calCount, errCount, stbCount, tai                          typedDesc
}

func newTimexCollector(cfg Config) (Collector, error) {
	desc := func(t prometheus.ValueType, name, help string) typedDesc {
		return typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "timex", name), help, nil, nil,
		), t}
	}
	gauge := func(name, help string) typedDesc { return desc(prometheus.GaugeValue, name, help) }
	counter := func(name, help string) typedDesc { return desc(prometheus.CounterValue, name, help) }
	return &timexCollector{
		adjtimex:   unix.Adjtimex,
		logger:     cfg.Logger,
		syncStatus: gauge("sync_status", "Is clock synchronized to a reliable server (1 = yes, 0 = no)."),
		offset:     gauge("offset_seconds", "Time offset in between local system and reference clock."),
		freq:       gauge("frequency_adjustment_ratio", "Local clock frequency adjustment."),
		maxError:   gauge("maxerror_seconds", "Maximum error in seconds."),
		estError:   gauge("estimated_error_seconds", "Estimated error in seconds."),
		status:     gauge("status", "Value of the status array bits."),
		constant:   gauge("loop_time_constant", "Phase-locked loop time constant."),
		tick:       gauge("tick_seconds", "Seconds between clock ticks."),
		ppsFreq:    gauge("pps_frequency_hertz", "Pulse per second frequency."),
		jitter:     gauge("pps_jitter_seconds", "Pulse per second jitter."),
		shift:      gauge("pps_shift_seconds", "Pulse per second interval duration."),
		stabil:     gauge("pps_stability_hertz", "Pulse per second stability, average of recent frequency changes."),
		jitCount:   counter("pps_jitter_total", "Pulse per second count of jitter limit exceeded events."),
		calCount:   counter("pps_calibration_total", "Pulse per second count of calibration intervals."),
		errCount:   counter("pps_error_total", "Pulse per second count of calibration errors."),
		stbCount:   counter("pps_stability_exceeded_total", "Pulse per second count of stability limit exceeded events."),
		tai:        gauge("tai_offset_seconds", "International Atomic Time (TAI) offset."),
	}, nil
}

func (c *timexCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	// With Modes zero the call only reads the kernel's clock state.
	var tx unix.Timex
	state, err := c.adjtimex(&tx)
	if errors.Is(err, fs.ErrPermission) {
		// A seccomp profile may forbid the call; that is not a failure of
		// the node.
		c.logger.Debug("not collecting timex metrics", "err", err)
		return ErrNoData
	}
	if err != nil {
		return fmt.Errorf("adjtimex: %w", err)
	}

	synced := 1.0
	if state == timeError {
		synced = 0
	}
	const micro = 1e6
	fine := micro // unit of offset and jitter
	if tx.Status&staNano != 0 {
		fine = 1e9
	}

	ch <- c.syncStatus.mustNewConstMetric(synced)
	ch <- c.offset.mustNewConstMetric(float64(tx.Offset) / fine)
	ch <- c.freq.mustNewConstMetric(1 + float64(tx.Freq)/ppm16frac)
	ch <- c.maxError.mustNewConstMetric(float64(tx.Maxerror) / micro)
	ch <- c.estError.mustNewConstMetric(float64(tx.Esterror) / micro)
	ch <- c.status.mustNewConstMetric(float64(tx.Status))
	ch <- c.constant.mustNewConstMetric(float64(tx.Constant))
	ch <- c.tick.mustNewConstMetric(float64(tx.Tick) / micro)
	ch <- c.ppsFreq.mustNewConstMetric(float64(tx.Ppsfreq) / ppm16frac)
	ch <- c.jitter.mustNewConstMetric(float64(tx.Jitter) / fine)
	ch <- c.shift.mustNewConstMetric(float64(tx.Shift))
	ch <- c.stabil.mustNewConstMetric(float64(tx.Stabil) / ppm16frac)
	ch <- c.jitCount.mustNewConstMetric(float64(tx.Jitcnt))
	ch <- c.calCount.mustNewConstMetric(float64(tx.Calcnt))
	ch <- c.errCount.mustNewConstMetric(float64(tx.Errcnt))
	ch <- c.stbCount.mustNewConstMetric(float64(tx.Stbcnt))
	ch <- c.tai.mustNewConstMetric(float64(tx.Tai))
	return nil
}
