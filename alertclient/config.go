package alertclient

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"
)

// Config is the --alert.config.file shared by wardentool and
// warden_node_exporter. A number or duration left at zero means its
// default, in a file and in a Config built in Go alike: UnmarshalYAML and
// New apply the same defaults and checks, so that no zero field makes a
// client panic, loop or fail every request.
type Config struct {
	// Alertmanagers are sent every batch. Within one entry, all URLs share
	// the HTTP client configuration.
	Alertmanagers []AlertmanagerConfig `yaml:"alertmanagers"`
	Retry         RetryConfig          `yaml:"retry"`
	Spool         SpoolConfig          `yaml:"spool"`
	// BatchSize bounds the alerts in one POST.
	BatchSize int `yaml:"batch_size"`
	// ResendInterval is how often the alert loop re-sends kept alerts
	// (see Client.Keep); each send ends them four intervals ahead.
	ResendInterval model.Duration `yaml:"resend_interval"`
}

// AlertmanagerConfig is a set of Alertmanagers reached the same way.
type AlertmanagerConfig struct {
	// URLs are the Alertmanagers' base URLs (https://am-1:9093, or with
	// the path prefix Alertmanager is served under).
	URLs []string `yaml:"urls"`
	// HTTPConfig is prometheus/common's: tls_config, basic_auth,
	// authorization, oauth2, proxy_url, follow_redirects... Unlike
	// prometheus/common, a file that does not set follow_redirects leaves
	// it false, and true follows only a redirect that keeps the scheme, the
	// host and the method (see New).
	HTTPConfig config.HTTPClientConfig `yaml:"http_config"`
	// Timeout bounds one request to one Alertmanager.
	Timeout model.Duration `yaml:"timeout"`
}

// UnmarshalYAML reads an entry with follow_redirects false unless the file
// sets it. prometheus/common defaults it to true, and on the alert path a
// redirect followed by default turned a POST into a GET that Alertmanager
// answers 200 (an alert counted as delivered that was never posted), or
// sent the password to a plain-http address.
func (a *AlertmanagerConfig) UnmarshalYAML(unmarshal func(any) error) error {
	type plain AlertmanagerConfig
	if err := unmarshal((*plain)(a)); err != nil {
		return err
	}
	// A map, not a struct: the decoding is strict, and a struct naming
	// only http_config would make every other key unknown.
	var raw map[string]any
	if err := unmarshal(&raw); err != nil {
		return err
	}
	httpConfig, _ := raw["http_config"].(map[any]any)
	if _, given := httpConfig["follow_redirects"]; !given {
		a.HTTPConfig.FollowRedirects = false
	}
	return nil
}

// RetryConfig sets the exponential backoff between attempts.
type RetryConfig struct {
	InitialBackoff model.Duration `yaml:"initial_backoff"`
	MaxBackoff     model.Duration `yaml:"max_backoff"`
}

// SpoolConfig says where alerts wait while no Alertmanager accepts them.
// No directory: nothing is spooled and an undelivered batch is an error.
type SpoolConfig struct {
	Directory string `yaml:"directory"`
	// MaxBytes bounds the spool; a batch that does not fit is an error.
	MaxBytes int64 `yaml:"max_bytes"`
}

// Defaults of the fields left at zero.
const (
	DefaultTimeout        = 10 * time.Second
	DefaultInitialBackoff = 500 * time.Millisecond
	DefaultMaxBackoff     = 30 * time.Second
	DefaultBatchSize      = 1000
	DefaultSpoolMaxBytes  = 100 << 20
	// DefaultResendInterval is Prometheus's: its alerts are re-sent every
	// minute.
	DefaultResendInterval = time.Minute
)

// UnmarshalYAML applies defaults and validates, naming the field at fault.
func (c *Config) UnmarshalYAML(unmarshal func(any) error) error {
	type plain Config
	*c = Config{}
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	return c.validate()
}

