package exposition

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// descInfo is what the text format needs of a Desc: its name and help.
type descInfo struct {
	name, help string
}

// A Desc keeps its name, help and labels unexported and shows them only
// in its String, which formats every label with fmt: reading them from
// String for each Desc of each scrape (hwmon, vmstat and textfile make
// theirs on every scrape) cost more than writing the metrics. So they are
// read from the struct's fields, whose offsets reflect finds at start,
// once check has seen that they hold what String shows and what NewDesc
// was given; otherwise (a client_golang whose Desc is laid out
// differently) the name and help come from String, and constant metrics
// are client_golang's own (see MustNewConstMetric).
var descFields = findDescFields()

type descFieldOffsets struct {
	ok         bool
	name, help uintptr
	// constLabels is Desc.constLabelPairs; variable is Desc.variableLabels,
	// a pointer to a struct whose field at names is the label names.
	constLabels, variable, names uintptr
}

func findDescFields() descFieldOffsets {
	t := reflect.TypeFor[prometheus.Desc]()
	name, ok1 := t.FieldByName("fqName")
	help, ok2 := t.FieldByName("help")
	constLabels, ok3 := t.FieldByName("constLabelPairs")
	variable, ok4 := t.FieldByName("variableLabels")
	if !ok1 || !ok2 || !ok3 || !ok4 ||
		name.Type.Kind() != reflect.String || help.Type.Kind() != reflect.String ||
		constLabels.Type != reflect.TypeFor[[]*dto.LabelPair]() ||
		variable.Type.Kind() != reflect.Pointer || variable.Type.Elem().Kind() != reflect.Struct {
		return descFieldOffsets{}
	}
	names, ok5 := variable.Type.Elem().FieldByName("names")
	if !ok5 || names.Type != reflect.TypeFor[[]string]() {
		return descFieldOffsets{}
	}
	f := descFieldOffsets{ok: true, name: name.Offset, help: help.Offset, constLabels: constLabels.Offset, variable: variable.Offset, names: names.Offset}
	if !f.check() {
		return descFieldOffsets{}
	}
	return f
}

// check compares what the fields hold with what String shows and what
// NewDesc was given, for a Desc with labels and a help that needs quoting.
func (f descFieldOffsets) check() bool {
	d := prometheus.NewDesc("exposition_check_total", "Help with \"quotes\",\nnewlines and ünïcode.", []string{"b", "a"}, prometheus.Labels{"c": "v"})
	want, err := parseDesc(d.String())
	if err != nil || f.read(d) != want {
		return false
	}
	names, consts := f.labels(d)
	return slices.Equal(names, []string{"b", "a"}) && len(consts) == 1 && consts[0].GetName() == "c" && consts[0].GetValue() == "v"
}

func (f descFieldOffsets) read(d *prometheus.Desc) descInfo {
	p := unsafe.Pointer(d)
	return descInfo{
		name: *(*string)(unsafe.Add(p, f.name)),
		help: *(*string)(unsafe.Add(p, f.help)),
	}
}

// labels returns the Desc's variable label names, in the order their
// values are given, and its constant label pairs. Both are the Desc's:
// not to be changed.
func (f descFieldOffsets) labels(d *prometheus.Desc) (variable []string, constant []*dto.LabelPair) {
	p := unsafe.Pointer(d)
	constant = *(*[]*dto.LabelPair)(unsafe.Add(p, f.constLabels))
	if v := *(*unsafe.Pointer)(unsafe.Add(p, f.variable)); v != nil {
		variable = *(*[]string)(unsafe.Add(v, f.names))
	}
	return variable, constant
}

func describe(d *prometheus.Desc) (descInfo, error) {
	if descFields.ok {
		return descFields.read(d), nil
	}
	return parseDesc(d.String())
}

// parseDesc reads the name and help from a Desc's String:
//
//	Desc{fqName: "name", help: "help", unit: ...}
func parseDesc(s string) (descInfo, error) {
	rest, ok := strings.CutPrefix(s, `Desc{fqName: `)
	name, rest, ok2 := cutQuoted(rest, ok)
	rest, ok3 := strings.CutPrefix(rest, `, help: `)
	help, _, ok4 := cutQuoted(rest, ok3)
	if !ok || !ok2 || !ok3 || !ok4 {
		return descInfo{}, fmt.Errorf("exposition: cannot read name and help from %s", s)
	}
	return descInfo{name: name, help: help}, nil
}

// cutQuoted unquotes the Go-quoted string at the start of s.
func cutQuoted(s string, ok bool) (value, rest string, _ bool) {
	if !ok {
		return "", "", false
	}
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", "", false
	}
	value, err = strconv.Unquote(q)
	return value, s[len(q):], err == nil
}
