// Package exposition gathers collectors and writes what they collect in
// the Prometheus text format, the bytes client_golang's registry and
// expfmt would write for the same metrics, at a fraction of the cost.
//
// A registry turns every metric into a protobuf message, keeps all of
// them until the last collector is done, sorts them, and expfmt then
// walks them to write text. Here each metric is written into a byte arena
// as it arrives, into one reused message, and only its line offsets and
// label values (which the metric owns) are kept for sorting; the scrape's
// state is pooled for the next one. The checks are the registry's: help
// and type consistency within a family, suffix collisions with summaries
// and histograms, label names and values, and duplicate series; a metric
// that fails one is left out and reported, as the registry's
// ContinueOnError handling does.
//
// Metric and label names that the legacy (pre-UTF-8) rules do not allow
// are written by expfmt itself, one metric at a time, so that its quoting
// or escaping for the negotiated format holds.
package exposition

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/warden-exporter/warden/internal/workers"
)

// writeChunk is how much WriteTo writes at a time.
const writeChunk = 8 << 10

// metricBuffer is the capacity of the channel collectors send on, the
// registry's.
const metricBuffer = 1000

// Scrape is one gathering, ready to be written. Release it when done.
type Scrape struct {
	format   expfmt.Format
	families map[string]*family
	// descs maps each Desc seen in this scrape to its family, and layouts
	// to how its MustNewConstMetric metrics are written; Release keeps
	// the layouts of the Descs this scrape saw for the next one.
	descs   map[*prometheus.Desc]*family
	layouts map[*prometheus.Desc]*layout
	arena   []byte
	// gen numbers the gatherings this state has served: families keep
	// their memory from one to the next, and a family whose gen is not
	// the current one is not part of this scrape.
	gen    uint64
	metric dto.Metric // reused for every metric's Write
	errs   prometheus.MultiError
	out    []byte // WriteTo's buffer
	// compressed is the gzip'ed text, for Serve.
	compressed bytes.Buffer
}

// family is one metric family: its header and its metrics' lines.
type family struct {
	gen        uint64
	name, help string
	typ        dto.MetricType
	// header is the HELP and TYPE lines, when expfmt wrote them (a name
	// that needs quoting or escaping); empty when written here.
	header  []byte
	entries []entry
}

// entry is one metric: where its lines are in the arena, and what it is
// sorted by.
type entry struct {
	start, end int32
	// labels, or for a MustNewConstMetric metric its label values in
	// the order of its layout's names.
	labels    []*dto.LabelPair
	values    []string
	layout    *layout
	timestamp *int64
}

// spare holds the state of finished scrapes for the next ones. It is a
// small free list rather than a sync.Pool, which a garbage collection
// empties: on a node exporter that is every few scrapes, and the arena
// would grow again from nothing each time.
var spare = make(chan *Scrape, 4)

func newScrape() *Scrape {
	select {
	case s := <-spare:
		return s
	default:
		return &Scrape{
			families: map[string]*family{},
			descs:    map[*prometheus.Desc]*family{},
			layouts:  map[*prometheus.Desc]*layout{},
		}
	}
}

// Gather collects every collector in cs, each in a goroutine of its own
// as a registry does, and then every family that gs gather. format is
// the text format negotiated with the client (expfmt.TypeTextPlain), whose
// escaping applies to names outside the legacy rules. The errors are what
// a registry's Gather would report, as a prometheus.MultiError.
func Gather(format expfmt.Format, cs []prometheus.Collector, gs []prometheus.Gatherer) (*Scrape, error) {
	s := newScrape()
	s.format = format
	s.gen++

	ch := make(chan prometheus.Metric, metricBuffer)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		panicked prometheus.MultiError
	)
	for _, c := range cs {
		workers.GoIn(&wg, func() {
			if err := safeCollect(c, ch); err != nil {
				mu.Lock()
				panicked = append(panicked, err)
				mu.Unlock()
			}
		})
	}
	workers.Go(func() {
		wg.Wait()
		close(ch)
	})
	for m := range ch {
		s.add(m)
	}
	s.errs = append(s.errs, panicked...) // wg.Wait, then close(ch): no more appends
	for i, g := range gs {
		mfs, err := g.Gather()
		if err != nil {
			multi := prometheus.MultiError{err}
			errors.As(err, &multi)
			for _, err := range multi {
				s.errs = append(s.errs, fmt.Errorf("[from Gatherer #%d] %w", i+1, err))
			}
		}
		for _, mf := range mfs {
			s.addFamily(mf)
		}
	}
	s.finish()
	return s, s.errs.MaybeUnwrap()
}

