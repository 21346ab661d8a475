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
	"path/filepath"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

func init() {
	register("zfs", true, newZFSCollector)
}

// zfsKstatDir is where OpenZFS publishes its kstats, under the proc root.
const zfsKstatDir = "spl/kstat/zfs"

// The kstat data types (lib/libspl/include/sys/kstat.h) that are numbers
// node_exporter reports; the others (strings, 32-bit values) are skipped.
const (
	zfsKstatInt64  = "3"
	zfsKstatUint64 = "4"
)

// zfsKstatFiles are the module-wide kstat files: the metric subsystem
// (node_<subsystem>_<name>) and the file under spl/kstat/zfs. Files a ZFS
// version lacks are skipped: vdev_cache_stats went away in 2.2, and
// xuio_stats has no user on Linux.
var zfsKstatFiles = []struct{ subsystem, file string }{
	{"zfs_abd", "abdstats"},
	{"zfs_arc", "arcstats"},
	{"zfs_dbuf", "dbufstats"},
	{"zfs_dmu_tx", "dmu_tx"},
	{"zfs_dnode", "dnodestats"},
	{"zfs_fm", "fm"},
	{"zfs_vdev_cache", "vdev_cache_stats"},
	{"zfs_vdev_mirror", "vdev_mirror_stats"},
	{"zfs_xuio", "xuio_stats"},
	{"zfs_zfetch", "zfetchstats"},
	{"zfs_zil", "zil"},
}

// zfsPoolStates are the values of node_zfs_zpool_state's state label.
var zfsPoolStates = []string{"online", "degraded", "faulted", "offline", "removed", "unavail", "suspended"}

// zfsCollector reports the kstats of the OpenZFS kernel module from
// /proc/spl/kstat/zfs: the module-wide ones, and per pool its I/O counters,
// its state and the counters of each dataset (objset).
//
// The metric names come from the kstat names, so they follow the ZFS
// version; all are untyped but the pool state, as in node_exporter.
type zfsCollector struct {
	dir    string
	logger *slog.Logger
	state  typedDesc
}

func newZFSCollector(cfg Config) (Collector, error) {
	return &zfsCollector{
		dir:    cfg.procFilePath(zfsKstatDir),
		logger: cfg.Logger,
		state: typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "zfs_zpool", "state"),
			"kstat.zfs.misc.state",
			[]string{"zpool", "state"}, nil,
		), prometheus.GaugeValue},
	}, nil
}

