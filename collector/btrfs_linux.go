package collector

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"strings"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
	"github.com/prometheus/procfs/btrfs"
	"golang.org/x/sys/unix"
)

func init() {
	register("btrfs", true, newBtrfsCollector)
}

// btrfsDeviceErrorTypes name the counters of BTRFS_IOC_GET_DEV_STATS in the
// kernel's order (enum btrfs_dev_stat_values).
var btrfsDeviceErrorTypes = [...]string{"write", "read", "flush", "corruption", "generation"}

// btrfsIoctlDevice is what the btrfs ioctls tell about one device of a
// mounted file system: more than sysfs has (the errors, the space used).
type btrfsIoctlDevice struct {
	path, uuid            string
	bytesUsed, totalBytes uint64
	errors                [len(btrfsDeviceErrorTypes)]uint64
}

// btrfsIoctlFS is what the btrfs ioctls tell about one mounted file system.
type btrfsIoctlFS struct {
	// fsid is the file system UUID in hex without dashes.
	fsid    string
	devices []btrfsIoctlDevice
}

// btrfsCollector reports the space and commit statistics of btrfs file
// systems from /sys/fs/btrfs/<uuid> and, where a mount point can be opened,
// the per-device sizes and error counters from the btrfs ioctls.
type btrfsCollector struct {
	fs     btrfs.FS
	procfs procfs.FS
	cfg    Config
	logger *slog.Logger
	// queryMount asks the kernel about the btrfs file system mounted at
	// path; tests replace it.
	queryMount func(path string) (btrfsIoctlFS, error)

	info, globalRsvSize, commits, lastCommit, maxCommit, commitSeconds typedDesc
	reserved, used, size, allocationRatio                              typedDesc
	// deviceSize has no btrfs_dev_uuid label when the ioctls could not be used.
	deviceSize, deviceSizeIoctl, deviceUnused, deviceErrors typedDesc
}

func newBtrfsCollector(cfg Config) (Collector, error) {
	sys, err := btrfs.NewFS(cfg.SysPath)
	if err != nil {
		return nil, fmt.Errorf("open sysfs: %w", err)
	}
	proc, err := procfs.NewFS(cfg.ProcPath)
	if err != nil {
		return nil, fmt.Errorf("open procfs: %w", err)
	}
	desc := func(name, help string, vt prometheus.ValueType, labels ...string) typedDesc {
		return typedDesc{prometheus.NewDesc(prometheus.BuildFQName(Namespace, "btrfs", name), help,
			append([]string{"uuid"}, labels...), nil), vt}
	}
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	return &btrfsCollector{
		fs:              sys,
		procfs:          proc,
		cfg:             cfg,
		logger:          cfg.Logger,
		queryMount:      btrfsQueryMount,
		info:            desc("info", "Filesystem information", gauge, "label"),
		globalRsvSize:   desc("global_rsv_size_bytes", "Size of global reserve.", gauge),
		commits:         desc("commits_total", "The total number of commits that have occurred.", counter),
		lastCommit:      desc("last_commit_seconds", "Duration of the most recent commit, in seconds.", gauge),
		maxCommit:       desc("max_commit_seconds", "Duration of the slowest commit, in seconds.", gauge),
		commitSeconds:   desc("commit_seconds_total", "Sum of the duration of all commits, in seconds.", counter),
		reserved:        desc("reserved_bytes", "Amount of space reserved for a data type", gauge, "block_group_type"),
		used:            desc("used_bytes", "Amount of used space by a layout/data type", gauge, "block_group_type", "mode"),
		size:            desc("size_bytes", "Amount of space allocated for a layout/data type", gauge, "block_group_type", "mode"),
		allocationRatio: desc("allocation_ratio", "Data allocation ratio for a layout/data type", gauge, "block_group_type", "mode"),
		deviceSize:      desc("device_size_bytes", "Size of a device that is part of the filesystem.", gauge, "device"),
		deviceSizeIoctl: desc("device_size_bytes", "Size of a device that is part of the filesystem.", gauge, "device", "btrfs_dev_uuid"),
		deviceUnused:    desc("device_unused_bytes", "Unused bytes unused on a device that is part of the filesystem.", gauge, "device", "btrfs_dev_uuid"),
		deviceErrors:    desc("device_errors_total", "Errors reported for the device", counter, "type", "device", "btrfs_dev_uuid"),
	}, nil
}

func (c *btrfsCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	stats, err := c.fs.Stats()
	if err != nil {
		return fmt.Errorf("read btrfs stats from sysfs: %w", err)
	}
	// No btrfs file system is not an error: node_exporter sends nothing then.
	if len(stats) == 0 {
		return nil
	}
	// The ioctls add to what sysfs has; without them (no permission, mount
	// points not visible) the sysfs metrics are still worth sending.
	byFSID, err := c.ioctlStats()
	if err != nil {
		c.logger.Debug("query btrfs device stats with ioctls", "err", err)
	}
	for _, s := range stats {
		c.send(ch, s, byFSID[strings.ReplaceAll(s.UUID, "-", "")])
	}
	return nil
}