// safeCollect is the registry's: a collector that panics is reported
// (twice, as the registry does), and the scrape goes on.
func safeCollect(c prometheus.Collector, ch chan<- prometheus.Metric) (err error) {
	defer func() {
		if r := recover(); r != nil {
			buf := make([]byte, 64<<10)
			n := runtime.Stack(buf, false)
			err = fmt.Errorf("prometheus collector panic recovered: type=%T: error=%v\nstack trace=%s", c, r, buf[:n])
			ch <- prometheus.NewInvalidMetric(prometheus.NewInvalidDesc(err), err)
		}
	}()
	c.Collect(ch)
	return nil
}

// Empty reports whether the scrape holds no metric.
func (s *Scrape) Empty() bool {
	for _, f := range s.families {
		if f.gen == s.gen && len(f.entries) > 0 {
			return false
		}
	}
	return true
}

// family returns the family called name in this scrape, or nil.
func (s *Scrape) family(name string) *family {
	if f := s.families[name]; f != nil && f.gen == s.gen {
		return f
	}
	return nil
}

// newFamily adds a family to this scrape, in the memory of an earlier
// scrape's family of that name if there was one.
func (s *Scrape) newFamily(name, help string, typ dto.MetricType) *family {
	f := s.families[name]
	if f == nil {
		f = &family{name: name}
		s.families[name] = f
	}
	f.gen, f.help, f.typ, f.header, f.entries = s.gen, help, typ, nil, f.entries[:0]
	return f
}

// finish sorts each family's metrics as the registry does, and leaves
// out, reporting it, each one collected before with the same labels
// (the registry's duplicate check, done on the sorted metrics, where
// duplicates are neighbours; the first collected is kept, as there).
func (s *Scrape) finish() {
	// Families from scrapes long past do not pile up.
	if len(s.families) > 4096 {
		maps.DeleteFunc(s.families, func(_ string, f *family) bool { return f.gen != s.gen })
	}
	for _, f := range s.families {
		if f.gen != s.gen || len(f.entries) < 2 {
			continue
		}
		slices.SortFunc(f.entries, compareEntries)
		kept := f.entries[:1]
		for _, e := range f.entries[1:] {
			if prev := &kept[len(kept)-1]; sameSeries(prev, &e) {
				line := strings.TrimSuffix(string(s.arena[e.start:e.end]), "\n")
				s.errs = append(s.errs, fmt.Errorf("collected metric %q { %s} was collected before with the same name and label values", f.name, line))
				continue
			}
			kept = append(kept, e)
		}
		f.entries = kept
	}
}

func sameSeries(a, b *entry) bool {
	if a.labelCount() != b.labelCount() {
		return false
	}
	for i := range a.labelCount() {
		if a.labelValue(i) != b.labelValue(i) || a.labelName(i) != b.labelName(i) {
			return false
		}
	}
	switch {
	case a.timestamp == nil || b.timestamp == nil:
		return a.timestamp == b.timestamp
	}
	return *a.timestamp == *b.timestamp
}

// Release returns the scrape's memory for the next scrape to use.
func (s *Scrape) Release() {
	clear(s.descs)
	// Layouts are kept for the next scrape, which mostly sees the same
	// Descs, but only those of this one: a collector that makes its Descs
	// as it collects would otherwise grow the map with every scrape.
	maps.DeleteFunc(s.layouts, func(_ *prometheus.Desc, l *layout) bool { return l.gen != s.gen })
	s.arena = s.arena[:0]
	s.errs = nil
	s.compressed.Reset()
	s.metric.Reset()
	// A scrape far bigger than usual does not pin its memory.
	if cap(s.arena) > 16<<20 {
		s.arena = nil
		s.compressed = bytes.Buffer{}
	}
	select {
	case spare <- s:
	default:
	}
}

