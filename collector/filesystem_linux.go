package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"
)

func init() {
	register("filesystem", true, newFilesystemCollector)
}

// errMountTimeout is the device_error of a mount whose statfs did not answer
// within the mount timeout; the text is node_exporter's.
var errMountTimeout = errors.New("mountpoint timeout")

// filesystemCollector reports the size and usage of mounted file systems.
//
// A statfs on a dead network mount can block for a long time. Each call is
// given MountTimeout; after that the scrape reports the mount as stale
// (device_error 1) and moves on, and later scrapes skip the mount without
// calling statfs again until the abandoned call returns. So at most
// StatWorkers statfs calls per scrape are waited on at a time, plus at most
// one abandoned call per stale mount point.
type filesystemCollector struct {
	cfg          Config
	proc         procfs.FS
	mountPoints  deviceFilter
	fsTypes      deviceFilter
	mountTimeout time.Duration
	statWorkers  int
	logger       *slog.Logger
	// statfs is unix.Statfs; tests replace it.
	statfs func(path string, buf *unix.Statfs_t) error

	mu sync.Mutex
	// stale counts, per mount point, the statfs calls given up on that
	// have not returned yet.
	stale map[string]int

	size, free, avail, files, filesFree, purgeable typedDesc
	readonly, deviceError, mountInfo               typedDesc
}

func newFilesystemCollector(cfg Config) (Collector, error) {
	proc, err := procfs.NewFS(cfg.ProcPath)
	if err != nil {
		return nil, fmt.Errorf("open procfs: %w", err)
	}
	o := cfg.Filesystem
	// As in node_exporter, an include replaces the default exclude rather
	// than conflicting with it.
	if o.MountPointsInclude != "" && o.MountPointsExclude == DefaultMountPointsExclude {
		o.MountPointsExclude = ""
	}
	if o.FSTypesInclude != "" && o.FSTypesExclude == DefaultFSTypesExclude {
		o.FSTypesExclude = ""
	}
	mountPoints, err := newDeviceFilter("filesystem mount points", o.MountPointsInclude, o.MountPointsExclude)
	if err != nil {
		return nil, err
	}
	fsTypes, err := newDeviceFilter("filesystem fs types", o.FSTypesInclude, o.FSTypesExclude)
	if err != nil {
		return nil, err
	}

	labels := []string{"device", "mountpoint", "fstype", "device_error"}
	gauge := func(name, help string, labels []string) typedDesc {
		return typedDesc{prometheus.NewDesc(prometheus.BuildFQName(Namespace, "filesystem", name), help, labels, nil), prometheus.GaugeValue}
	}
	return &filesystemCollector{
		cfg:          cfg,
		proc:         proc,
		mountPoints:  mountPoints,
		fsTypes:      fsTypes,
		mountTimeout: o.MountTimeout,
		statWorkers:  max(o.StatWorkers, 1),
		logger:       cfg.Logger,
		statfs:       unix.Statfs,
		stale:        map[string]int{},

		size:        gauge("size_bytes", "Filesystem size in bytes.", labels),
		free:        gauge("free_bytes", "Filesystem free space in bytes.", labels),
		avail:       gauge("avail_bytes", "Filesystem space available to non-root users in bytes.", labels),
		files:       gauge("files", "Filesystem total file nodes.", labels),
		filesFree:   gauge("files_free", "Filesystem total free file nodes.", labels),
		purgeable:   gauge("purgeable_bytes", "Filesystem space available including purgeable space (MacOS specific).", labels),
		readonly:    gauge("readonly", "Filesystem read-only status.", labels),
		deviceError: gauge("device_error", "Whether an error occurred while getting statistics for the given device.", labels),
		mountInfo:   gauge("mount_info", "Filesystem mount information.", []string{"device", "major", "minor", "mountpoint"}),
	}, nil
}

// fsMount is one line of mountinfo, as the metrics label it.
type fsMount struct {
	device, mountPoint, fsType string
	major, minor               string
	readonly                   bool
}

// fsStats is the outcome of one statfs.
type fsStats struct {
	fsMount
	buf unix.Statfs_t
	err error
}

func (c *filesystemCollector) Update(ctx context.Context, ch chan<- prometheus.Metric) error {
	mounts, err := c.mounts()
	if err != nil {
		return err
	}
	stats := c.statAll(ctx, mounts)

	// A mount point mounted twice from the same device is reported once.
	seen := map[[4]string]bool{}
	seenInfo := map[[4]string]bool{}
	for _, s := range stats {
		deviceError := ""
		if s.err != nil {
			deviceError = s.err.Error()
		}
		labels := []string{s.device, s.mountPoint, s.fsType, deviceError}
		if seen[[4]string(labels)] {
			continue
		}
		seen[[4]string(labels)] = true

		ch <- c.deviceError.mustNewConstMetric(fsBool(s.err != nil), labels...)
		ch <- c.readonly.mustNewConstMetric(fsBool(s.readonly), labels...)
		if s.err != nil {
			continue
		}
		bsize := float64(s.buf.Bsize)
		ch <- c.size.mustNewConstMetric(float64(s.buf.Blocks)*bsize, labels...)
		ch <- c.free.mustNewConstMetric(float64(s.buf.Bfree)*bsize, labels...)
		ch <- c.avail.mustNewConstMetric(float64(s.buf.Bavail)*bsize, labels...)
		ch <- c.files.mustNewConstMetric(float64(s.buf.Files), labels...)
		ch <- c.filesFree.mustNewConstMetric(float64(s.buf.Ffree), labels...)
		// node_exporter v1.12.1 exposes this on Linux too, always 0.
		ch <- c.purgeable.mustNewConstMetric(0, labels...)
		info := [4]string{s.device, s.major, s.minor, s.mountPoint}
		if !seenInfo[info] {
			seenInfo[info] = true
			ch <- c.mountInfo.mustNewConstMetric(1, info[:]...)
		}
	}
	return nil
}

