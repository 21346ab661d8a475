package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"go.yaml.in/yaml/v2"

	"github.com/warden-exporter/warden/alertclient"
)

// connFlags are the flags `alert` and `silence` share: how to reach the
// Alertmanagers, amtool's config file, and how to print. amtool's config
// file gives defaults to those the command line leaves out; Warden's own
// --alert.config.file, when given, wins over its Alertmanager and HTTP
// settings.
type connFlags struct {
	amtoolFile  string // --config.file
	configFile  string // --alert.config.file
	urls        []string
	httpConfig  string
	spoolDir    string
	timeout     time.Duration
	timeoutSet  bool
	output      string // "" until load: the flag, amtool's, or simple
	dateFormat  string
	verbose     bool
	verboseSet  bool
	amtool      *amtoolConfig
	outputs     []string
	commandName string
}

// register adds the flags to cmd; outputs are the --output formats, the
// first the default; withSpool adds --spool.dir.
func (f *connFlags) register(cmd *kingpin.CmdClause, outputs []string, withSpool bool) {
	f.outputs, f.commandName = outputs, cmd.FullCommand()
	cmd.Flag("config.file", "amtool's config file (alertmanager.url, http.config.file, author, comment_required, output, date.format, timeout, verbose); default $HOME/.config/amtool/config.yml, then /etc/amtool/config.yml. Flags override it.").StringVar(&f.amtoolFile)
	cmd.Flag("alert.config.file", "Alert client configuration (alertmanagers, http_config, retry, spool, resend_interval), as warden_node_exporter takes it; wins over amtool's config file.").StringVar(&f.configFile)
	cmd.Flag("alertmanager.url", "Alertmanager URL (repeatable), when no --alert.config.file.").StringsVar(&f.urls)
	cmd.Flag("http.config.file", "HTTP client configuration (TLS, basic_auth, authorization...) as amtool's --http.config.file takes it.").StringVar(&f.httpConfig)
	if withSpool {
		cmd.Flag("spool.dir", "Directory where alerts wait while no Alertmanager accepts them (default: $XDG_STATE_HOME/warden/alert-spool, ~/.local/state/warden/alert-spool, for root /var/lib/warden/alert-spool).").StringVar(&f.spoolDir)
	}
	cmd.Flag("timeout", "Deadline of the whole command, connections and TLS included.").Default("30s").IsSetByUser(&f.timeoutSet).DurationVar(&f.timeout)
	cmd.Flag("output", "Output format: "+strings.Join(outputs, ", ")+" (default "+outputs[0]+").").Short('o').EnumVar(&f.output, outputs...)
	cmd.Flag("date.format", "Go time layout of the times printed (default RFC3339, 2006-01-02T15:04:05Z07:00).").StringVar(&f.dateFormat)
	cmd.Flag("verbose", "Log what is done, amtool config keys ignored included.").Short('v').IsSetByUser(&f.verboseSet).BoolVar(&f.verbose)
}

// load reads amtool's config file and gives its values to the flags the
// command line left out. It returns the logger the command logs with,
// which has said what in the file does not apply.
func (f *connFlags) load(stderr io.Writer) (*slog.Logger, error) {
	cfg, err := loadAmtoolConfig(f.amtoolFile, os.Getenv("HOME"))
	if err != nil {
		return nil, err
	}
	f.amtool = cfg
	if v, ok := cfg.values["verbose"]; ok && !f.verboseSet {
		if f.verbose, err = strconv.ParseBool(v); err != nil {
			return nil, cfg.errorf("verbose", "%q is not true or false", v)
		}
	}
	if v, ok := cfg.values["timeout"]; ok && !f.timeoutSet {
		if f.timeout, err = time.ParseDuration(v); err != nil {
			return nil, cfg.errorf("timeout", "%v", err)
		}
	}
	if v, ok := cfg.values["output"]; ok && f.output == "" {
		if !slices.Contains(f.outputs, v) {
			return nil, cfg.errorf("output", "%q: %s takes %s", v, f.commandName, strings.Join(f.outputs, ", "))
		}
		f.output = v
	}
	if f.output == "" {
		f.output = f.outputs[0]
	}
	if v, ok := cfg.values["date.format"]; ok && f.dateFormat == "" {
		f.dateFormat = v
	}
	if f.dateFormat == "" {
		f.dateFormat = time.RFC3339
	}
	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	for _, key := range cfg.ignored {
		logger.Debug("amtool config key does not apply to wardentool, ignored", "key", key, "file", cfg.source[key])
	}
	return logger, nil
}

