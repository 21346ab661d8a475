// Package alertclient pushes alerts to Alertmanager over the same secured
// path Prometheus uses (TLS, mTLS, basic auth, bearer tokens, OAuth2, from
// prometheus/common's HTTPClientConfig), to every member of an HA cluster
// at once, with retries, and with a durable spool so that no alert is lost
// while Alertmanager is down. It is built on Alertmanager's own API v2
// client. The wardentool CLI and warden_node_exporter are thin shells over it.
package alertclient

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-openapi/strfmt"
	"github.com/prometheus/common/model"
)

// Alert is one alert as Alertmanager's API v2 takes it. Its JSON form is
// Alertmanager's, so `wardentool alert send --file` reads what
// `amtool`-style scripts and Prometheus produce.
type Alert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// Name returns the alert's alertname label.
func (a Alert) Name() string { return a.Labels[model.AlertNameLabel] }

// String identifies the alert in errors and logs: its labels, sorted,
// with values quoted and names through Printable, so that an alert from a
// server prints safely on a terminal.
func (a Alert) String() string {
	keys := make([]string, 0, len(a.Labels))
	for k := range a.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", Printable(k), a.Labels[k])
	}
	b.WriteByte('}')
	return b.String()
}

// ValidationError says which alert and which field is wrong.
type ValidationError struct {
	// Index is the alert's position in the batch, from 0.
	Index int
	Alert Alert
	Field string
	Err   error
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("alert %d %s: %s: %v", e.Index, e.Alert, e.Field, e.Err)
}

func (e *ValidationError) Unwrap() error { return e.Err }

// Validate checks alerts as Alertmanager would, before anything is sent,
// and returns every problem found.
func Validate(alerts []Alert) error {
	var errs []error
	bad := func(i int, a Alert, field string, err error) {
		errs = append(errs, &ValidationError{Index: i, Alert: a, Field: field, Err: err})
	}
	for i, a := range alerts {
		if len(a.Labels) == 0 {
			bad(i, a, "labels", errors.New("no labels"))
			continue
		}
		if strings.TrimSpace(a.Name()) == "" {
			bad(i, a, "labels.alertname", errors.New("missing or empty"))
		}
		for k, v := range a.Labels {
			if !model.LegacyValidation.IsValidLabelName(k) {
				bad(i, a, "labels."+k, fmt.Errorf("invalid label name %q: use [a-zA-Z_][a-zA-Z0-9_]*", k))
			}
			if !utf8.ValidString(v) {
				bad(i, a, "labels."+k, errors.New("value is not valid UTF-8"))
			}
			if v == "" {
				bad(i, a, "labels."+k, errors.New("empty value (leave the label out instead)"))
			}
		}
		for k, v := range a.Annotations {
			if !model.LegacyValidation.IsValidLabelName(k) {
				bad(i, a, "annotations."+k, fmt.Errorf("invalid annotation name %q", k))
			}
			if !utf8.ValidString(v) {
				bad(i, a, "annotations."+k, errors.New("value is not valid UTF-8"))
			}
		}
		if !a.StartsAt.IsZero() && !a.EndsAt.IsZero() && a.EndsAt.Before(a.StartsAt) {
			bad(i, a, "endsAt", fmt.Errorf("%s is before startsAt %s", a.EndsAt.Format(time.RFC3339), a.StartsAt.Format(time.RFC3339)))
		}
		// Alertmanager's API refuses the whole batch for one bad
		// generatorURL (FuzzParseAlerts found it).
		if a.GeneratorURL != "" && !strfmt.Default.Validates("uri", a.GeneratorURL) {
			bad(i, a, "generatorURL", fmt.Errorf("%q is not an absolute URL or an absolute path", a.GeneratorURL))
		}
	}
	return errors.Join(errs...)
}
