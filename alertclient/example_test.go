package alertclient_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/warden-exporter/warden/alertclient"
)

// Validate finds every problem before anything is sent, and says which
// alert and which field is wrong; Send calls it too.
func ExampleValidate() {
	alerts := []alertclient.Alert{
		{Labels: map[string]string{"alertname": "DiskFull", "instance": "node1"}},
		{Labels: map[string]string{"alertname": "DiskFull", "mount-point": "/"}},
		{Labels: map[string]string{"severity": "critical"}},
	}
	err := alertclient.Validate(alerts)
	fmt.Println(err)

	var verr *alertclient.ValidationError
	if errors.As(err, &verr) {
		fmt.Println("first bad alert:", verr.Index, "field:", verr.Field)
	}
	// Output:
	// alert 1 {alertname="DiskFull",mount-point="/"}: labels.mount-point: invalid label name "mount-point": use [a-zA-Z_][a-zA-Z0-9_]*
	// alert 2 {severity="critical"}: labels.alertname: missing or empty
	// first bad alert: 1 field: labels.mount-point
}

// ParseAlerts reads what `wardentool alert send --file` reads: a JSON
// array, or JSON lines as here, in Alertmanager's form.
func ExampleParseAlerts() {
	input := `{"labels":{"alertname":"Unreachable","instance":"web1"},"annotations":{"summary":"web1 does not answer"}}
{"labels":{"alertname":"Unreachable","instance":"web2"},"endsAt":"2026-01-02T03:04:05Z"}
`
	alerts, err := alertclient.ParseAlerts(strings.NewReader(input))
	if err != nil {
		panic(err)
	}
	for _, a := range alerts {
		fmt.Println(a.Name(), a, a.Annotations["summary"], a.EndsAt.IsZero())
	}

	_, err = alertclient.ParseAlerts(strings.NewReader(`{"labels":{"alertname":"X"},"lables":{}}`))
	fmt.Println(err)
	// Output:
	// Unreachable {alertname="Unreachable",instance="web1"} web1 does not answer true
	// Unreachable {alertname="Unreachable",instance="web2"}  false
	// line 1: json: unknown field "lables"
}

// LabelsFromArgs takes labels as `amtool alert add` does: an optional bare
// alertname first, then name=value pairs.
func ExampleLabelsFromArgs() {
	labels, err := alertclient.LabelsFromArgs([]string{"DiskFull", "severity=critical", "instance=node1"})
	fmt.Println(alertclient.Alert{Labels: labels}, err)

	_, err = alertclient.LabelsFromArgs([]string{"DiskFull", "Second"})
	fmt.Println(err)
	// Output:
	// {alertname="DiskFull",instance="node1",severity="critical"} <nil>
	// argument "Second": want name=value (only the first argument may be a bare alertname)
}