// add writes one collected metric, as the registry's processMetric
// checks and stores it.
func (s *Scrape) add(m prometheus.Metric) {
	if cm, ok := m.(*constMetric); ok && s.addConst(cm) {
		return
	}
	d := m.Desc()
	if err := d.Err(); err != nil {
		s.errs = append(s.errs, err)
		return
	}
	dm := &s.metric
	dm.Reset()
	if err := m.Write(dm); err != nil {
		s.errs = append(s.errs, fmt.Errorf("error collecting metric %v: %w", d, err))
		return
	}
	typ, ok := metricType(dm)
	if !ok {
		typ = -1 // reported if it would make a family
	}
	f, err := s.familyOf(d, typ, func() string { return dm.String() })
	if err != nil {
		s.errs = append(s.errs, err)
		return
	}
	s.store(f, dm)
}

// addConst writes a MustNewConstMetric metric straight from its label
// values, with the checks its desc has not already passed (NewDesc
// checked the label names, MustNewConstMetric the values). It returns
// false for a metric to write through its protobuf message instead: one
// with names that the legacy rules do not allow.
func (s *Scrape) addConst(m *constMetric) bool {
	d := m.desc
	l := s.layouts[d]
	if l == nil {
		info, err := describe(d)
		if err != nil {
			return false
		}
		l = newLayout(d, info.name)
		s.layouts[d] = l
	}
	l.gen = s.gen
	if !l.legacy {
		return false
	}
	asText := func() string {
		var dm dto.Metric
		_ = m.Write(&dm) // a MustNewConstMetric metric writes without error
		return dm.String()
	}
	typ := familyType(m.valueType)
	f, err := s.familyOf(d, typ, asText)
	if err != nil {
		s.errs = append(s.errs, err)
		return true
	}
	if f.typ != typ {
		s.errs = append(s.errs, fmt.Errorf("collected metric %q { %s} is not a %s", f.name, asText(), f.typ))
		return true
	}
	values := l.values(m.labelValues)
	start := len(s.arena)
	out := append(s.arena, f.name...)
	for i, name := range l.names {
		if i == 0 {
			out = append(out, '{')
		} else {
			out = append(out, ',')
		}
		out = append(out, name...)
		out = append(out, '=', '"')
		out = appendEscapedLabelValue(out, values[i])
		out = append(out, '"')
	}
	if len(l.names) > 0 {
		out = append(out, '}')
	}
	out = append(out, ' ')
	out = appendFloat(out, m.value)
	s.arena = append(out, '\n')
	f.entries = append(f.entries, entry{start: int32(start), end: int32(len(s.arena)), values: values, layout: l})
	return true
}

// familyOf returns the family of a metric with desc d, made on first
// sight as the registry makes it.
//
// typ is the type the metric would give a new family (-1: none, an empty
// metric), and text formats the metric for an error.
func (s *Scrape) familyOf(d *prometheus.Desc, typ dto.MetricType, text func() string) (*family, error) {
	if f, ok := s.descs[d]; ok {
		return f, nil
	}
	info, err := describe(d)
	if err != nil {
		return nil, err
	}
	f := s.family(info.name)
	switch {
	case f == nil:
		if typ < 0 {
			return nil, fmt.Errorf("empty metric collected: %s", text())
		}
		if err := s.checkSuffixCollisions(info.name, typ); err != nil {
			return nil, err
		}
		f = s.newFamily(info.name, info.help, typ)
	case f.help != info.help:
		return nil, fmt.Errorf("collected metric %s %s has help %q but should have %q", info.name, text(), info.help, f.help)
	}
	s.descs[d] = f
	return f, nil
}

// addFamily stores the metrics of a family another gatherer gathered, as
// prometheus.Gatherers merges them.
func (s *Scrape) addFamily(mf *dto.MetricFamily) {
	f := s.family(mf.GetName())
	exists := f != nil
	switch {
	case exists && f.help != mf.GetHelp():
		s.errs = append(s.errs, fmt.Errorf("gathered metric family %s has help %q but should have %q", mf.GetName(), mf.GetHelp(), f.help))
		return
	case exists && f.typ != mf.GetType():
		s.errs = append(s.errs, fmt.Errorf("gathered metric family %s has type %s but should have %s", mf.GetName(), mf.GetType(), f.typ))
		return
	case !exists:
		if err := s.checkSuffixCollisions(mf.GetName(), mf.GetType()); err != nil {
			s.errs = append(s.errs, err)
			return
		}
		f = s.newFamily(mf.GetName(), mf.GetHelp(), mf.GetType())
	}
	for _, m := range mf.Metric {
		s.store(f, m)
	}
}

