package alertclient

// Fuzz targets for the alerts a user gives wardentool: a JSON array or
// JSON lines (--file), and amtool-style label arguments. `make fuzz` runs
// them; `go test` replays testdata/fuzz/ as seeds.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-openapi/strfmt"
	"github.com/prometheus/alertmanager/api/v2/models"
	"github.com/prometheus/common/model"
)

// FuzzParseAlerts checks ParseAlerts. An input it accepts holds at least
// one alert and is read whole: the array is the input's only JSON value,
// and every non-blank line is exactly one JSON value (nothing after it is
// dropped unread). The alerts re-marshal, as an array and as lines, to
// JSON that parses back equal. Alerts that Validate then accepts are
// accepted by Alertmanager's API as well.
func FuzzParseAlerts(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		alerts, err := ParseAlerts(bytes.NewReader(data))
		if err != nil {
			if alerts != nil {
				t.Errorf("error %v, and %d alerts", err, len(alerts))
			}
			return
		}
		if len(alerts) == 0 {
			t.Fatal("accepted an input without alerts")
		}
		if in := bytes.Trim(data, " \t\r\n"); in[0] == '[' {
			if !json.Valid(in) {
				t.Errorf("accepted an array followed by more input: %q", in)
			}
		} else {
			for i, line := range bytes.Split(data, []byte("\n")) {
				if l := bytes.TrimSpace(line); len(l) > 0 && !json.Valid(l) {
					t.Errorf("accepted line %d, which is not one JSON value: %q", i+1, l)
				}
			}
		}

		array, err := json.Marshal(alerts)
		if err != nil {
			t.Fatalf("accepted alerts that do not marshal: %v", err)
		}
		var lines bytes.Buffer
		for _, a := range alerts {
			b, _ := json.Marshal(a)
			lines.Write(append(b, '\n'))
		}
		for form, in := range map[string][]byte{"array": array, "lines": lines.Bytes()} {
			again, err := ParseAlerts(bytes.NewReader(in))
			if err != nil {
				t.Fatalf("re-marshalled as %s, does not parse: %v\n%s", form, err, in)
			}
			checkSameAlerts(t, alerts, again)
		}
		if Validate(alerts) == nil {
			checkAlertmanagerAccepts(t, alerts)
		}
	})
}

// FuzzLabelsFromArgs checks LabelsFromArgs on arguments split at NUL. A
// label set it accepts has one label per argument, each its argument's
// name=value (a bare first argument its alertname), and re-renders as
// name=value arguments that parse back equal; an error names the
// argument at fault. Labels that Validate then accepts are accepted by
// Alertmanager's API as well.
func FuzzLabelsFromArgs(f *testing.F) {
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		labels, err := LabelsFromArgs(args)
		if err != nil {
			if labels != nil {
				t.Errorf("error %v, and labels %v", err, labels)
			}
			if !slices.ContainsFunc(args, func(a string) bool { return strings.Contains(err.Error(), fmt.Sprintf("%q", a)) }) {
				t.Errorf("error names no argument: %v", err)
			}
			return
		}
		if len(labels) != len(args) {
			t.Errorf("%d arguments, %d labels: %v", len(args), len(labels), labels)
		}
		for i, arg := range args {
			name, value, ok := strings.Cut(arg, "=")
			if !ok {
				name, value = model.AlertNameLabel, arg
				if i != 0 {
					t.Errorf("accepted bare argument %d %q", i, arg)
				}
			}
			if got, ok := labels[name]; !ok || got != value {
				t.Errorf("argument %q gave %s=%q", arg, name, got)
			}
		}
		var again []string
		for _, name := range slices.Sorted(maps.Keys(labels)) {
			again = append(again, name+"="+labels[name])
		}
		back, err := LabelsFromArgs(again)
		if err != nil || !maps.Equal(back, labels) {
			t.Errorf("re-rendered as %q: %v, %v", again, back, err)
		}
		if a := []Alert{{Labels: labels}}; Validate(a) == nil {
			checkAlertmanagerAccepts(t, a)
		}
	})
}

// checkSameAlerts fails t unless got holds want's alerts (nil and empty
// maps alike, times equal as instants).
func checkSameAlerts(t *testing.T, want, got []Alert) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d alerts, want %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if !maps.Equal(w.Labels, g.Labels) || !maps.Equal(w.Annotations, g.Annotations) ||
			!w.StartsAt.Equal(g.StartsAt) || !w.EndsAt.Equal(g.EndsAt) || w.GeneratorURL != g.GeneratorURL {
			t.Errorf("alert %d: %+v, want %+v", i, g, w)
		}
	}
}

// checkAlertmanagerAccepts fails t unless Alertmanager's API would take
// what a Send posts for alerts: the payload passes the API's schema
// (validated as its server does, after the JSON went over the wire), and
// each alert passes the check Alertmanager makes before it stores one.
func checkAlertmanagerAccepts(t *testing.T, alerts []Alert) {
	t.Helper()
	body, err := json.Marshal(Payload(alerts, time.Now()))
	if err != nil {
		t.Fatalf("Validate accepted alerts whose payload does not marshal: %v", err)
	}
	var received models.PostableAlerts
	if err := json.Unmarshal(body, &received); err != nil {
		t.Fatalf("Validate accepted alerts that Alertmanager cannot decode: %v\n%s", err, body)
	}
	if err := received.Validate(strfmt.Default); err != nil {
		t.Fatalf("Validate accepted alerts that Alertmanager's API refuses: %v\n%s", err, body)
	}
	for i, p := range received {
		a := model.Alert{
			Labels:       labelSet(p.Labels),
			Annotations:  labelSet(p.Annotations),
			StartsAt:     time.Time(p.StartsAt),
			EndsAt:       time.Time(p.EndsAt),
			GeneratorURL: string(p.GeneratorURL),
		}
		if err := a.Validate(); err != nil {
			t.Errorf("Validate accepted alert %d that Alertmanager refuses: %v\n%s", i, err, body)
		}
	}
}

func labelSet(ls models.LabelSet) model.LabelSet {
	out := make(model.LabelSet, len(ls))
	for k, v := range ls {
		out[model.LabelName(k)] = model.LabelValue(v)
	}
	return out
}
