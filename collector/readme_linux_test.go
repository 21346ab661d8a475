package collector

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The collector table of the repository's README.md lies between these
// two lines.
const (
	readmeTableBegin = "<!-- collector table: collector/readme_linux_test.go checks it against the code -->"
	readmeTableEnd   = "<!-- end of collector table -->"
)

// readmeCollector is one row of the README's collector table.
type readmeCollector struct {
	name           string
	defaultEnabled bool
}

// TestReadmeCollectorTable keeps the README's collector table true: one
// row per registered collector, in Names() order, with its default state,
// and no row for a collector that does not exist.
func TestReadmeCollectorTable(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := parseReadmeCollectorTable(string(readme))
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	for _, p := range readmeTableProblems(rows) {
		t.Errorf("README.md collector table: %s", p)
	}
}

// readmeTableProblems compares the table's rows with the registered collectors.
func readmeTableProblems(rows []readmeCollector) []string {
	var problems []string
	inTable := map[string]bool{}
	var names []string
	for _, r := range rows {
		if inTable[r.name] {
			problems = append(problems, fmt.Sprintf("%s has two rows", r.name))
			continue
		}
		inTable[r.name] = true
		names = append(names, r.name)
		if _, ok := factories[r.name]; !ok {
			problems = append(problems, fmt.Sprintf("%s is not a collector: remove its row", r.name))
			continue
		}
		if want := DefaultEnabled(r.name); r.defaultEnabled != want {
			problems = append(problems, fmt.Sprintf("%s: default %s, but the code says %s", r.name, onOff(r.defaultEnabled), onOff(want)))
		}
	}
	for _, name := range Names() {
		if !inTable[name] {
			problems = append(problems, fmt.Sprintf("%s is missing; add the row  | `%s` | %s | ... |", name, name, onOff(DefaultEnabled(name))))
		}
	}
	if len(problems) == 0 && !slices.IsSorted(names) {
		problems = append(problems, fmt.Sprintf("rows are not in alphabetical order: %s", strings.Join(names, " ")))
	}
	return problems
}

// parseReadmeCollectorTable reads the rows "| `name` | on | what |" between
// readmeTableBegin and readmeTableEnd.
func parseReadmeCollectorTable(readme string) ([]readmeCollector, error) {
	_, rest, ok := strings.Cut(readme, readmeTableBegin)
	if !ok {
		return nil, fmt.Errorf("no line %q", readmeTableBegin)
	}
	table, _, ok := strings.Cut(rest, readmeTableEnd)
	if !ok {
		return nil, fmt.Errorf("no line %q after the table", readmeTableEnd)
	}
	var rows []readmeCollector
	for i, line := range strings.Split(strings.TrimSpace(table), "\n") {
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		for j := range cells {
			cells[j] = strings.TrimSpace(cells[j])
		}
		switch {
		case i == 0 && len(cells) >= 2 && cells[0] == "collector" && cells[1] == "default":
			continue
		case i == 1 && strings.Trim(strings.Join(cells, ""), "-: ") == "":
			continue
		case i < 2:
			return nil, fmt.Errorf("table line %d %q: want the header \"| collector | default | ... |\" and its separator", i+1, line)
		}
		if len(cells) < 3 {
			return nil, fmt.Errorf("table line %d %q: want | `name` | on or off | description |", i+1, line)
		}
		name := strings.Trim(cells[0], "`")
		if name == "" || name == cells[0] {
			return nil, fmt.Errorf("table line %d %q: the name must be in backticks", i+1, line)
		}
		var on bool
		switch cells[1] {
		case "on":
			on = true
		case "off":
		default:
			return nil, fmt.Errorf("table line %d %q: default must be on or off, not %q", i+1, line, cells[1])
		}
		rows = append(rows, readmeCollector{name: name, defaultEnabled: on})
	}
	return rows, nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// TestReadmeCollectorTableChecks shows that the check catches what it is for.
func TestReadmeCollectorTableChecks(t *testing.T) {
	var all []readmeCollector
	for _, name := range Names() {
		all = append(all, readmeCollector{name, DefaultEnabled(name)})
	}
	if p := readmeTableProblems(all); len(p) > 0 {
		t.Fatalf("the registered collectors themselves: %v", p)
	}
	flipped := slices.Clone(all)
	flipped[0].defaultEnabled = !flipped[0].defaultEnabled
	reversed := slices.Clone(all)
	slices.Reverse(reversed)
	for _, tc := range []struct {
		name string
		rows []readmeCollector
		want string
	}{
		{"missing", all[1:], all[0].name + " is missing"},
		{"unknown", append(slices.Clone(all), readmeCollector{"softirqs", false}), "softirqs is not a collector"},
		{"twice", append(slices.Clone(all), all[0]), all[0].name + " has two rows"},
		{"wrong default", flipped, all[0].name + ": default"},
		{"order", reversed, "not in alphabetical order"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := readmeTableProblems(tc.rows)
			if len(p) != 1 || !strings.Contains(p[0], tc.want) {
				t.Errorf("problems %q, want one with %q", p, tc.want)
			}
		})
	}

	table := readmeTableBegin + "\n| collector | default | reports |\n| --- | --- | --- |\n| `cpu` | on | CPU |\n| `zfs` | off | ZFS |\n" + readmeTableEnd
	rows, err := parseReadmeCollectorTable("text\n" + table + "\nmore text")
	if err != nil || !slices.Equal(rows, []readmeCollector{{"cpu", true}, {"zfs", false}}) {
		t.Errorf("parse: %v, %v", rows, err)
	}
	for _, bad := range []string{
		"no table",
		readmeTableBegin + "\n| collector | default | reports |\n| --- | --- | --- |\n",
		strings.Replace(table, "| on |", "| yes |", 1),
		strings.Replace(table, "`cpu`", "cpu", 1),
		strings.Replace(table, "| collector |", "| name |", 1),
	} {
		if rows, err := parseReadmeCollectorTable(bad); err == nil {
			t.Errorf("parse accepted %q: %v", bad, rows)
		}
	}
}