func metricType(m *dto.Metric) (dto.MetricType, bool) {
	switch {
	case m.Gauge != nil:
		return dto.MetricType_GAUGE, true
	case m.Counter != nil:
		return dto.MetricType_COUNTER, true
	case m.Summary != nil:
		return dto.MetricType_SUMMARY, true
	case m.Untyped != nil:
		return dto.MetricType_UNTYPED, true
	case m.Histogram != nil:
		return dto.MetricType_HISTOGRAM, true
	}
	return 0, false
}

// store checks a metric against its family and the series so far (the
// registry's checkMetricConsistency) and writes its lines.
func (s *Scrape) store(f *family, m *dto.Metric) {
	if err := s.check(f, m); err != nil {
		s.errs = append(s.errs, err)
		return
	}
	start := len(s.arena)
	if legacyNames(f.name, m.Label) {
		s.arena = appendMetric(s.arena, f, m)
	} else if err := s.appendEscaped(f, m); err != nil {
		s.arena = s.arena[:start]
		s.errs = append(s.errs, fmt.Errorf("error encoding metric family %s: %w", f.name, err))
		return
	}
	f.entries = append(f.entries, entry{start: int32(start), end: int32(len(s.arena)), labels: m.Label, timestamp: m.TimestampMs})
}

func (s *Scrape) check(f *family, m *dto.Metric) error {
	if !hasType(m, f.typ) {
		return fmt.Errorf("collected metric %q { %s} is not a %s", f.name, m, f.typ)
	}
	previous := ""
	for _, lp := range m.Label {
		name := lp.GetName()
		switch {
		case name == previous:
			return fmt.Errorf("collected metric %q { %s} has two or more labels with the same name: %s", f.name, m, name)
		case !model.UTF8Validation.IsValidLabelName(name) || strings.HasPrefix(name, "__"):
			return fmt.Errorf("collected metric %q { %s} has a label with an invalid name: %s", f.name, m, name)
		case m.Summary != nil && name == model.QuantileLabel:
			return fmt.Errorf("collected metric %q { %s} must not have an explicit %q label", f.name, m, model.QuantileLabel)
		case !utf8.ValidString(lp.GetValue()):
			return fmt.Errorf("collected metric %q { %s} has a label named %q whose value is not utf8: %#v", f.name, m, name, lp.GetValue())
		}
		previous = name
	}
	if !slices.IsSortedFunc(m.Label, compareLabelNames) {
		// The metric's labels are not ours to sort in place.
		m.Label = slices.SortedFunc(slices.Values(m.Label), compareLabelNames)
	}
	return nil
}

// hasType reports whether the metric has the value its family's type
// needs; other types are not checked, as in the registry.
func hasType(m *dto.Metric, typ dto.MetricType) bool {
	switch typ {
	case dto.MetricType_GAUGE:
		return m.Gauge != nil
	case dto.MetricType_COUNTER:
		return m.Counter != nil
	case dto.MetricType_SUMMARY:
		return m.Summary != nil
	case dto.MetricType_UNTYPED:
		return m.Untyped != nil
	case dto.MetricType_HISTOGRAM:
		return m.Histogram != nil
	}
	return true
}

func compareLabelNames(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) }

func (s *Scrape) checkSuffixCollisions(name string, typ dto.MetricType) error {
	var base string
	switch {
	case strings.HasSuffix(name, "_count"):
		base = name[:len(name)-6]
	case strings.HasSuffix(name, "_sum"):
		base = name[:len(name)-4]
	case strings.HasSuffix(name, "_bucket"):
		base = name[:len(name)-7]
	}
	if base != "" {
		if existing := s.family(base); existing != nil {
			switch existing.typ {
			case dto.MetricType_SUMMARY:
				if !strings.HasSuffix(name, "_bucket") {
					return fmt.Errorf("collected metric named %q collides with previously collected summary named %q", name, base)
				}
			case dto.MetricType_HISTOGRAM:
				return fmt.Errorf("collected metric named %q collides with previously collected histogram named %q", name, base)
			}
		}
	}
	if typ == dto.MetricType_SUMMARY || typ == dto.MetricType_HISTOGRAM {
		for _, suffix := range []string{"_count", "_sum"} {
			if s.family(name+suffix) != nil {
				return fmt.Errorf("collected histogram or summary named %q collides with previously collected metric named %q", name, name+suffix)
			}
		}
	}
	if typ == dto.MetricType_HISTOGRAM {
		if s.family(name+"_bucket") != nil {
			return fmt.Errorf("collected histogram named %q collides with previously collected metric named %q", name, name+"_bucket")
		}
	}
	return nil
}