// validate applies the defaults to the fields left at zero and checks the
// rest, naming the field at fault. It is the one place for both, used by
// UnmarshalYAML, FlagConfig and New.
func (c *Config) validate() error {
	if len(c.Alertmanagers) == 0 {
		return errors.New("alertmanagers: at least one is needed")
	}
	for i := range c.Alertmanagers {
		am := &c.Alertmanagers[i]
		if len(am.URLs) == 0 {
			return fmt.Errorf("alertmanagers[%d].urls: at least one is needed", i)
		}
		for j, raw := range am.URLs {
			if _, err := parseAlertmanagerURL(raw); err != nil {
				return fmt.Errorf("alertmanagers[%d].urls[%d]: %w", i, j, err)
			}
		}
		if err := am.HTTPConfig.Validate(); err != nil {
			return fmt.Errorf("alertmanagers[%d].http_config: %w", i, err)
		}
		if am.Timeout == 0 {
			am.Timeout = model.Duration(DefaultTimeout)
		}
		if am.Timeout < 0 {
			return fmt.Errorf("alertmanagers[%d].timeout: must be positive", i)
		}
	}
	if c.Retry.InitialBackoff == 0 {
		c.Retry.InitialBackoff = model.Duration(DefaultInitialBackoff)
	}
	if c.Retry.MaxBackoff == 0 {
		c.Retry.MaxBackoff = model.Duration(DefaultMaxBackoff)
	}
	if c.Retry.InitialBackoff < 0 || c.Retry.MaxBackoff < c.Retry.InitialBackoff {
		return errors.New("retry: need 0 < initial_backoff <= max_backoff")
	}
	if c.Spool.MaxBytes == 0 {
		c.Spool.MaxBytes = DefaultSpoolMaxBytes
	}
	if c.Spool.MaxBytes < 0 {
		return errors.New("spool.max_bytes: must be positive")
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.BatchSize < 0 {
		return errors.New("batch_size: must be positive")
	}
	if c.ResendInterval == 0 {
		c.ResendInterval = model.Duration(DefaultResendInterval)
	}
	if c.ResendInterval < 0 {
		return errors.New("resend_interval: must be positive")
	}
	return nil
}

// setDirectory resolves relative file paths against the config file's directory.
func (c *Config) setDirectory(dir string) {
	for i := range c.Alertmanagers {
		c.Alertmanagers[i].HTTPConfig.SetDirectory(dir)
	}
	if c.Spool.Directory != "" {
		c.Spool.Directory = config.JoinDir(dir, c.Spool.Directory)
	}
}

// LoadConfig reads a config file strictly: unknown keys are errors, and
// every error names the file.
func LoadConfig(path string) (*Config, error) {
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("alert config %s: %w", path, err)
	}
	c := &Config{}
	if err := yaml.UnmarshalStrict(content, c); err != nil {
		return nil, fmt.Errorf("alert config %s: %w", path, err)
	}
	// An empty file (or a null) decodes without UnmarshalYAML, into a
	// Config without alertmanagers (FuzzLoadConfig found it): check here
	// too, so that the error names the file.
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("alert config %s: %w", path, err)
	}
	c.setDirectory(filepath.Dir(path))
	return c, nil
}

// FlagConfig builds a Config from amtool-style flags: Alertmanager URLs, an
// HTTP client config file in the format amtool's --http.config.file takes,
// a spool directory and a request timeout.
func FlagConfig(urls []string, httpConfigFile, spoolDir string, timeout time.Duration) (*Config, error) {
	am := AlertmanagerConfig{URLs: urls, HTTPConfig: config.DefaultHTTPClientConfig, Timeout: model.Duration(timeout)}
	// Redirects are not followed unless the file says so: see
	// AlertmanagerConfig.UnmarshalYAML.
	am.HTTPConfig.FollowRedirects = false
	if httpConfigFile != "" {
		hc, content, err := config.LoadHTTPConfigFile(httpConfigFile)
		if err != nil {
			return nil, fmt.Errorf("--http.config.file %s: %w", httpConfigFile, err)
		}
		var raw map[string]any
		if err := yaml.Unmarshal(content, &raw); err != nil {
			return nil, fmt.Errorf("--http.config.file %s: %w", httpConfigFile, err)
		}
		if _, given := raw["follow_redirects"]; !given {
			hc.FollowRedirects = false
		}
		am.HTTPConfig = *hc
	}
	c := &Config{Alertmanagers: []AlertmanagerConfig{am}, Spool: SpoolConfig{Directory: spoolDir}}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("flags: %w", err)
	}
	return c, nil
}

func parseAlertmanagerURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%q: no host", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%q: put credentials in http_config (basic_auth.password_file), not in the URL", u.Redacted())
	}
	return u, nil
}
