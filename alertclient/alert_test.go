package alertclient

import (
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name  string
		alert Alert
		want  []string
	}{
		{"good", Alert{Labels: map[string]string{"alertname": "A", "severity": "page"}, Annotations: map[string]string{"summary": "s"}}, nil},
		{"no labels", Alert{}, []string{"alert 0 {}: labels: no labels"}},
		{"no alertname", Alert{Labels: map[string]string{"severity": "page"}}, []string{"labels.alertname: missing or empty"}},
		{"bad label name", Alert{Labels: map[string]string{"alertname": "A", "0x": "y"}}, []string{`labels.0x: invalid label name "0x"`}},
		{"empty label value", Alert{Labels: map[string]string{"alertname": "A", "x": ""}}, []string{"labels.x: empty value"}},
		{"bad annotation name", Alert{Labels: map[string]string{"alertname": "A"}, Annotations: map[string]string{"a-b": "y"}}, []string{`annotations.a-b: invalid annotation name`}},
		{"ends before start", Alert{Labels: map[string]string{"alertname": "A"}, StartsAt: now, EndsAt: now.Add(-time.Hour)}, []string{"endsAt: ", "is before startsAt"}},
		{"bad utf8", Alert{Labels: map[string]string{"alertname": "A\xff"}}, []string{"labels.alertname: value is not valid UTF-8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate([]Alert{tt.alert})
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
		})
	}
	// The index names which alert of a batch is wrong.
	err := Validate([]Alert{{Labels: map[string]string{"alertname": "ok"}}, {Labels: map[string]string{"alertname": ""}}})
	if err == nil || !strings.HasPrefix(err.Error(), "alert 1 ") {
		t.Errorf("got %v, want it to name alert 1", err)
	}
}

func TestParseAlerts(t *testing.T) {
	array := `[{"labels":{"alertname":"A"},"annotations":{"s":"x"},"startsAt":"2026-11-23T10:00:00Z"},{"labels":{"alertname":"B"}}]`
	lines := "{\"labels\":{\"alertname\":\"A\"}}\n\n{\"labels\":{\"alertname\":\"B\"},\"generatorURL\":\"http://x\"}\n"
	for name, in := range map[string]string{"array": array, "lines": lines} {
		got, err := ParseAlerts(strings.NewReader(in))
		if err != nil || len(got) != 2 || got[1].Name() != "B" {
			t.Errorf("%s: %v %+v", name, err, got)
		}
	}
	for in, want := range map[string]string{
		"":                                      "no alerts",
		"{\"labels\":{}}\n{\"lables\":{}}\n":    `line 2: json: unknown field "lables"`,
		`[{"labels":{"alertname":"A"}}`:         "JSON array of alerts: unexpected EOF",
		"{\"labels\":{\"alertname\":\"A\"}}\nx": "line 2: invalid character",
	} {
		if _, err := ParseAlerts(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", in, err, want)
		}
	}
}

func TestLabelsFromArgs(t *testing.T) {
	got, err := LabelsFromArgs([]string{"DiskFull", "severity=page", "x=a=b"})
	if err != nil || got["alertname"] != "DiskFull" || got["severity"] != "page" || got["x"] != "a=b" {
		t.Errorf("%v %v", got, err)
	}
	for _, args := range [][]string{{"a=1", "bare"}, {"a=1", "a=2"}} {
		if _, err := LabelsFromArgs(args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