// legacyNames reports whether the family's name and the metric's label
// names follow the legacy rules, which every text format writes as they
// are.
func legacyNames(name string, labels []*dto.LabelPair) bool {
	if !model.LegacyValidation.IsValidMetricName(name) {
		return false
	}
	for _, lp := range labels {
		if !legacyLabelName(lp.GetName()) {
			return false
		}
	}
	return true
}

func legacyLabelName(name string) bool { return model.LegacyValidation.IsValidLabelName(name) }

// appendEscaped has expfmt write the metric, in a family of its own, for
// the negotiated format, and keeps its lines (and the family's header,
// which depends on the format too).
func (s *Scrape) appendEscaped(f *family, m *dto.Metric) error {
	var buf bytes.Buffer
	typ := f.typ
	mf := &dto.MetricFamily{Name: &f.name, Help: &f.help, Type: &typ, Metric: []*dto.Metric{m}}
	if err := expfmt.NewEncoder(&buf, s.format).Encode(mf); err != nil {
		return err
	}
	out := buf.Bytes()
	header := 0
	for range 2 { // # HELP and # TYPE
		header += bytes.IndexByte(out[header:], '\n') + 1
	}
	if f.header == nil && !model.LegacyValidation.IsValidMetricName(f.name) {
		f.header = slices.Clone(out[:header])
	}
	s.arena = append(s.arena, out[header:]...)
	return nil
}

// WriteTo writes the families in name order, each one's metrics sorted
// by label values as the registry sorts them. With filter, only the
// families it names are written (the name[] parameter).
func (s *Scrape) WriteTo(w io.Writer, filter map[string]struct{}) (int64, error) {
	names := make([]string, 0, len(s.families))
	for name, f := range s.families {
		if f.gen != s.gen || len(f.entries) == 0 {
			continue
		}
		if _, ok := filter[name]; filter != nil && !ok {
			continue
		}
		names = append(names, name)
	}
	slices.Sort(names)
	var written int64
	out := s.out[:0]
	defer func() { s.out = out[:0] }()
	flush := func() error {
		n, err := w.Write(out)
		written += int64(n)
		out = out[:0]
		return err
	}
	for _, name := range names {
		f := s.families[name]
		if f.header != nil {
			out = append(out, f.header...)
		} else {
			out = appendHeader(out, f)
		}
		for _, e := range f.entries {
			out = append(out, s.arena[e.start:e.end]...)
			if len(out) >= writeChunk {
				if err := flush(); err != nil {
					return written, err
				}
			}
		}
	}
	return written, flush()
}

// compareEntries is the registry's MetricSorter, and then the order the
// metrics came in.
func compareEntries(a, b entry) int {
	if a.labelCount() != b.labelCount() {
		return a.labelCount() - b.labelCount()
	}
	for i := range a.labelCount() {
		if c := strings.Compare(a.labelValue(i), b.labelValue(i)); c != 0 {
			return c
		}
	}
	switch {
	case a.timestamp == nil && b.timestamp != nil:
		return 1
	case a.timestamp != nil && b.timestamp == nil:
		return -1
	case a.timestamp != nil && *a.timestamp != *b.timestamp:
		return cmp.Compare(*a.timestamp, *b.timestamp)
	}
	return cmp.Compare(a.start, b.start)
}

func (e *entry) labelCount() int {
	if e.labels != nil {
		return len(e.labels)
	}
	return len(e.values)
}

func (e *entry) labelName(i int) string {
	if e.labels != nil {
		return e.labels[i].GetName()
	}
	return e.layout.names[i]
}

func (e *entry) labelValue(i int) string {
	if e.labels != nil {
		return e.labels[i].GetValue()
	}
	return e.values[i]
}

func appendHeader(out []byte, f *family) []byte {
	out = append(out, "# HELP "...)
	out = append(out, f.name...)
	out = append(out, ' ')
	out = appendEscapedHelp(out, f.help)
	out = append(out, "\n# TYPE "...)
	out = append(out, f.name...)
	switch f.typ {
	case dto.MetricType_COUNTER:
		out = append(out, " counter\n"...)
	case dto.MetricType_GAUGE:
		out = append(out, " gauge\n"...)
	case dto.MetricType_SUMMARY:
		out = append(out, " summary\n"...)
	case dto.MetricType_UNTYPED:
		out = append(out, " untyped\n"...)
	default: // histogram; a gauge histogram is written as one
		out = append(out, " histogram\n"...)
	}
	return out
}