// mounts reads the mount table of the host's init process, falling back to
// our own when /proc/1 is hidden (hidepid), and applies the filters.
func (c *filesystemCollector) mounts() ([]fsMount, error) {
	infos, err := c.proc.GetProcMounts(1)
	if errors.Is(err, os.ErrNotExist) {
		c.logger.Debug("reading /proc/1/mountinfo failed, falling back to /proc/self/mountinfo", "err", err)
		infos, err = c.proc.GetMounts()
	}
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}

	var mounts []fsMount
	for _, info := range infos {
		major, minor, ok := strings.Cut(info.MajorMinorVer, ":")
		if !ok {
			return nil, fmt.Errorf("read mountinfo: malformed major:minor %q", info.MajorMinorVer)
		}
		majorN, errMajor := strconv.Atoi(major)
		minorN, errMinor := strconv.Atoi(minor)
		if errMajor != nil || errMinor != nil {
			return nil, fmt.Errorf("read mountinfo: malformed major:minor %q", info.MajorMinorVer)
		}
		// mountinfo escapes blanks in paths as in fstab(5).
		mountPoint := strings.NewReplacer(`\040`, " ", `\011`, "\t").Replace(info.MountPoint)
		m := fsMount{
			device:     strings.ToValidUTF8(info.Source, "\uFFFD"),
			mountPoint: strings.ToValidUTF8(c.cfg.rootfsStripPrefix(mountPoint), "\uFFFD"),
			fsType:     strings.ToValidUTF8(info.FSType, "\uFFFD"),
			major:      strconv.Itoa(majorN),
			minor:      strconv.Itoa(minorN),
			readonly:   fsHasOption(info.Options, "ro") || fsHasOption(info.SuperOptions, "ro") || fsHasOption(info.SuperOptions, "emergency_ro"),
		}
		if c.mountPoints.ignored(m.mountPoint) {
			c.logger.Debug("ignoring mount point", "mountpoint", m.mountPoint)
			continue
		}
		if c.fsTypes.ignored(m.fsType) {
			c.logger.Debug("ignoring fs type", "type", m.fsType)
			continue
		}
		mounts = append(mounts, m)
	}
	return mounts, nil
}

func fsHasOption(options map[string]string, name string) bool {
	_, ok := options[name]
	return ok
}

// statAll runs statfs on every mount with at most statWorkers at a time,
// and returns the results in the order of mounts.
func (c *filesystemCollector) statAll(ctx context.Context, mounts []fsMount) []fsStats {
	stats := make([]fsStats, len(mounts))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(c.statWorkers, len(mounts)) {
		wg.Go(func() {
			for i := range jobs {
				stats[i] = c.stat(ctx, mounts[i])
			}
		})
	}
	for i := range mounts {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return stats
}

func (c *filesystemCollector) stat(ctx context.Context, m fsMount) fsStats {
	s := fsStats{fsMount: m}
	c.mu.Lock()
	stale := c.stale[m.mountPoint] > 0
	c.mu.Unlock()
	if stale {
		c.logger.Debug("mount point is still unresponsive, skipping it", "mountpoint", m.mountPoint)
		s.err = errMountTimeout
		return s
	}
	if err := ctx.Err(); err != nil {
		s.err = err
		return s
	}

	path := c.cfg.rootfsFilePath(m.mountPoint)
	// The call's state is shared with the goroutine under c.mu, so that it
	// either hands over its result or learns that it was given up on.
	var (
		done      = make(chan struct{})
		abandoned bool
		buf       unix.Statfs_t
		err       error
	)
	go func() {
		var b unix.Statfs_t
		e := c.statfs(path, &b)
		c.mu.Lock()
		defer c.mu.Unlock()
		if abandoned {
			c.logger.Debug("mount point has recovered, monitoring will resume", "mountpoint", m.mountPoint)
			if c.stale[m.mountPoint]--; c.stale[m.mountPoint] <= 0 {
				delete(c.stale, m.mountPoint)
			}
			return
		}
		buf, err = b, e
		close(done)
	}()

	timer := time.NewTimer(c.mountTimeout)
	defer timer.Stop()
	var giveUp error
	select {
	case <-done:
	case <-timer.C:
		giveUp = errMountTimeout
	case <-ctx.Done():
		giveUp = ctx.Err()
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if giveUp != nil {
		select {
		case <-done: // answered while we were taking the lock
		default:
			abandoned = true
			c.stale[m.mountPoint]++
			c.logger.Debug("mount point timed out, it is marked stale and skipped until it answers", "mountpoint", m.mountPoint)
			s.err = giveUp
			return s
		}
	}
	if err != nil {
		c.logger.Debug("statfs failed", "path", path, "err", err)
		s.err = err
		return s
	}
	s.buf = buf
	return s
}

func fsBool(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