// config builds the alert client configuration: --alert.config.file, or
// the Alertmanager URLs and HTTP config of the flags and, for what they
// leave out, of amtool's config file.
func (f *connFlags) config() (*alertclient.Config, error) {
	if f.configFile != "" {
		if len(f.urls) > 0 || f.httpConfig != "" {
			return nil, errors.New("--alert.config.file and --alertmanager.url/--http.config.file exclude each other")
		}
		cfg, err := alertclient.LoadConfig(f.configFile)
		if err != nil {
			return nil, err
		}
		if f.spoolDir != "" {
			cfg.Spool.Directory = f.spoolDir
		}
		return cfg, nil
	}
	urls, httpConfig := f.urls, f.httpConfig
	if v, ok := f.amtool.values["alertmanager.url"]; ok && len(urls) == 0 {
		urls = []string{v}
	}
	if v, ok := f.amtool.values["http.config.file"]; ok && httpConfig == "" {
		httpConfig = v
	}
	if len(urls) == 0 {
		return nil, fmt.Errorf("no Alertmanager: give --alert.config.file or --alertmanager.url, or alertmanager.url in amtool's config file (%s)",
			strings.Join(f.amtool.searched, " or "))
	}
	cfg, err := alertclient.FlagConfig(urls, httpConfig, f.spoolDir, 0)
	if err != nil && f.amtool.values["alertmanager.url"] != "" {
		return nil, fmt.Errorf("%w (with amtool's config file %s)", err, strings.Join(f.amtool.files, ", "))
	}
	return cfg, err
}

// formatTime prints t as --date.format (or amtool's date.format) says.
func (f *connFlags) formatTime(t time.Time) string { return t.Format(f.dateFormat) }

// amtoolKeys are the keys amtool's config file takes: the names of
// amtool's flags, global and of its commands (alertmanager v0.34.2,
// cli/*.go), plus the legacy comment_required. Those wardentool applies
// are true; the others are accepted and ignored.
var amtoolKeys = map[string]bool{
	// Global flags.
	"alertmanager.url": true, "http.config.file": true, "output": true, "date.format": true,
	"timeout": true, "verbose": true, "version-check": false, "enable-feature": false,
	"help": false, "help-long": false, "help-man": false, "version": false,
	// silence add.
	"author": true, "require-comment": true, "comment_required": true,
	"duration": false, "start": false, "end": false, "comment": false, "annotation": false,
	// alert add, alert query.
	"generator-url": false, "inhibited": false, "silenced": false, "active": false, "unprocessed": false, "receiver": false,
	// silence query, import, update.
	"expired": false, "quiet": false, "created-by": false, "id": false, "within": false, "force": false, "worker": false,
	// routes, template render.
	"config.file": false, "verify.receivers": false, "tree": false,
	"template.glob": false, "template.text": false, "template.type": false, "template.data": false,
}

// amtoolConfig is what amtool's config files say, by flag name.
type amtoolConfig struct {
	// searched are the files looked for; files those read.
	searched, files []string
	values          map[string]string
	// source names the file each key came from.
	source  map[string]string
	ignored []string
}

func (c *amtoolConfig) errorf(key, format string, args ...any) error {
	return fmt.Errorf("amtool config %s: %s: %s", c.source[key], key, fmt.Sprintf(format, args...))
}

// loadAmtoolConfig reads the file given, which must exist, or else
// amtool's: $HOME/.config/amtool/config.yml, then /etc/amtool/config.yml,
// each where it exists, the first to name a key giving it, as amtool
// does. A key amtool does not have is an error naming it.
func loadAmtoolConfig(given, home string) (*amtoolConfig, error) {
	c := &amtoolConfig{values: map[string]string{}, source: map[string]string{}}
	if given != "" {
		c.searched = []string{given}
	} else {
		if filepath.IsAbs(home) {
			c.searched = append(c.searched, filepath.Join(home, ".config", "amtool", "config.yml"))
		}
		c.searched = append(c.searched, systemAmtoolConfig)
	}
	for _, path := range c.searched {
		values, err := readAmtoolFile(path)
		if errors.Is(err, fs.ErrNotExist) && given == "" {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("amtool config %s: %w", path, err)
		}
		c.files = append(c.files, path)
		for key, value := range values {
			if _, known := amtoolKeys[key]; !known {
				return nil, fmt.Errorf("amtool config %s: unknown key %q: amtool has no such flag", path, key)
			}
			if key == "comment_required" {
				if _, both := values["require-comment"]; both {
					continue // amtool: the new name wins
				}
				key = "require-comment"
			}
			if _, set := c.values[key]; set {
				continue // an earlier file gave it
			}
			c.values[key], c.source[key] = value, path
			if !amtoolKeys[key] {
				c.ignored = append(c.ignored, key)
			}
		}
	}
	slices.Sort(c.ignored)
	return c, nil
}

// systemAmtoolConfig is amtool's system-wide config file (a variable for
// the tests, which must not read the machine's).
var systemAmtoolConfig = "/etc/amtool/config.yml"

// readAmtoolFile reads one amtool config file: a map of flag names to
// single values, as amtool reads it.
func readAmtoolFile(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	values := make(map[string]string, len(raw))
	for key, v := range raw {
		switch v := v.(type) {
		case string, bool, int, float64:
			values[key] = fmt.Sprint(v)
		default:
			return nil, fmt.Errorf("%s: want a single value, as for its flag, not %T", key, v)
		}
	}
	return values, nil
}
