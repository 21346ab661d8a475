package collector

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func init() {
	register("os", true, newOSReleaseCollector)
}

// osReleasePaths are where os-release(5) may be, in the order it says to
// look, relative to the root file system.
var osReleasePaths = []string{"etc/os-release", "usr/lib/os-release"}

// osVersionRE takes the major.minor part of VERSION_ID, as node_exporter does.
var osVersionRE = regexp.MustCompile(`^[0-9]+\.?[0-9]*`)

// osReleaseCollector reads os-release on every scrape, so that an upgrade
// shows without a restart; node_exporter dropped its cache for that reason.
type osReleaseCollector struct {
	paths      []string
	logger     *slog.Logger
	info       typedDesc
	version    typedDesc
	supportEnd typedDesc
}

func newOSReleaseCollector(cfg Config) (Collector, error) {
	paths := make([]string, len(osReleasePaths))
	for i, p := range osReleasePaths {
		paths[i] = cfg.rootfsFilePath(p)
	}
	return &osReleaseCollector{
		paths:  paths,
		logger: cfg.Logger,
		info: typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "os", "info"),
			"A metric with a constant '1' value labeled by build_id, id, id_like, image_id, image_version, "+
				"name, pretty_name, variant, variant_id, version, version_codename, version_id.",
			[]string{"build_id", "id", "id_like", "image_id", "image_version", "name", "pretty_name",
				"variant", "variant_id", "version", "version_codename", "version_id"}, nil,
		), prometheus.GaugeValue},
		version: typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "os", "version"),
			"Metric containing the major.minor part of the OS version.",
			[]string{"id", "id_like", "name"}, nil,
		), prometheus.GaugeValue},
		supportEnd: typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "os", "support_end_timestamp_seconds"),
			"Metric containing the end-of-life date timestamp of the OS.",
			nil, nil,
		), prometheus.GaugeValue},
	}, nil
}

func (c *osReleaseCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	var (
		vars map[string]string
		err  error
	)
	for _, path := range c.paths {
		vars, err = readOSRelease(path)
		if !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		c.logger.Debug("no os-release file found", "files", strings.Join(c.paths, ","))
		return ErrNoData
	}
	if err != nil {
		return err
	}

	var supportEnd time.Time
	if s := vars["SUPPORT_END"]; s != "" {
		if supportEnd, err = time.Parse(time.DateOnly, s); err != nil {
			return fmt.Errorf("os-release SUPPORT_END: %w", err)
		}
	}
	var version float64
	if majorMinor := osVersionRE.FindString(vars["VERSION_ID"]); majorMinor != "" {
		if version, err = strconv.ParseFloat(majorMinor, 64); err != nil {
			return fmt.Errorf("os-release VERSION_ID: %w", err)
		}
	}

	ch <- c.info.mustNewConstMetric(1,
		vars["BUILD_ID"], vars["ID"], vars["ID_LIKE"], vars["IMAGE_ID"], vars["IMAGE_VERSION"],
		vars["NAME"], vars["PRETTY_NAME"], vars["VARIANT"], vars["VARIANT_ID"], vars["VERSION"],
		vars["VERSION_CODENAME"], vars["VERSION_ID"])
	if version > 0 {
		ch <- c.version.mustNewConstMetric(version, vars["ID"], vars["ID_LIKE"], vars["NAME"])
	}
	if !supportEnd.IsZero() {
		ch <- c.supportEnd.mustNewConstMetric(float64(supportEnd.Unix()))
	}
	return nil
}

// readOSRelease reads and parses the os-release file at path. An error
// wrapping fs.ErrNotExist means there is no such file.
func readOSRelease(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read os-release: %w", err)
	}
	defer f.Close()
	vars, err := parseOSRelease(f)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return vars, nil
}

// parseOSRelease parses os-release(5): KEY=value lines in shell syntax,
// with blank lines and #-comments. Values may be quoted with " or ', and
// within double quotes a backslash escapes $ " \ and `.
func parseOSRelease(r io.Reader) (map[string]string, error) {
	vars := make(map[string]string)
	scanner := bufio.NewScanner(r)
	for n := 1; scanner.Scan(); n++ {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: missing =", n)
		}
		key = strings.TrimPrefix(strings.TrimSpace(key), "export ")
		if !osReleaseKeyRE.MatchString(key) {
			return nil, fmt.Errorf("line %d: invalid variable name %q", n, key)
		}
		value, err := unquoteShellValue(strings.TrimSpace(value))
		if err != nil {
			return nil, fmt.Errorf("line %d: %s: %w", n, key, err)
		}
		vars[key] = value
	}
	if err := scanner.Err(); err != nil {
		return nil, err
	}
	return vars, nil
}

// osReleaseKeyRE accepts the variable names node_exporter's parser
// accepts, which are a little more than a shell's.
var osReleaseKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_./]*$`)

// unquoteShellValue returns the value a shell would assign for the
// right-hand side s of an assignment: quotes removed, escapes resolved
// and a trailing comment dropped.
func unquoteShellValue(s string) (string, error) {
	var b strings.Builder
	// significant is b.Len() up to the last character that is not
	// unquoted white space, which a trailing comment also removes.
	significant := 0
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; ch {
		case '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return "", errors.New("unmatched '")
			}
			b.WriteString(s[i+1 : i+1+end])
			i += 1 + end
		case '"':
			closed := false
			for i++; i < len(s); i++ {
				if s[i] == '"' {
					closed = true
					break
				}
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$\"\\`", s[i+1]) >= 0 {
					i++
				}
				b.WriteByte(s[i])
			}
			if !closed {
				return "", errors.New(`unmatched "`)
			}
		case '\\':
			if i+1 == len(s) {
				return "", errors.New("incomplete escape sequence")
			}
			i++
			b.WriteByte(s[i])
		case '#':
			if i == 0 || s[i-1] == ' ' || s[i-1] == '\t' {
				return b.String()[:significant], nil
			}
			b.WriteByte(ch)
		case ' ', '\t':
			b.WriteByte(ch)
			continue
		default:
			b.WriteByte(ch)
		}
		significant = b.Len()
	}
	return b.String(), nil
}
