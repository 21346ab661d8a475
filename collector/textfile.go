package collector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func init() {
	register("textfile", true, newTextfileCollector)
}

var (
	textfileMtimeDesc = typedDesc{prometheus.NewDesc(
		prometheus.BuildFQName(Namespace, "textfile", "mtime_seconds"),
		"Unixtime mtime of textfiles successfully read.",
		[]string{"file"}, nil,
	), prometheus.GaugeValue}
	textfileErrorDesc = typedDesc{prometheus.NewDesc(
		prometheus.BuildFQName(Namespace, "textfile", "scrape_error"),
		"1 if there was an error opening or reading a file, 0 otherwise",
		nil, nil,
	), prometheus.GaugeValue}
)

// textfileCollector exposes the metrics that other programs write to *.prom
// files, so that batch jobs and cron scripts can publish through the node.
type textfileCollector struct {
	directories []string
	logger      *slog.Logger
	// modTime gives the mtime of a file that was read; tests replace it to
	// get output that does not depend on when the fixtures were checked out.
	modTime func(fs.FileInfo) time.Time
}

func newTextfileCollector(cfg Config) (Collector, error) {
	return &textfileCollector{
		directories: cfg.Textfile.Directories,
		logger:      cfg.Logger,
		modTime:     fs.FileInfo.ModTime,
	}, nil
}

// textfileHelp tracks the help text of one metric name across files, to
// find files that disagree.
type textfileHelp struct {
	first        string
	inconsistent bool
}

// textfileScrape is what one Update has read so far.
type textfileScrape struct {
	failed   bool
	families []*dto.MetricFamily
	// files lists, per metric name, the files its accepted families came from.
	files  map[string][]string
	help   map[string]*textfileHelp
	mtimes map[string]time.Time
}

func (c *textfileCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	s := textfileScrape{
		files:  map[string][]string{},
		help:   map[string]*textfileHelp{},
		mtimes: map[string]time.Time{},
	}
	for _, dir := range c.expandDirectories() {
		c.readDirectory(&s, dir)
	}

	// A family without help gets one naming the files it was read from, as
	// in node_exporter; all families of that name share it.
	for _, mf := range s.families {
		if mf.Help == nil {
			help := "Metric read from " + strings.Join(s.files[mf.GetName()], ", ")
			mf.Help = &help
		}
	}
	if c.send(s.families, ch) {
		s.failed = true
	}

	for _, path := range slices.Sorted(maps.Keys(s.mtimes)) {
		ch <- textfileMtimeDesc.mustNewConstMetric(float64(s.mtimes[path].Unix()), path)
	}
	failed := 0.0
	if s.failed {
		failed = 1
	}
	ch <- textfileErrorDesc.mustNewConstMetric(failed)
	return nil
}

// expandDirectories resolves the configured globs. A pattern that matches
// nothing (or is not a valid glob) is kept as it is, so that reading it
// reports the missing directory.
func (c *textfileCollector) expandDirectories() []string {
	var dirs []string
	for _, pattern := range c.directories {
		matches, err := filepath.Glob(pattern)
		if err != nil || len(matches) == 0 {
			matches = []string{pattern}
		}
		dirs = append(dirs, matches...)
	}
	return dirs
}

func (c *textfileCollector) readDirectory(s *textfileScrape, dir string) {
	if dir == "" {
		// An empty --collector.textfile.directory means "no directory".
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		s.failed = true
		c.logger.Error("failed to read textfile collector directory", "path", dir, "err", err)
		return
	}
	for _, entry := range entries {
		if !strings.HasSuffix(entry.Name(), ".prom") {
			continue
		}
		path := filepath.Join(dir, entry.Name())
		if !utf8.ValidString(path) {
			// Its path would be a label value (node_textfile_mtime_seconds).
			s.failed = true
			c.logger.Error("textfile name is not UTF-8, skipped", "file", strings.ToValidUTF8(path, "\uFFFD"))
			continue
		}
		families, mtime, err := c.readFile(path)
		for _, name := range slices.Sorted(maps.Keys(families)) {
			c.accept(s, families[name], path)
		}
		if err != nil {
			s.failed = true
			c.logger.Error("failed to collect textfile data", "file", path, "err", err)
			continue
		}
		s.mtimes[path] = mtime
	}
}

// accept adds one family read from path, unless an earlier file gave the
// same metric a different help text: then this family is dropped and the
// scrape marked failed, as node_exporter does.
func (c *textfileCollector) accept(s *textfileScrape, mf *dto.MetricFamily, path string) {
	name := mf.GetName()
	if h, seen := s.help[name]; seen && (h.inconsistent || (mf.Help != nil && mf.GetHelp() != h.first)) {
		h.inconsistent = true
		s.failed = true
		c.logger.Error("inconsistent metric help text", "metric", name,
			"original_help_text", h.first, "new_help_text", mf.GetHelp(),
			"file", path, "first_file", s.files[name][0])
		return
	}
	if mf.Help != nil {
		s.help[name] = &textfileHelp{first: mf.GetHelp()}
	}
	s.files[name] = append(s.files[name], path)
	s.families = append(s.families, mf)
}

// maxTextfileBytes bounds a textfile: each is parsed whole on every
// scrape, and one of hundreds of megabytes costs gigabytes.
const maxTextfileBytes = 64 << 20