func (c *btrfsCollector) send(ch chan<- prometheus.Metric, s *btrfs.Stats, ioctl *btrfsIoctlFS) {
	uuid := s.UUID
	ch <- c.info.mustNewConstMetric(1, uuid, s.Label)
	ch <- c.globalRsvSize.mustNewConstMetric(float64(s.Allocation.GlobalRsvSize), uuid)
	ch <- c.commits.mustNewConstMetric(float64(s.CommitStats.Commits), uuid)
	ch <- c.lastCommit.mustNewConstMetric(float64(s.CommitStats.LastCommitMs)/1000, uuid)
	ch <- c.maxCommit.mustNewConstMetric(float64(s.CommitStats.MaxCommitMs)/1000, uuid)
	ch <- c.commitSeconds.mustNewConstMetric(float64(s.CommitStats.TotalCommitMs)/1000, uuid)

	for _, a := range []struct {
		blockGroupType string
		stats          *btrfs.AllocationStats
	}{
		{"data", s.Allocation.Data},
		{"metadata", s.Allocation.Metadata},
		{"system", s.Allocation.System},
	} {
		if a.stats == nil {
			continue
		}
		ch <- c.reserved.mustNewConstMetric(float64(a.stats.ReservedBytes), uuid, a.blockGroupType)
		for mode, l := range a.stats.Layouts {
			ch <- c.used.mustNewConstMetric(float64(l.UsedBytes), uuid, a.blockGroupType, mode)
			ch <- c.size.mustNewConstMetric(float64(l.TotalBytes), uuid, a.blockGroupType, mode)
			ch <- c.allocationRatio.mustNewConstMetric(l.Ratio, uuid, a.blockGroupType, mode)
		}
	}

	if ioctl == nil {
		for name, dev := range s.Devices {
			ch <- c.deviceSize.mustNewConstMetric(float64(dev.Size), uuid, name)
		}
		return
	}
	for _, dev := range ioctl.devices {
		// /dev/sda and /rootfs/dev/md1 become sda and md1, the names sysfs
		// uses in the branch above.
		_, name := path.Split(dev.path)
		ch <- c.deviceSizeIoctl.mustNewConstMetric(float64(dev.totalBytes), uuid, name, dev.uuid)
		// Unused rather than used bytes: what matters is how little is
		// left, and small numbers keep their precision in a float64.
		ch <- c.deviceUnused.mustNewConstMetric(float64(dev.totalBytes-dev.bytesUsed), uuid, name, dev.uuid)
		for i, errorType := range btrfsDeviceErrorTypes {
			ch <- c.deviceErrors.mustNewConstMetric(float64(dev.errors[i]), uuid, errorType, name, dev.uuid)
		}
	}
}

// ioctlStats queries every mounted btrfs file system once, through the first
// of its mount points that can be opened, and returns them by fsid.
func (c *btrfsCollector) ioctlStats() (map[string]*btrfsIoctlFS, error) {
	mounts, err := c.procfs.GetProcMounts(1)
	if errors.Is(err, fs.ErrNotExist) {
		// hidepid hides /proc/1; this process's mounts are the next best.
		mounts, err = c.procfs.GetMounts()
	}
	if err != nil {
		return nil, fmt.Errorf("read mount points: %w", err)
	}
	devicesDone := map[string]bool{}
	byFSID := map[string]*btrfsIoctlFS{}
	for _, m := range mounts {
		if m.FSType != "btrfs" || devicesDone[m.Source] {
			continue
		}
		mountPoint := strings.NewReplacer(`\040`, " ", `\011`, "\t").Replace(m.MountPoint)
		mountPath := c.cfg.rootfsFilePath(c.cfg.rootfsStripPrefix(mountPoint))
		info, err := c.queryMount(mountPath)
		if err != nil {
			// Perhaps another mount point of the same file system works.
			c.logger.Debug("query btrfs mount point", "mount_point", mountPath, "err", err)
			continue
		}
		if _, done := byFSID[info.fsid]; done {
			continue
		}
		devicesDone[m.Source] = true
		byFSID[info.fsid] = &info
	}
	return byFSID, nil
}

// The btrfs ioctl interface, from include/uapi/linux/btrfs.h. golang.org/x/sys
// does not define it.
const (
	btrfsIoctlMagic = 0x94
	// btrfsDevStatValuesMax is BTRFS_DEV_STAT_VALUES_MAX.
	btrfsDevStatValuesMax = 5
)

// btrfsFSInfoArgs is struct btrfs_ioctl_fs_info_args, 1024 bytes. The
// fields after fsid are not needed and stay zero, so the kernel fills in
// only the basic ones.
type btrfsFSInfoArgs struct {
	maxID      uint64
	numDevices uint64
	fsid       [16]byte
	_          [1024 - 32]byte
}

