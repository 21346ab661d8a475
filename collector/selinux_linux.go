package collector

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"
)

func init() {
	register("selinux", true, newSELinuxCollector)
}

// SELinux modes as node_exporter reports them (go-selinux's constants).
const (
	selinuxEnforcing  = 1
	selinuxPermissive = 0
	selinuxDisabled   = -1
)

// selinuxCollector finds out whether SELinux is enabled the way
// node_exporter does through go-selinux, without libselinux or cgo: an
// selinuxfs must be mounted read-write (at /sys/fs/selinux, or anywhere
// mountinfo shows one), and this process must have a label other than
// "kernel", which is what processes get before a policy is loaded.
// It looks again on every scrape; go-selinux decides once per process.
type selinuxCollector struct {
	procFS     procfs.FS
	procPath   string
	mountPoint string // the usual selinuxfs mount point, under SysPath
	configPath string // /etc/selinux/config, under RootfsPath

	// isSELinuxfs tells whether path is a writable selinuxfs mount. Tests
	// replace it, as statfs cannot be faked with fixture files.
	isSELinuxfs func(path string) bool

	configMode, currentMode, enabled typedDesc
}

func newSELinuxCollector(cfg Config) (Collector, error) {
	pfs, err := procfs.NewFS(cfg.ProcPath)
	if err != nil {
		return nil, fmt.Errorf("open procfs: %w", err)
	}
	gauge := func(name, help string) typedDesc {
		return typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "selinux", name), help, nil, nil,
		), prometheus.GaugeValue}
	}
	return &selinuxCollector{
		procFS:      pfs,
		procPath:    cfg.ProcPath,
		mountPoint:  filepath.Join(cfg.SysPath, "fs/selinux"),
		configPath:  cfg.rootfsFilePath("etc/selinux/config"),
		isSELinuxfs: isWritableSELinuxfs,
		configMode:  gauge("config_mode", "Configured SELinux enforcement mode"),
		currentMode: gauge("current_mode", "Current SELinux enforcement mode"),
		enabled:     gauge("enabled", "SELinux is enabled, 1 is true, 0 is false"),
	}, nil
}

func (c *selinuxCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	mnt := c.findMount()
	if mnt == "" || c.currentLabel() == "kernel" {
		ch <- c.enabled.mustNewConstMetric(0)
		return nil
	}
	ch <- c.enabled.mustNewConstMetric(1)
	ch <- c.configMode.mustNewConstMetric(float64(c.readConfigMode()))
	ch <- c.currentMode.mustNewConstMetric(float64(readEnforceMode(mnt)))
	return nil
}

// findMount returns where selinuxfs is mounted, or "" when it is not.
func (c *selinuxCollector) findMount() string {
	if c.isSELinuxfs(c.mountPoint) {
		return c.mountPoint
	}
	// Elsewhere only if the kernel knows selinuxfs at all, which spares
	// reading mountinfo on most hosts.
	filesystems, err := readFile(filepath.Join(c.procPath, "filesystems"))
	if err != nil || !bytes.Contains(filesystems, []byte("\tselinuxfs\n")) {
		return ""
	}
	mounts, err := c.procFS.GetMounts()
	if err != nil {
		return ""
	}
	for _, m := range mounts {
		if m.FSType == "selinuxfs" && c.isSELinuxfs(m.MountPoint) {
			return m.MountPoint
		}
	}
	return ""
}

// currentLabel returns this thread's SELinux label, "" when unknown.
func (c *selinuxCollector) currentLabel() string {
	label, err := readFile(filepath.Join(c.procPath, "thread-self/attr/current"))
	if err != nil {
		return ""
	}
	return string(bytes.TrimRight(label, "\x00\n"))
}

// readConfigMode returns the mode /etc/selinux/config sets for boot,
// reading it as go-selinux does: the first SELINUX= line, quotes trimmed.
func (c *selinuxCollector) readConfigMode() int {
	f, err := os.Open(c.configPath)
	if err != nil {
		return selinuxDisabled
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || key != "SELINUX" {
			continue
		}
		switch strings.Trim(value, `"`) {
		case "enforcing":
			return selinuxEnforcing
		case "permissive":
			return selinuxPermissive
		}
		return selinuxDisabled
	}
	return selinuxDisabled
}

// readEnforceMode returns the current mode from selinuxfs' enforce file:
// 1 enforcing, 0 permissive, -1 when it cannot be read.
func readEnforceMode(mnt string) int {
	data, err := readFile(filepath.Join(mnt, "enforce"))
	if err != nil {
		return selinuxDisabled
	}
	mode, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return selinuxDisabled
	}
	return mode
}

// isWritableSELinuxfs reports whether path is a selinuxfs mount that is
// not read-only; container runtimes mount a read-only one to tell the
// programs inside that SELinux is not theirs to use.
func isWritableSELinuxfs(path string) bool {
	var st unix.Statfs_t
	for {
		err := unix.Statfs(path, &st)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EINTR) && !errors.Is(err, unix.EAGAIN) {
			return false
		}
	}
	return uint32(st.Type) == uint32(unix.SELINUX_MAGIC) && st.Flags&unix.ST_RDONLY == 0
}
