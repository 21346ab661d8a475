package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// PromSample is one sample of a Prometheus instant query result.
type PromSample struct {
	Metric map[string]string
	Value  float64
}

// PromQuery runs an instant query against the Prometheus server at addr.
// It gives up when ctx ends or after requestTimeout, whichever comes first.
func PromQuery(ctx context.Context, addr, query string) ([]PromSample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/api/v1/query?query="+url.QueryEscape(query), nil)
	if err != nil {
		return nil, err
	}
	// Prometheus answers a bad query with an error status and a JSON body
	// that says why: the body is decoded whatever the status.
	_, body, err := fetch(http.DefaultClient, req)
	if err != nil {
		return nil, err
	}
	var r struct {
		Status string
		Error  string
		Data   struct {
			Result []struct {
				Metric map[string]string
				Value  [2]any
			}
		}
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("decode %s: %w", body, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %s: %s", query, r.Error)
	}
	var out []PromSample
	for _, s := range r.Data.Result {
		str, _ := s.Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return nil, fmt.Errorf("value %v: %w", s.Value, err)
		}
		out = append(out, PromSample{Metric: s.Metric, Value: v})
	}
	return out, nil
}