// btrfsDevInfoArgs is struct btrfs_ioctl_dev_info_args, 4096 bytes.
type btrfsDevInfoArgs struct {
	devid      uint64
	uuid       [16]byte
	bytesUsed  uint64
	totalBytes uint64
	_          [379]uint64
	path       [1024]byte
}

// btrfsGetDevStatsArgs is struct btrfs_ioctl_get_dev_stats, 1032 bytes.
type btrfsGetDevStatsArgs struct {
	devid   uint64
	nrItems uint64
	flags   uint64
	values  [btrfsDevStatValuesMax]uint64
	_       [128 - 2 - btrfsDevStatValuesMax]uint64
}

// btrfsIOC encodes an ioctl request number as the kernel's _IOC macro does.
func btrfsIOC(dir, nr, size uintptr) uintptr {
	return dir<<30 | size<<16 | btrfsIoctlMagic<<8 | nr
}

const (
	btrfsIocWrite = 1
	btrfsIocRead  = 2
)

var (
	btrfsIocFSInfo      = btrfsIOC(btrfsIocRead, 31, unsafe.Sizeof(btrfsFSInfoArgs{}))
	btrfsIocDevInfo     = btrfsIOC(btrfsIocRead|btrfsIocWrite, 30, unsafe.Sizeof(btrfsDevInfoArgs{}))
	btrfsIocGetDevStats = btrfsIOC(btrfsIocRead|btrfsIocWrite, 52, unsafe.Sizeof(btrfsGetDevStatsArgs{}))
)

func btrfsIoctl(fd uintptr, req uintptr, arg unsafe.Pointer) error {
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, fd, req, uintptr(arg)); errno != 0 {
		return errno
	}
	return nil
}

// btrfsQueryMount reads the devices of the btrfs file system mounted at
// mountPath and their error counters. Reading them needs no privilege
// beyond opening the mount point.
func btrfsQueryMount(mountPath string) (btrfsIoctlFS, error) {
	var statfs unix.Statfs_t
	if err := unix.Statfs(mountPath, &statfs); err != nil {
		return btrfsIoctlFS{}, fmt.Errorf("statfs %s: %w", mountPath, err)
	}
	if statfs.Type != unix.BTRFS_SUPER_MAGIC {
		return btrfsIoctlFS{}, fmt.Errorf("%s is not a btrfs file system", mountPath)
	}
	dir, err := os.OpenFile(mountPath, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOATIME, 0)
	if err != nil {
		// O_NOATIME needs ownership of the directory.
		dir, err = os.OpenFile(mountPath, os.O_RDONLY|unix.O_DIRECTORY, 0)
	}
	if err != nil {
		return btrfsIoctlFS{}, err
	}
	defer dir.Close()
	fd := dir.Fd()

	var fsInfo btrfsFSInfoArgs
	if err := btrfsIoctl(fd, btrfsIocFSInfo, unsafe.Pointer(&fsInfo)); err != nil {
		return btrfsIoctlFS{}, fmt.Errorf("BTRFS_IOC_FS_INFO on %s: %w", mountPath, err)
	}
	result := btrfsIoctlFS{fsid: hex.EncodeToString(fsInfo.fsid[:])}
	// Device ids start at 1 but need not be contiguous: ids up to max_id
	// that name no device fail with ENODEV.
	for id := uint64(0); id <= fsInfo.maxID && uint64(len(result.devices)) < fsInfo.numDevices; id++ {
		devInfo := btrfsDevInfoArgs{devid: id}
		err := btrfsIoctl(fd, btrfsIocDevInfo, unsafe.Pointer(&devInfo))
		if errors.Is(err, unix.ENODEV) {
			continue
		}
		if err != nil {
			return btrfsIoctlFS{}, fmt.Errorf("BTRFS_IOC_DEV_INFO %d on %s: %w", id, mountPath, err)
		}
		devStats := btrfsGetDevStatsArgs{devid: id, nrItems: btrfsDevStatValuesMax}
		if err := btrfsIoctl(fd, btrfsIocGetDevStats, unsafe.Pointer(&devStats)); err != nil {
			return btrfsIoctlFS{}, fmt.Errorf("BTRFS_IOC_GET_DEV_STATS %d on %s: %w", id, mountPath, err)
		}
		dev := btrfsIoctlDevice{
			path:       unix.ByteSliceToString(devInfo.path[:]),
			uuid:       btrfsFormatUUID(devInfo.uuid),
			bytesUsed:  devInfo.bytesUsed,
			totalBytes: devInfo.totalBytes,
		}
		copy(dev.errors[:], devStats.values[:])
		result.devices = append(result.devices, dev)
	}
	return result, nil
}

// btrfsFormatUUID writes a UUID in its usual 8-4-4-4-12 form.
func btrfsFormatUUID(u [16]byte) string {
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
