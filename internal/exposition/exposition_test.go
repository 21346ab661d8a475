package exposition

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/proto"
)

// reference is what client_golang and expfmt write for cs and gs, the
// way the handler used them: a registry of cs, gathered with gs, each
// family encoded for format.
func reference(t *testing.T, format expfmt.Format, cs []prometheus.Collector, gs []prometheus.Gatherer) (string, int) {
	t.Helper()
	reg := prometheus.NewRegistry()
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			t.Fatalf("register: %v", err)
		}
	}
	mfs, err := append(prometheus.Gatherers{reg}, gs...).Gather()
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, format)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatalf("encode %s: %v", mf.GetName(), err)
		}
	}
	return buf.String(), errorCount(err)
}

func errorCount(err error) int {
	var multi prometheus.MultiError
	if errors.As(err, &multi) {
		return len(multi)
	}
	if err != nil {
		return 1
	}
	return 0
}

func ours(t *testing.T, format expfmt.Format, cs []prometheus.Collector, gs []prometheus.Gatherer) (string, int) {
	t.Helper()
	s, err := Gather(format, cs, gs)
	defer s.Release()
	var buf bytes.Buffer
	if _, err := s.WriteTo(&buf, nil); err != nil {
		t.Fatal(err)
	}
	return buf.String(), errorCount(err)
}

// collectorFunc collects what its function sends; it describes nothing,
// so that a registry takes it whatever it sends (an unchecked collector).
type collectorFunc func(chan<- prometheus.Metric)

func (collectorFunc) Describe(chan<- *prometheus.Desc)      {}
func (f collectorFunc) Collect(ch chan<- prometheus.Metric) { f(ch) }

// rawMetric is a metric whose dto is given as it is, labels unsorted
// included.
type rawMetric struct {
	desc *prometheus.Desc
	m    *dto.Metric
}

func (r rawMetric) Desc() *prometheus.Desc { return r.desc }
func (r rawMetric) Write(m *dto.Metric) error {
	proto.Merge(m, r.m)
	return nil
}

var (
	formatText       = expfmt.NewFormat(expfmt.TypeTextPlain)
	formatUTF8       = expfmt.NewFormat(expfmt.TypeTextPlain).WithEscapingScheme(model.NoEscaping)
	formatUnderscore = expfmt.NewFormat(expfmt.TypeTextPlain).WithEscapingScheme(model.UnderscoreEscaping)
	formatValues     = expfmt.NewFormat(expfmt.TypeTextPlain).WithEscapingScheme(model.ValueEncodingEscaping)
)

// TestSameAsRegistry compares the output, and the number of errors,
// with client_golang's registry and expfmt's encoder for inputs that
// exercise every case of the text format and every check of the
// registry.
func TestSameAsRegistry(t *testing.T) {
	for _, mk := range []struct {
		name string
		new  func(*prometheus.Desc, prometheus.ValueType, float64, ...string) prometheus.Metric
	}{{"client_golang", prometheus.MustNewConstMetric}, {"exposition", MustNewConstMetric}} {
		t.Run(mk.name, func(t *testing.T) {
			sameAsRegistry(t, mk.new)
		})
	}
}