// readFile parses one file. Families are returned even when only the stat
// after parsing fails; a file with client-side timestamps is refused whole.
func (c *textfileCollector) readFile(path string) (map[string]*dto.MetricFamily, time.Time, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("open textfile %q: %w", path, err)
	}
	defer f.Close()

	// Bounded as it is read, not by a stat before: the file may grow while
	// it is read, or be no regular file at all.
	limited := &io.LimitedReader{R: f, N: maxTextfileBytes + 1}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(limited)
	if limited.N == 0 {
		return nil, time.Time{}, fmt.Errorf("textfile %q is more than %d MiB: skipping entire file", path, maxTextfileBytes>>20)
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("parse textfile %q: %w", path, err)
	}
	for _, mf := range families {
		// Served as it is, a HELP that is not UTF-8 makes Prometheus
		// refuse the whole scrape, every node metric with it.
		if !utf8.ValidString(mf.GetHelp()) {
			return nil, time.Time{}, fmt.Errorf("textfile %q: the help of %s is not UTF-8, skipping entire file", path, mf.GetName())
		}
		for _, m := range mf.Metric {
			if m.TimestampMs != nil {
				return nil, time.Time{}, fmt.Errorf("textfile %q contains unsupported client-side timestamps, skipping entire file", path)
			}
		}
	}
	// Stat only after a successful parse, so that a broken file never looks fresh.
	info, err := f.Stat()
	if err != nil {
		return families, time.Time{}, fmt.Errorf("stat textfile %q: %w", path, err)
	}
	return families, c.modTime(info), nil
}

// send converts the accepted families to metrics. Metrics that a registry
// would refuse (a type or help differing from the first family of that
// name, or a series already sent) are dropped with an error log, so one bad
// file cannot fail the whole scrape; node_exporter gets the same result
// from its registry's ContinueOnError. It reports whether a metric could
// not be built at all.
func (c *textfileCollector) send(families []*dto.MetricFamily, ch chan<- prometheus.Metric) bool {
	type shape struct {
		help string
		typ  dto.MetricType
	}
	shapes := map[string]shape{}
	series := map[string]bool{}
	failed := false
	for _, mf := range families {
		name := mf.GetName()
		want, seen := shapes[name]
		got := shape{mf.GetHelp(), mf.GetType()}
		if seen && want != got {
			c.logger.Error("textfile metric family conflicts with an earlier one, dropping it",
				"metric", name, "type", got.typ.String(), "help", got.help,
				"first_type", want.typ.String(), "first_help", want.help)
			continue
		}
		shapes[name] = got
		for _, m := range textfileMetrics(mf) {
			if series[m.key] {
				c.logger.Error("duplicate textfile series, dropping it", "metric", name, "labels", m.key)
				continue
			}
			series[m.key] = true
			metric, err := m.build()
			if err != nil {
				failed = true
				c.logger.Error("invalid textfile metric", "metric", name, "err", err)
				continue
			}
			ch <- metric
		}
	}
	return failed
}

// textfileMetric is one parsed metric ready to be built, with the key
// that identifies its series.
type textfileMetric struct {
	key   string
	build func() (prometheus.Metric, error)
}

// textfileMetrics gives every metric of mf the union of the family's label
// names, with "" where a metric lacks one, as node_exporter does.
func textfileMetrics(mf *dto.MetricFamily) []textfileMetric {
	var names []string
	for _, m := range mf.Metric {
		for _, l := range m.Label {
			if !slices.Contains(names, l.GetName()) {
				names = append(names, l.GetName())
			}
		}
	}
	sort.Strings(names)
	desc := prometheus.NewDesc(mf.GetName(), mf.GetHelp(), names, nil)

	out := make([]textfileMetric, 0, len(mf.Metric))
	for _, m := range mf.Metric {
		values := make([]string, len(names))
		for _, l := range m.Label {
			values[slices.Index(names, l.GetName())] = l.GetValue()
		}
		var key strings.Builder
		key.WriteString(mf.GetName())
		for i, n := range names {
			fmt.Fprintf(&key, "\xff%s=%q", n, values[i])
		}
		out = append(out, textfileMetric{key: key.String(), build: func() (prometheus.Metric, error) {
			return textfileConstMetric(desc, mf.GetType(), m, values)
		}})
	}
	return out
}

func textfileConstMetric(desc *prometheus.Desc, typ dto.MetricType, m *dto.Metric, values []string) (prometheus.Metric, error) {
	switch typ {
	case dto.MetricType_COUNTER:
		return prometheus.NewConstMetric(desc, prometheus.CounterValue, m.GetCounter().GetValue(), values...)
	case dto.MetricType_GAUGE:
		return prometheus.NewConstMetric(desc, prometheus.GaugeValue, m.GetGauge().GetValue(), values...)
	case dto.MetricType_UNTYPED:
		return prometheus.NewConstMetric(desc, prometheus.UntypedValue, m.GetUntyped().GetValue(), values...)
	case dto.MetricType_SUMMARY:
		quantiles := map[float64]float64{}
		for _, q := range m.GetSummary().GetQuantile() {
			quantiles[q.GetQuantile()] = q.GetValue()
		}
		return prometheus.NewConstSummary(desc, m.GetSummary().GetSampleCount(), m.GetSummary().GetSampleSum(), quantiles, values...)
	case dto.MetricType_HISTOGRAM:
		buckets := map[float64]uint64{}
		for _, b := range m.GetHistogram().GetBucket() {
			buckets[b.GetUpperBound()] = b.GetCumulativeCount()
		}
		return prometheus.NewConstHistogram(desc, m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum(), buckets, values...)
	default:
		return nil, errors.New("unsupported metric type " + typ.String())
	}
}
