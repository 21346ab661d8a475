package alertclient

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/prometheus/common/model"
)

// ParseAlerts reads alerts as a JSON array or as JSON lines (one alert per
// line), in Alertmanager's form. Errors name the line or the element.
func ParseAlerts(r io.Reader) ([]Alert, error) {
	br := bufio.NewReader(r)
	first, err := firstNonSpace(br)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("no alerts in the input")
		}
		return nil, err
	}
	if first == '[' {
		dec := json.NewDecoder(br)
		dec.DisallowUnknownFields()
		var alerts []Alert
		if err := decodeOne(dec, &alerts); err != nil {
			return nil, fmt.Errorf("JSON array of alerts: %w", err)
		}
		if len(alerts) == 0 {
			// As for an input without lines: nothing would be sent, and
			// the exit code would say it was.
			return nil, errors.New("no alerts in the input: the JSON array is empty")
		}
		return alerts, nil
	}
	var alerts []Alert
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		var a Alert
		if err := decodeOne(dec, &a); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		alerts = append(alerts, a)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(alerts) == 0 {
		return nil, errors.New("no alerts in the input")
	}
	return alerts, nil
}

// decodeOne decodes into v the JSON value dec reads, and refuses anything
// after it: a second array, or a second alert on a line, would otherwise
// be dropped unread (FuzzParseAlerts found it).
func decodeOne(dec *json.Decoder, v any) error {
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("more input after the JSON value")
	}
	return nil
}

func firstNonSpace(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		if !strings.ContainsRune(" \t\r\n", rune(b)) {
			return b, br.UnreadByte()
		}
	}
}

// LabelsFromArgs builds a label set the way `amtool alert add` takes it:
// an optional bare alertname first, then name=value pairs.
func LabelsFromArgs(args []string) (map[string]string, error) {
	labels := map[string]string{}
	for i, arg := range args {
		name, value, ok := strings.Cut(arg, "=")
		if !ok {
			if i != 0 {
				return nil, fmt.Errorf("argument %q: want name=value (only the first argument may be a bare alertname)", arg)
			}
			name, value = model.AlertNameLabel, arg
		}
		if _, dup := labels[name]; dup {
			return nil, fmt.Errorf("argument %q: label %s given twice", arg, name)
		}
		labels[name] = value
	}
	return labels, nil
}
