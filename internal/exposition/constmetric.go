package exposition

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// MustNewConstMetric is prometheus.MustNewConstMetric, for a metric that
// Gather writes without building its protobuf message: a const metric
// from client_golang costs a dto.Metric, a label pair and two strings per
// label and a value message, all garbage once written. This one holds the
// Desc, the value and the label values it is given. It panics where
// client_golang's does (a Desc with an error, a wrong number of label
// values, a value that is not UTF-8, an unknown value type), with its
// message, and its Write gives the same message as client_golang's
// metric, which it builds to write it.
func MustNewConstMetric(desc *prometheus.Desc, valueType prometheus.ValueType, value float64, labelValues ...string) prometheus.Metric {
	if !descFields.ok || desc.Err() != nil || !knownValueType(valueType) {
		return prometheus.MustNewConstMetric(desc, valueType, value, labelValues...)
	}
	names, _ := descFields.labels(desc)
	if len(names) != len(labelValues) || !validUTF8(labelValues) {
		return prometheus.MustNewConstMetric(desc, valueType, value, labelValues...)
	}
	return &constMetric{desc: desc, valueType: valueType, value: value, labelValues: labelValues}
}

type constMetric struct {
	desc        *prometheus.Desc
	valueType   prometheus.ValueType
	value       float64
	labelValues []string
}

func (m *constMetric) Desc() *prometheus.Desc { return m.desc }

// Write writes what client_golang's const metric writes, for a registry
// or a test.
func (m *constMetric) Write(out *dto.Metric) error {
	return prometheus.MustNewConstMetric(m.desc, m.valueType, m.value, m.labelValues...).Write(out)
}

func knownValueType(t prometheus.ValueType) bool {
	return t == prometheus.CounterValue || t == prometheus.GaugeValue || t == prometheus.UntypedValue
}

func validUTF8(values []string) bool {
	for _, v := range values {
		if !utf8.ValidString(v) {
			return false
		}
	}
	return true
}

// familyType is the type of the family a const metric of type t makes.
func familyType(t prometheus.ValueType) dto.MetricType {
	switch t {
	case prometheus.CounterValue:
		return dto.MetricType_COUNTER
	case prometheus.GaugeValue:
		return dto.MetricType_GAUGE
	}
	return dto.MetricType_UNTYPED
}

// layout is how a Desc's labels are written: their names sorted, as the
// registry sorts a metric's label pairs, and for each where its value
// comes from.
type layout struct {
	// gen is the last gathering (Scrape.gen) that used the layout.
	gen   uint64
	names []string
	// from is, for each of names, the index of its value among the label
	// values, or -1-i for the i-th constant label.
	from     []int
	constant []*dto.LabelPair
	// inOrder: the values are the label values as given (no constant
	// labels, variable names already sorted).
	inOrder bool
	// legacy: the family name and every label name follow the legacy
	// rules, so the metric is written here.
	legacy bool
}

func newLayout(d *prometheus.Desc, name string) *layout {
	variable, constant := descFields.labels(d)
	l := &layout{constant: constant}
	for i, n := range variable {
		l.names = append(l.names, n)
		l.from = append(l.from, i)
	}
	for i, lp := range constant {
		l.names = append(l.names, lp.GetName())
		l.from = append(l.from, -1-i)
	}
	order := make([]int, len(l.names))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(l.names[a], l.names[b]) })
	names, from := make([]string, len(order)), make([]int, len(order))
	for i, o := range order {
		names[i], from[i] = l.names[o], l.from[o]
	}
	l.names, l.from = names, from
	l.inOrder = len(constant) == 0 && slices.IsSorted(variable)
	l.legacy = legacyNames(name, nil)
	for _, n := range l.names {
		l.legacy = l.legacy && legacyLabelName(n)
	}
	return l
}

// values returns the metric's label values in the layout's order.
func (l *layout) values(labelValues []string) []string {
	if l.inOrder {
		return labelValues
	}
	out := make([]string, len(l.from))
	for i, f := range l.from {
		if f >= 0 {
			out[i] = labelValues[f]
		} else {
			out[i] = l.constant[-1-f].GetValue()
		}
	}
	return out
}