func sameAsRegistry(t *testing.T, newConstMetric func(*prometheus.Desc, prometheus.ValueType, float64, ...string) prometheus.Metric) {
	gauge := prometheus.NewDesc("test_gauge", "A gauge\nwith a newline and a \\ backslash.", []string{"b", "a"}, prometheus.Labels{"const": "c"})
	counter := prometheus.NewDesc("test_total", "A counter.", []string{"v"}, nil)
	untyped := prometheus.NewDesc("test_untyped", "Untyped.", nil, nil)
	summary := prometheus.NewDesc("test_summary_seconds", "A summary.", []string{"x"}, nil)
	histogram := prometheus.NewDesc("test_histogram_seconds", "A histogram.", []string{"x"}, nil)
	utf8Name := prometheus.NewDesc("test.utf8 name", "Dots and a space.", []string{"label.with.dots"}, nil)
	values := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1e21, 1e-7, 123456789, math.NaN(), math.Inf(1), math.Inf(-1), math.MaxFloat64, math.SmallestNonzeroFloat64}

	cases := []struct {
		name string
		cs   []prometheus.Collector
		gs   []prometheus.Gatherer
	}{
		{"values and escaping", []prometheus.Collector{collectorFunc(func(ch chan<- prometheus.Metric) {
			for i, v := range values {
				ch <- newConstMetric(gauge, prometheus.GaugeValue, v, strings.Repeat("z", i), "a\"q\\b\nc ü")
			}
			ch <- newConstMetric(counter, prometheus.CounterValue, 42, "x")
			ch <- newConstMetric(counter, prometheus.CounterValue, 7, "")
			ch <- newConstMetric(untyped, prometheus.UntypedValue, 3)
		})}, nil},
		{"summary and histogram", []prometheus.Collector{collectorFunc(func(ch chan<- prometheus.Metric) {
			ch <- prometheus.MustNewConstSummary(summary, 10, 1.5, map[float64]float64{0.5: 0.1, 0.99: 0.9}, "s")
			ch <- prometheus.MustNewConstSummary(summary, 0, 0, nil, "empty")
			ch <- prometheus.MustNewConstHistogram(histogram, 10, 2.5, map[float64]uint64{0.1: 1, 1: 5, math.Inf(1): 10}, "with-inf")
			ch <- prometheus.MustNewConstHistogram(histogram, 3, 0.5, map[float64]uint64{0.25: 1}, "without-inf")
		})}, nil},
		{"timestamps and sorting", []prometheus.Collector{collectorFunc(func(ch chan<- prometheus.Metric) {
			for _, v := range []string{"b", "a", "ab", "a b", "", "B"} {
				ch <- newConstMetric(counter, prometheus.CounterValue, 1, v)
			}
			ch <- prometheus.NewMetricWithTimestamp(timeAt(1_700_000_000_123), newConstMetric(untyped, prometheus.UntypedValue, 5))
			ch <- rawMetric{gauge, &dto.Metric{
				Label: []*dto.LabelPair{{Name: proto.String("z"), Value: proto.String("1")}, {Name: proto.String("a"), Value: proto.String("2")}},
				Gauge: &dto.Gauge{Value: proto.Float64(9)},
			}}
		})}, nil},
		{"registry errors", []prometheus.Collector{collectorFunc(func(ch chan<- prometheus.Metric) {
			ch <- newConstMetric(counter, prometheus.CounterValue, 1, "dup")
			ch <- newConstMetric(counter, prometheus.CounterValue, 2, "dup") // duplicate series
			ch <- newConstMetric(prometheus.NewDesc("test_total", "Other help.", []string{"v"}, nil), prometheus.CounterValue, 1, "h")
			ch <- newConstMetric(prometheus.NewDesc("test_total", "A counter.", []string{"v"}, nil), prometheus.GaugeValue, 1, "type")
			ch <- prometheus.MustNewConstSummary(summary, 1, 1, nil, "s")
			ch <- newConstMetric(prometheus.NewDesc("test_summary_seconds_count", "Collides.", nil, nil), prometheus.GaugeValue, 1)
			ch <- prometheus.NewInvalidMetric(prometheus.NewDesc("test_invalid", "Invalid.", nil, nil), errors.New("broken"))
			ch <- newConstMetric(prometheus.NewDesc("test_ok", "Still here.", nil, nil), prometheus.GaugeValue, 1)
		})}, nil},
		{"panicking collector", []prometheus.Collector{
			collectorFunc(func(chan<- prometheus.Metric) { panic("boom") }),
			collectorFunc(func(ch chan<- prometheus.Metric) {
				ch <- newConstMetric(untyped, prometheus.UntypedValue, 1)
			}),
		}, nil},
		{"gatherers merged", []prometheus.Collector{collectorFunc(func(ch chan<- prometheus.Metric) {
			ch <- newConstMetric(counter, prometheus.CounterValue, 1, "from-registry")
		})}, []prometheus.Gatherer{gatherer(func() []prometheus.Collector {
			c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "test_total", Help: "A counter."}, []string{"v"})
			c.WithLabelValues("from-gatherer").Add(3)
			c.WithLabelValues("from-registry").Add(3) // a duplicate
			h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "test_gathered_seconds", Help: "Observed.", Buckets: []float64{1, 2}})
			h.Observe(1.5)
			return []prometheus.Collector{c, h, collectors.NewGoCollector()}
		})}},
	}
	for _, tc := range cases {
		for _, format := range []expfmt.Format{formatText, formatUTF8, formatUnderscore, formatValues} {
			t.Run(tc.name+"/"+string(format), func(t *testing.T) {
				want, wantErrs := reference(t, format, tc.cs, tc.gs)
				got, gotErrs := ours(t, format, tc.cs, tc.gs)
				if !strings.HasPrefix(tc.name, "gatherers") || !strings.Contains(want, "go_memstats") {
					if got != want {
						t.Errorf("output differs from the registry's:\n--- got\n%s\n--- want\n%s", got, want)
					}
				} else if stripGo(got) != stripGo(want) {
					t.Errorf("output differs from the registry's:\n--- got\n%s\n--- want\n%s", stripGo(got), stripGo(want))
				}
				if gotErrs != wantErrs {
					t.Errorf("%d errors, the registry has %d", gotErrs, wantErrs)
				}
			})
		}
	}

	// Names outside the legacy rules, which each format writes its way.
	for _, format := range []expfmt.Format{formatText, formatUTF8, formatUnderscore, formatValues} {
		t.Run("utf8 names/"+string(format), func(t *testing.T) {
			cs := []prometheus.Collector{collectorFunc(func(ch chan<- prometheus.Metric) {
				ch <- newConstMetric(utf8Name, prometheus.GaugeValue, 1, "v")
				ch <- newConstMetric(utf8Name, prometheus.GaugeValue, 2, "u")
				ch <- newConstMetric(gauge, prometheus.GaugeValue, 3, "b", "a")
			})}
			want, _ := reference(t, format, cs, nil)
			got, _ := ours(t, format, cs, nil)
			if got != want {
				t.Errorf("output differs from the registry's:\n--- got\n%s\n--- want\n%s", got, want)
			}
		})
	}
}

