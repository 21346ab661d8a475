package probe

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"
)

// promConfig is the part of a Prometheus configuration file probe reads.
// Everything else in the file (rules, alerting, remote write, ...) is
// ignored, so the file is decoded leniently; the fields read are checked.
type promConfig struct {
	Global struct {
		ScrapeTimeout model.Duration `yaml:"scrape_timeout"`
	} `yaml:"global"`
	ScrapeConfigs []scrapeConfig `yaml:"scrape_configs"`
}

type scrapeConfig struct {
	JobName       string                  `yaml:"job_name"`
	Scheme        string                  `yaml:"scheme"`
	MetricsPath   string                  `yaml:"metrics_path"`
	ScrapeTimeout model.Duration          `yaml:"scrape_timeout"`
	HTTP          config.HTTPClientConfig `yaml:",inline"`
	StaticConfigs []targetGroup           `yaml:"static_configs"`
	FileSDConfigs []struct {
		Files []string `yaml:"files"`
	} `yaml:"file_sd_configs"`
	RelabelConfigs []any `yaml:"relabel_configs"`
}

// targetGroup is a group of static_configs or of a file_sd file.
type targetGroup struct {
	Targets []string          `yaml:"targets" json:"targets"`
	Labels  map[string]string `yaml:"labels" json:"labels"`
}

// Jobs reads the targets of a Prometheus configuration file: those of the
// job named, or of every job when job is empty, from static_configs and
// file_sd_configs files (JSON or YAML; paths relative to the file), with
// each job's scheme, metrics_path, scrape_timeout and HTTP client
// configuration. Other service discovery is not read. notes says what
// the probe will not do as Prometheus would (relabel_configs, which may
// change the address scraped).
func Jobs(path, job string) (targets []Target, notes []string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var cfg promConfig
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	dir := filepath.Dir(path)
	found := false
	for _, sc := range cfg.ScrapeConfigs {
		if job != "" && sc.JobName != job {
			continue
		}
		found = true
		// Decoded inline, the client configuration's own defaults and
		// checks did not run: Prometheus runs them the same way.
		if err := sc.HTTP.Validate(); err != nil {
			return nil, nil, fmt.Errorf("%s: job %q: %w", path, sc.JobName, err)
		}
		sc.HTTP.SetDirectory(dir)
		timeout := time.Duration(sc.ScrapeTimeout)
		if timeout == 0 {
			timeout = time.Duration(cfg.Global.ScrapeTimeout)
		}
		if len(sc.RelabelConfigs) > 0 {
			notes = append(notes, fmt.Sprintf("job %q has relabel_configs: its targets are probed as discovered, before relabelling", sc.JobName))
		}
		groups := slices.Clone(sc.StaticConfigs)
		for _, sd := range sc.FileSDConfigs {
			for _, pattern := range sd.Files {
				g, err := readFileSD(config.JoinDir(dir, pattern))
				if err != nil {
					return nil, nil, fmt.Errorf("%s: job %q: file_sd_configs: %w", path, sc.JobName, err)
				}
				groups = append(groups, g...)
			}
		}
		for _, g := range groups {
			for _, addr := range g.Targets {
				targets = append(targets, Target{
					Address: addr, Job: sc.JobName, Labels: g.Labels, Scheme: cmp.Or(sc.Scheme, "http"),
					MetricsPath: sc.MetricsPath, HTTP: sc.HTTP, Timeout: timeout,
				})
			}
		}
	}
	if !found {
		if job != "" {
			return nil, nil, fmt.Errorf("%s: no scrape job %q", path, job)
		}
		return nil, nil, fmt.Errorf("%s: no scrape_configs", path)
	}
	return targets, notes, nil
}

// readFileSD reads the target groups of the files matching pattern.
func readFileSD(pattern string) ([]targetGroup, error) {
	files, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no such file", pattern)
	}
	var out []targetGroup
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var groups []targetGroup
		switch ext := strings.ToLower(filepath.Ext(f)); ext {
		case ".json":
			err = json.Unmarshal(b, &groups)
		case ".yml", ".yaml":
			err = yaml.UnmarshalStrict(b, &groups)
		default:
			err = errors.New("not .json, .yml or .yaml")
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, groups...)
	}
	return out, nil
}
