package collector

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

func init() {
	register("edac", true, newEDACCollector)
}

// edacChannelFile matches the per-channel correctable error counts of a
// csrow directory; procfs has no parser for EDAC.
var edacChannelFile = regexp.MustCompile(`^ch([0-9]+)_ce_count$`)

// edacCollector reports the memory error counts of
// /sys/devices/system/edac/mc: per memory controller, per csrow and per
// channel.
type edacCollector struct {
	mcPath string
	logger *slog.Logger

	ce, ue, csrowCE, csrowUE, channelCE, channelUE typedDesc
}

func newEDACCollector(cfg Config) (Collector, error) {
	counter := func(name, help string, labels ...string) typedDesc {
		return typedDesc{prometheus.NewDesc(prometheus.BuildFQName(Namespace, "edac", name), help, labels, nil), prometheus.CounterValue}
	}
	return &edacCollector{
		mcPath:    filepath.Join(cfg.SysPath, "devices/system/edac/mc"),
		logger:    cfg.Logger,
		ce:        counter("correctable_errors_total", "Total correctable memory errors.", "controller"),
		ue:        counter("uncorrectable_errors_total", "Total uncorrectable memory errors.", "controller"),
		csrowCE:   counter("csrow_correctable_errors_total", "Total correctable memory errors for this csrow.", "controller", "csrow"),
		csrowUE:   counter("csrow_uncorrectable_errors_total", "Total uncorrectable memory errors for this csrow.", "controller", "csrow"),
		channelCE: counter("channel_correctable_errors_total", "Total correctable memory errors for this channel.", "controller", "csrow", "channel", "dimm_label"),
		channelUE: counter("channel_uncorrectable_errors_total", "Total uncorrectable memory errors for this channel.", "controller", "csrow", "channel", "dimm_label"),
	}, nil
}

func (c *edacCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	controllers, err := filepath.Glob(filepath.Join(c.mcPath, "mc[0-9]*"))
	if err != nil {
		return fmt.Errorf("list EDAC memory controllers: %w", err)
	}
	if len(controllers) == 0 {
		// No EDAC driver loaded, or no ECC memory.
		return ErrNoData
	}
	for _, dir := range controllers {
		if err := c.updateController(ch, dir, strings.TrimPrefix(filepath.Base(dir), "mc")); err != nil {
			return err
		}
	}
	return nil
}

func (c *edacCollector) updateController(ch chan<- prometheus.Metric, dir, mc string) error {
	// Errors the driver could not place on a csrow count under csrow "unknown".
	for _, f := range []struct {
		file   string
		desc   typedDesc
		labels []string
	}{
		{"ce_count", c.ce, []string{mc}},
		{"ce_noinfo_count", c.csrowCE, []string{mc, "unknown"}},
		{"ue_count", c.ue, []string{mc}},
		{"ue_noinfo_count", c.csrowUE, []string{mc, "unknown"}},
	} {
		count, err := edacReadCount(filepath.Join(dir, f.file))
		if err != nil {
			return fmt.Errorf("EDAC controller %s: %w", mc, err)
		}
		ch <- f.desc.mustNewConstMetric(count, f.labels...)
	}

	csrows, err := filepath.Glob(filepath.Join(dir, "csrow[0-9]*"))
	if err != nil {
		return fmt.Errorf("list csrows of EDAC controller %s: %w", mc, err)
	}
	for _, csrowDir := range csrows {
		csrow := strings.TrimPrefix(filepath.Base(csrowDir), "csrow")
		for _, f := range []struct {
			file string
			desc typedDesc
		}{
			{"ce_count", c.csrowCE},
			{"ue_count", c.csrowUE},
		} {
			count, err := edacReadCount(filepath.Join(csrowDir, f.file))
			if err != nil {
				return fmt.Errorf("EDAC controller %s csrow %s: %w", mc, csrow, err)
			}
			ch <- f.desc.mustNewConstMetric(count, mc, csrow)
		}
		if err := c.updateChannels(ch, csrowDir, mc, csrow); err != nil {
			return err
		}
	}
	return nil
}

func (c *edacCollector) updateChannels(ch chan<- prometheus.Metric, csrowDir, mc, csrow string) error {
	files, err := filepath.Glob(filepath.Join(csrowDir, "ch*_ce_count"))
	if err != nil {
		return fmt.Errorf("list channels of EDAC controller %s csrow %s: %w", mc, csrow, err)
	}
	for _, file := range files {
		m := edacChannelFile.FindStringSubmatch(filepath.Base(file))
		if m == nil {
			continue
		}
		channel := m[1]
		label := edacDIMMLabel(filepath.Join(csrowDir, "ch"+channel+"_dimm_label"))
		count, err := edacReadCount(file)
		if err != nil {
			return fmt.Errorf("EDAC controller %s csrow %s channel %s: %w", mc, csrow, channel, err)
		}
		ch <- c.channelCE.mustNewConstMetric(count, mc, csrow, channel, label)

		// The kernel has no per-channel uncorrectable count; node_exporter
		// sends one where a driver offers it.
		count, err = edacReadCount(filepath.Join(csrowDir, "ch"+channel+"_ue_count"))
		if err != nil {
			c.logger.Debug("no uncorrectable count for EDAC channel", "controller", mc, "csrow", csrow, "channel", channel, "err", err)
			continue
		}
		ch <- c.channelUE.mustNewConstMetric(count, mc, csrow, channel, label)
	}
	return nil
}

// edacDIMMLabel returns the label of a channel's DIMM in node_exporter's
// spelling: "#" dropped and the kernel's default "mc#0csrow#0channel#0"
// split into "mc0_csrow0_channel0". A channel without a label file is
// "unknown".
func edacDIMMLabel(path string) string {
	b, err := readFile(path)
	if err != nil {
		return "unknown"
	}
	label := strings.ReplaceAll(strings.TrimSpace(string(b)), "#", "")
	label = strings.ReplaceAll(label, "csrow", "_csrow")
	return strings.ReplaceAll(label, "channel", "_channel")
}

// edacReadCount reads a sysfs file holding one unsigned count.
func edacReadCount(path string) (float64, error) {
	b, err := readFile(path)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", path, err)
	}
	return float64(n), nil
}