// stripGo leaves out the go_ families, whose values change between two
// gatherings.
func stripGo(s string) string {
	var out []string
	for line := range strings.Lines(s) {
		if !strings.Contains(line, "go_") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}

// gatherer is a registry of what its function returns, made at each
// Gather, so that the reference and ours gather the same values.
type gatherer func() []prometheus.Collector

func (g gatherer) Gather() ([]*dto.MetricFamily, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(g()...)
	return reg.Gather()
}

// Both ways of reading a Desc, the fields and String, give its name and
// help.
func TestDescribe(t *testing.T) {
	if !descFields.ok {
		t.Error("the Desc fields were not found: names and help are read from String, which is slower")
	}
	for _, help := range []string{"plain", "quote \" and backslash \\ and newline \n", "ünïcode ✓", ""} {
		d := prometheus.NewDesc("name_total", help, []string{"a"}, prometheus.Labels{"c": "\"v\""})
		fields := descFields.read(d)
		parsed, err := parseDesc(d.String())
		for _, info := range []descInfo{fields, parsed} {
			if err != nil || info.name != "name_total" || info.help != help {
				t.Errorf("read %s as %+v (%v)", d, info, err)
			}
		}
	}
	if _, err := parseDesc("Desc{name: x}"); err == nil {
		t.Error("parseDesc accepted a string it does not know")
	}
}

func TestWriteToFilter(t *testing.T) {
	cs := []prometheus.Collector{collectorFunc(func(ch chan<- prometheus.Metric) {
		ch <- prometheus.MustNewConstMetric(prometheus.NewDesc("a", "A.", nil, nil), prometheus.GaugeValue, 1)
		ch <- prometheus.MustNewConstMetric(prometheus.NewDesc("b", "B.", nil, nil), prometheus.GaugeValue, 2)
	})}
	s, err := Gather(formatText, cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	var buf bytes.Buffer
	if _, err := s.WriteTo(&buf, map[string]struct{}{"b": {}}); err != nil {
		t.Fatal(err)
	}
	if want := "# HELP b B.\n# TYPE b gauge\nb 2\n"; buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

func timeAt(ms int64) time.Time { return time.UnixMilli(ms) }

// The choice promhttp's negotiation makes, offering identity and gzip.
func TestNegotiateGzip(t *testing.T) {
	for _, tc := range []struct {
		accept string
		gzip   bool
	}{
		{"", false},
		{"gzip", true},
		{"gzip, deflate, br", true},
		{"identity", false},
		{"identity, gzip", false}, // a tie: the first offer, identity
		{"identity;q=0.5, gzip", true},
		{"gzip;q=0", false},
		{"*", false},
		{"*;q=0.1, gzip;q=0.2", true},
		{"br", false},
		{"gzip;q=0.8, identity;q=0.9", false},
	} {
		h := http.Header{}
		if tc.accept != "" {
			h.Set("Accept-Encoding", tc.accept)
		}
		if got := negotiateGzip(h); got != tc.gzip {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", tc.accept, got, tc.gzip)
		}
	}
}

// MustNewConstMetric panics where client_golang's does, with its message.
func TestMustNewConstMetricPanics(t *testing.T) {
	d := prometheus.NewDesc("test_total", "Help.", []string{"a"}, nil)
	for name, f := range map[string]func(func(*prometheus.Desc, prometheus.ValueType, float64, ...string) prometheus.Metric){
		"too few values": func(mk func(*prometheus.Desc, prometheus.ValueType, float64, ...string) prometheus.Metric) {
			mk(d, prometheus.CounterValue, 1)
		},
		"not utf8": func(mk func(*prometheus.Desc, prometheus.ValueType, float64, ...string) prometheus.Metric) {
			mk(d, prometheus.CounterValue, 1, "\xff")
		},
		"unknown type": func(mk func(*prometheus.Desc, prometheus.ValueType, float64, ...string) prometheus.Metric) {
			mk(d, 42, 1, "x")
		},
		"desc with error": func(mk func(*prometheus.Desc, prometheus.ValueType, float64, ...string) prometheus.Metric) {
			mk(prometheus.NewDesc("test_dup", "H.", []string{"a", "a"}, nil), prometheus.GaugeValue, 1, "x", "y")
		},
	} {
		want, got := panicOf(func() { f(prometheus.MustNewConstMetric) }), panicOf(func() { f(MustNewConstMetric) })
		if want == "" || got != want {
			t.Errorf("%s: panic %q, client_golang's %q", name, got, want)
		}
	}
}

func panicOf(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

// A Desc's layout is kept from one scrape to the next, but only while
// scrapes use it: a collector making its Descs as it collects does not
// grow the state scrape after scrape.
func TestLayoutsKeptForDescsInUse(t *testing.T) {
	stable := prometheus.NewDesc("stable", "Kept.", []string{"b", "a"}, nil)
	cs := []prometheus.Collector{collectorFunc(func(ch chan<- prometheus.Metric) {
		ch <- MustNewConstMetric(stable, prometheus.GaugeValue, 1, "x", "y")
		ch <- MustNewConstMetric(prometheus.NewDesc("fresh", "Made each scrape.", nil, nil), prometheus.GaugeValue, 2)
	})}
	first := map[*Scrape]*layout{} // states come from a free list: each has its own
	for i := range 10 {
		s, err := Gather(formatText, cs, nil)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := s.WriteTo(&buf, nil); err != nil {
			t.Fatal(err)
		}
		if want := "stable{a=\"y\",b=\"x\"} 1\n"; !strings.Contains(buf.String(), want) {
			t.Fatalf("scrape %d: no %q in\n%s", i, want, buf.String())
		}
		if l, ok := first[s]; !ok {
			first[s] = s.layouts[stable]
		} else if s.layouts[stable] != l {
			t.Errorf("scrape %d: the layout of an unchanged Desc was made again", i)
		}
		s.Release()
		if len(s.layouts) != 2 {
			t.Fatalf("after scrape %d: %d layouts kept, want 2 (the Descs of that scrape)", i, len(s.layouts))
		}
	}
}