func (c *zfsCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	if _, err := os.Stat(c.dir); err != nil {
		c.logger.Debug("ZFS kstats are not available", "err", err)
		return ErrNoData
	}
	for _, k := range zfsKstatFiles {
		err := c.readFile(filepath.Join(c.dir, k.file), func(r io.Reader) error {
			return zfsParseKstat(r, func(name string, value float64) {
				c.send(ch, k.subsystem, "kstat.zfs.misc."+k.file+"."+name, name, nil, nil, value)
			})
		})
		if err != nil {
			return err
		}
	}

	pools, err := filepath.Glob(filepath.Join(c.dir, "*", "io"))
	if err != nil {
		return err
	}
	for _, path := range pools {
		pool := filepath.Base(filepath.Dir(path))
		err := c.readFile(path, func(r io.Reader) error {
			return zfsParsePoolIO(r, func(name string, value float64) {
				c.send(ch, "zfs_zpool", "kstat.zfs.misc.io."+name, name, []string{"zpool"}, []string{pool}, value)
			})
		})
		if err != nil {
			return err
		}
	}

	objsets, err := filepath.Glob(filepath.Join(c.dir, "*", "objset-*"))
	if err != nil {
		return err
	}
	for _, path := range objsets {
		pool := filepath.Base(filepath.Dir(path))
		err := c.readFile(path, func(r io.Reader) error {
			return zfsParseObjset(r, func(dataset, name string, value float64) {
				c.send(ch, "zfs_zpool_dataset", "kstat.zfs.misc.objset."+name, name,
					[]string{"zpool", "dataset"}, []string{pool, dataset}, value)
			})
		})
		if err != nil {
			return err
		}
	}

	states, err := filepath.Glob(filepath.Join(c.dir, "*", "state"))
	if err != nil {
		return err
	}
	for _, path := range states {
		pool := filepath.Base(filepath.Dir(path))
		err := c.readFile(path, func(r io.Reader) error {
			line, err := bufio.NewReader(r).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			current := strings.ToLower(strings.TrimSpace(line))
			for _, s := range zfsPoolStates {
				v := 0.0
				if s == current {
					v = 1
				}
				ch <- c.state.mustNewConstMetric(v, pool, s)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// readFile opens path and hands it to parse. A file that is not there is
// skipped: kstat files come with ZFS features, and a pool being exported
// takes its files away while they are read.
func (c *zfsCollector) readFile(path string, parse func(io.Reader) error) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		c.logger.Debug("ZFS kstat file not there", "path", path)
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if err := parse(f); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}

// send sends one kstat as an untyped metric named after it, with "-" (as
// in fm's erpt-dropped) turned into "_". A name that still is no valid
// metric name is left out rather than failing the scrape.
func (c *zfsCollector) send(ch chan<- prometheus.Metric, subsystem, help, kstat string, labels, values []string, value float64) {
	name := prometheus.BuildFQName(Namespace, subsystem, strings.ReplaceAll(kstat, "-", "_"))
	m, err := prometheus.NewConstMetric(prometheus.NewDesc(name, help, labels, nil), prometheus.UntypedValue, value, values...)
	if err != nil {
		c.logger.Debug("skip ZFS kstat", "kstat", help, "err", err)
		return
	}
	ch <- m
}

// zfsParseKstat reads a named kstat file: a header line, a "name type data"
// line, then one line per value.
func zfsParseKstat(r io.Reader, handle func(name string, value float64)) error {
	s := bufio.NewScanner(r)
	started := false
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if !started {
			started = len(fields) == 3 && fields[0] == "name" && fields[1] == "type" && fields[2] == "data"
			continue
		}
		if len(fields) < 3 {
			continue
		}
		v, ok, err := zfsParseValue(fields[1], fields[2])
		if err != nil {
			return fmt.Errorf("%s: %w", fields[0], err)
		}
		if ok {
			handle(fields[0], v)
		}
	}
	if err := s.Err(); err != nil {
		return err
	}
	if !started {
		return errors.New(`no "name type data" line`)
	}
	return nil
}

// zfsParseValue parses a kstat value of the 64-bit integer types; ok is
// false for the types that are not reported.
func zfsParseValue(kstatType, data string) (v float64, ok bool, err error) {
	switch kstatType {
	case zfsKstatUint64:
		u, err := strconv.ParseUint(data, 10, 64)
		return float64(u), err == nil, err
	case zfsKstatInt64:
		i, err := strconv.ParseInt(data, 10, 64)
		return float64(i), err == nil, err
	}
	return 0, false, nil
}

// zfsParsePoolIO reads a pool's io file (ZFS before 2.0): a line of field
// names starting with nread, then a line of values.
func zfsParsePoolIO(r io.Reader, handle func(name string, value float64)) error {
	s := bufio.NewScanner(r)
	var names []string
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if names == nil {
			if len(fields) >= 12 && fields[0] == "nread" {
				names = fields
			}
			continue
		}
		if len(fields) < len(names) {
			return fmt.Errorf("%d values for %d fields", len(fields), len(names))
		}
		for i, name := range names {
			v, err := strconv.ParseUint(fields[i], 10, 64)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			handle(name, float64(v))
		}
	}
	return s.Err()
}

// zfsParseObjset reads a dataset's objset-0x... file: a named kstat file
// whose dataset_name line names the dataset the counters after it are of.
func zfsParseObjset(r io.Reader, handle func(dataset, name string, value float64)) error {
	s := bufio.NewScanner(r)
	started := false
	dataset := ""
	for s.Scan() {
		line := s.Text()
		fields := strings.Fields(line)
		if !started {
			started = len(fields) == 3 && fields[0] == "name" && fields[1] == "type" && fields[2] == "data"
			continue
		}
		if len(fields) < 3 {
			continue
		}
		if fields[0] == "dataset_name" {
			// A dataset name may hold spaces: it is the rest of the line
			// after the name and type columns.
			rest := strings.TrimSpace(line)
			for range 2 {
				rest = strings.TrimSpace(strings.TrimPrefix(rest, strings.Fields(rest)[0]))
			}
			dataset = rest
			continue
		}
		if fields[1] != zfsKstatUint64 {
			continue
		}
		v, err := strconv.ParseUint(fields[2], 10, 64)
		if err != nil {
			return fmt.Errorf("%s: %w", fields[0], err)
		}
		handle(dataset, fields[0], float64(v))
	}
	if err := s.Err(); err != nil {
		return err
	}
	if !started {
		return errors.New(`no "name type data" line`)
	}
	return nil
}