// appendMetric writes a metric's lines as expfmt's MetricFamilyToText
// writes them.
func appendMetric(out []byte, f *family, m *dto.Metric) []byte {
	switch f.typ {
	case dto.MetricType_COUNTER:
		return appendSample(out, f.name, "", m, "", 0, m.Counter.GetValue())
	case dto.MetricType_GAUGE:
		return appendSample(out, f.name, "", m, "", 0, m.Gauge.GetValue())
	case dto.MetricType_UNTYPED:
		return appendSample(out, f.name, "", m, "", 0, m.Untyped.GetValue())
	case dto.MetricType_SUMMARY:
		for _, q := range m.Summary.GetQuantile() {
			out = appendSample(out, f.name, "", m, model.QuantileLabel, q.GetQuantile(), q.GetValue())
		}
		out = appendSample(out, f.name, "_sum", m, "", 0, m.Summary.GetSampleSum())
		return appendSample(out, f.name, "_count", m, "", 0, float64(m.Summary.GetSampleCount()))
	}
	h := m.GetHistogram()
	infSeen := false
	for _, b := range h.GetBucket() {
		v := b.GetCumulativeCountFloat()
		if v == 0 {
			v = float64(b.GetCumulativeCount())
		}
		out = appendSample(out, f.name, "_bucket", m, model.BucketLabel, b.GetUpperBound(), v)
		if math.IsInf(b.GetUpperBound(), +1) {
			infSeen = true
		}
	}
	count := h.GetSampleCountFloat()
	if count == 0 {
		count = float64(h.GetSampleCount())
	}
	if !infSeen {
		out = appendSample(out, f.name, "_bucket", m, model.BucketLabel, math.Inf(+1), count)
	}
	out = appendSample(out, f.name, "_sum", m, "", 0, h.GetSampleSum())
	return appendSample(out, f.name, "_count", m, "", 0, count)
}

func appendSample(out []byte, name, suffix string, m *dto.Metric, extraName string, extraValue, value float64) []byte {
	out = append(out, name...)
	out = append(out, suffix...)
	if len(m.Label) > 0 || extraName != "" {
		sep := byte('{')
		for _, lp := range m.Label {
			out = append(out, sep)
			out = append(out, lp.GetName()...)
			out = append(out, '=', '"')
			out = appendEscapedLabelValue(out, lp.GetValue())
			out = append(out, '"')
			sep = ','
		}
		if extraName != "" {
			out = append(out, sep)
			out = append(out, extraName...)
			out = append(out, '=', '"')
			out = appendFloat(out, extraValue)
			out = append(out, '"')
		}
		out = append(out, '}')
	}
	out = append(out, ' ')
	out = appendFloat(out, value)
	if m.TimestampMs != nil {
		out = append(out, ' ')
		out = strconv.AppendInt(out, *m.TimestampMs, 10)
	}
	return append(out, '\n')
}

// appendFloat is expfmt's writeFloat.
func appendFloat(out []byte, f float64) []byte {
	switch {
	case f == 1:
		return append(out, '1')
	case f == 0:
		return append(out, '0')
	case f == -1:
		return append(out, "-1"...)
	case math.IsNaN(f):
		return append(out, "NaN"...)
	case math.IsInf(f, +1):
		return append(out, "+Inf"...)
	case math.IsInf(f, -1):
		return append(out, "-Inf"...)
	}
	return strconv.AppendFloat(out, f, 'g', -1, 64)
}

// appendEscapedLabelValue escapes as expfmt does: backslash, newline and
// double quote.
func appendEscapedLabelValue(out []byte, v string) []byte { return appendEscaped(out, v, "\\\n\"") }

// appendEscapedHelp escapes as expfmt does: backslash and newline.
func appendEscapedHelp(out []byte, v string) []byte { return appendEscaped(out, v, "\\\n") }

// appendEscaped appends v with a backslash before each of special, and
// a newline written as \n.
func appendEscaped(out []byte, v, special string) []byte {
	if !strings.ContainsAny(v, special) {
		return append(out, v...)
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\n':
			out = append(out, `\n`...)
		case strings.IndexByte(special, c) >= 0:
			out = append(out, '\\', c)
		default:
			out = append(out, c)
		}
	}
	return out
}
