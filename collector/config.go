package collector

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
)

// Config holds everything the collectors are built from. The zero value,
// after withDefaults, reads the running host with node_exporter's defaults.
type Config struct {
	// ProcPath, SysPath and RootfsPath are where procfs, sysfs and the host's
	// root file system are mounted (for containers: --path.rootfs=/host).
	ProcPath   string
	SysPath    string
	RootfsPath string
	// UdevDataPath is where udev keeps its device database.
	UdevDataPath string

	// Logger receives collector errors; each collector gets it with a
	// "collector" attribute. Nil discards.
	Logger *slog.Logger

	ARP         ARPOptions
	Bcache      BcacheOptions
	CPU         CPUOptions
	DiskStats   DiskStatsOptions
	Filesystem  FilesystemOptions
	Hwmon       HwmonOptions
	Infiniband  InfinibandOptions
	IPVS        IPVSOptions
	NetClass    NetClassOptions
	NetDev      NetDevOptions
	NetStat     NetStatOptions
	PowerSupply PowerSupplyOptions
	RAPL        RAPLOptions
	Textfile    TextfileOptions
	VMStat      VMStatOptions
}

// ARPOptions configures the arp collector. Include and Exclude are regexps
// over device names and are mutually exclusive.
type ARPOptions struct {
	DeviceInclude string
	DeviceExclude string
}

// BcacheOptions configures the bcache collector.
type BcacheOptions struct {
	// PriorityStats exposes the expensive priority statistics.
	PriorityStats bool
}

// HwmonOptions configures the hwmon collector. Each include is mutually
// exclusive with its exclude.
type HwmonOptions struct {
	ChipInclude   string
	ChipExclude   string
	SensorInclude string
	SensorExclude string
}

// InfinibandOptions configures the infiniband collector.
type InfinibandOptions struct {
	DeviceInclude string
	DeviceExclude string
}

// IPVSOptions configures the ipvs collector.
type IPVSOptions struct {
	// BackendLabels are the labels of node_ipvs_backend_* series, a subset
	// of local_address, local_port, remote_address, remote_port, proto,
	// local_mark.
	BackendLabels []string
}

// NetClassOptions configures the netclass collector.
type NetClassOptions struct {
	// IgnoredDevices is a regexp of devices to leave out.
	IgnoredDevices string
	// IgnoreInvalidSpeed leaves out devices whose speed the kernel cannot tell.
	IgnoreInvalidSpeed bool
}

// PowerSupplyOptions configures the powersupplyclass collector.
type PowerSupplyOptions struct {
	// IgnoredSupplies is a regexp of power supplies to leave out.
	IgnoredSupplies string
}

// RAPLOptions configures the rapl collector.
type RAPLOptions struct {
	// ZoneLabel adds the zone name as a label.
	ZoneLabel bool
}

// CPUOptions configures the cpu collector.
type CPUOptions struct {
	// Guest enables node_cpu_guest_seconds_total.
	Guest bool
	// Info enables node_cpu_info, with flags and bugs filtered by the regexps.
	Info         bool
	FlagsInclude string
	BugsInclude  string
}

// DiskStatsOptions configures the diskstats collector. Include and Exclude
// are regexps over device names and are mutually exclusive.
type DiskStatsOptions struct {
	DeviceInclude string
	DeviceExclude string
}

// FilesystemOptions configures the filesystem collector. Each include is
// mutually exclusive with its exclude.
type FilesystemOptions struct {
	MountPointsInclude string
	MountPointsExclude string
	FSTypesInclude     string
	FSTypesExclude     string
	// MountTimeout is how long a statfs may take before the mount is
	// reported as stale (node_filesystem_device_error 1) and skipped.
	MountTimeout time.Duration
	// StatWorkers bounds the number of concurrent statfs calls.
	StatWorkers int
}

// NetDevOptions configures the netdev collector.
type NetDevOptions struct {
	DeviceInclude string
	DeviceExclude string
	// AddressInfo enables node_network_address_info.
	AddressInfo bool
}

// NetStatOptions configures the netstat collector.
type NetStatOptions struct {
	// Fields is a regexp over "Proto_Field" names to report.
	Fields string
}

// TextfileOptions configures the textfile collector.
type TextfileOptions struct {
	// Directories are read for *.prom files; each may be a glob.
	Directories []string
}

// VMStatOptions configures the vmstat collector.
type VMStatOptions struct {
	// Fields is a regexp over /proc/vmstat field names to report.
	Fields string
}

// Defaults of node_exporter v1.12.1 on Linux.
const (
	DefaultMountPointsExclude = `^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)`
	DefaultFSTypesExclude     = `^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs)$`
	DefaultDiskStatsExclude   = `^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$`
	DefaultVMStatFields       = `^(oom_kill|pgpg|pswp|pg.*fault).*`
	DefaultNetStatFields      = `^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts|TCPOFOQueue|TCPRcvQDrop)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$`
)

// DefaultIPVSBackendLabels are the labels node_ipvs_backend_* series carry by default.
var DefaultIPVSBackendLabels = []string{"local_address", "local_port", "remote_address", "remote_port", "proto", "local_mark"}

// DefaultConfig returns the configuration node_exporter runs with when no
// flag is given.
func DefaultConfig() Config {
	return Config{
		ProcPath:     "/proc",
		SysPath:      "/sys",
		RootfsPath:   "/",
		UdevDataPath: "/run/udev/data",
		CPU:          CPUOptions{Guest: true},
		DiskStats:    DiskStatsOptions{DeviceExclude: DefaultDiskStatsExclude},
		Filesystem: FilesystemOptions{
			MountPointsExclude: DefaultMountPointsExclude,
			FSTypesExclude:     DefaultFSTypesExclude,
			MountTimeout:       5 * time.Second,
			StatWorkers:        4,
		},
		NetStat:     NetStatOptions{Fields: DefaultNetStatFields},
		VMStat:      VMStatOptions{Fields: DefaultVMStatFields},
		IPVS:        IPVSOptions{BackendLabels: DefaultIPVSBackendLabels},
		NetClass:    NetClassOptions{IgnoredDevices: "^$"},
		PowerSupply: PowerSupplyOptions{IgnoredSupplies: "^$"},
	}
}

// withDefaults fills what a library user left empty.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.ProcPath == "" {
		c.ProcPath = d.ProcPath
	}
	if c.SysPath == "" {
		c.SysPath = d.SysPath
	}
	if c.RootfsPath == "" {
		c.RootfsPath = d.RootfsPath
	}
	if c.UdevDataPath == "" {
		c.UdevDataPath = d.UdevDataPath
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.IPVS.BackendLabels == nil {
		c.IPVS.BackendLabels = d.IPVS.BackendLabels
	}
	if c.Filesystem.MountTimeout <= 0 {
		c.Filesystem.MountTimeout = d.Filesystem.MountTimeout
	}
	if c.Filesystem.StatWorkers <= 0 {
		c.Filesystem.StatWorkers = d.Filesystem.StatWorkers
	}
	return c
}

func (c Config) forCollector(name string) Config {
	c.Logger = c.Logger.With("collector", name)
	return c
}

func (c Config) procFilePath(name string) string   { return filepath.Join(c.ProcPath, name) }
func (c Config) rootfsFilePath(name string) string { return filepath.Join(c.RootfsPath, name) }

// rootfsStripPrefix turns a path seen under RootfsPath back into the path
// the host sees.
func (c Config) rootfsStripPrefix(path string) string {
	if c.RootfsPath == "/" {
		return path
	}
	stripped := strings.TrimPrefix(path, c.RootfsPath)
	if stripped == "" {
		return "/"
	}
	return stripped
}

// flagGroup is what kingpin.Application and kingpin.CmdClause share.
type flagGroup interface {
	Flag(name, help string) *kingpin.FlagClause
}

// AddFlags binds node_exporter's path and collector option flags onto c,
// with node_exporter's names and defaults.
func (c *Config) AddFlags(app flagGroup) {
	d := DefaultConfig()
	app.Flag("path.procfs", "procfs mountpoint.").Default(d.ProcPath).StringVar(&c.ProcPath)
	app.Flag("path.sysfs", "sysfs mountpoint.").Default(d.SysPath).StringVar(&c.SysPath)
	app.Flag("path.rootfs", "rootfs mountpoint.").Default(d.RootfsPath).StringVar(&c.RootfsPath)
	app.Flag("path.udev.data", "udev data path.").Default(d.UdevDataPath).StringVar(&c.UdevDataPath)

	app.Flag("collector.cpu.guest", "Enables metric node_cpu_guest_seconds_total").Default("true").BoolVar(&c.CPU.Guest)
	app.Flag("collector.cpu.info", "Enables metric cpu_info").BoolVar(&c.CPU.Info)
	app.Flag("collector.cpu.info.flags-include", "Filter the `flags` field in cpuInfo with a value that must be a regular expression").StringVar(&c.CPU.FlagsInclude)
	app.Flag("collector.cpu.info.bugs-include", "Filter the `bugs` field in cpuInfo with a value that must be a regular expression").StringVar(&c.CPU.BugsInclude)

	app.Flag("collector.diskstats.device-exclude", "Regexp of diskstats devices to exclude (mutually exclusive to device-include).").Default(d.DiskStats.DeviceExclude).StringVar(&c.DiskStats.DeviceExclude)
	app.Flag("collector.diskstats.device-include", "Regexp of diskstats devices to include (mutually exclusive to device-exclude).").StringVar(&c.DiskStats.DeviceInclude)

	app.Flag("collector.filesystem.mount-points-exclude", "Regexp of mount points to exclude for filesystem collector. (mutually exclusive to mount-points-include)").Default(d.Filesystem.MountPointsExclude).StringVar(&c.Filesystem.MountPointsExclude)
	app.Flag("collector.filesystem.mount-points-include", "Regexp of mount points to include for filesystem collector. (mutually exclusive to mount-points-exclude)").StringVar(&c.Filesystem.MountPointsInclude)
	app.Flag("collector.filesystem.fs-types-exclude", "Regexp of filesystem types to exclude for filesystem collector. (mutually exclusive to fs-types-include)").Default(d.Filesystem.FSTypesExclude).StringVar(&c.Filesystem.FSTypesExclude)
	app.Flag("collector.filesystem.fs-types-include", "Regexp of filesystem types to include for filesystem collector. (mutually exclusive to fs-types-exclude)").StringVar(&c.Filesystem.FSTypesInclude)
	app.Flag("collector.filesystem.mount-timeout", "how long to wait for a mount to respond before marking it as stale").Hidden().Default("5s").DurationVar(&c.Filesystem.MountTimeout)
	app.Flag("collector.filesystem.stat-workers", "how many stat calls to process simultaneously").Hidden().Default("4").IntVar(&c.Filesystem.StatWorkers)

	app.Flag("collector.netdev.device-include", "Regexp of net devices to include (mutually exclusive to device-exclude).").StringVar(&c.NetDev.DeviceInclude)
	app.Flag("collector.netdev.device-exclude", "Regexp of net devices to exclude (mutually exclusive to device-include).").StringVar(&c.NetDev.DeviceExclude)
	app.Flag("collector.netdev.address-info", "Collect address-info for every device").BoolVar(&c.NetDev.AddressInfo)

	app.Flag("collector.arp.device-include", "Regexp of arp devices to include (mutually exclusive to device-exclude).").StringVar(&c.ARP.DeviceInclude)
	app.Flag("collector.arp.device-exclude", "Regexp of arp devices to exclude (mutually exclusive to device-include).").StringVar(&c.ARP.DeviceExclude)
	app.Flag("collector.bcache.priorityStats", "Expose expensive priority stats.").BoolVar(&c.Bcache.PriorityStats)
	app.Flag("collector.hwmon.chip-include", "Regexp of hwmon chip to include (mutually exclusive to device-exclude).").StringVar(&c.Hwmon.ChipInclude)
	app.Flag("collector.hwmon.chip-exclude", "Regexp of hwmon chip to exclude (mutually exclusive to device-include).").StringVar(&c.Hwmon.ChipExclude)
	app.Flag("collector.hwmon.sensor-include", "Regexp of hwmon sensor to include (mutually exclusive to sensor-exclude).").StringVar(&c.Hwmon.SensorInclude)
	app.Flag("collector.hwmon.sensor-exclude", "Regexp of hwmon sensor to exclude (mutually exclusive to sensor-include).").StringVar(&c.Hwmon.SensorExclude)
	app.Flag("collector.infiniband.device-include", "Regexp of infiniband devices to include (mutually exclusive to device-exclude).").StringVar(&c.Infiniband.DeviceInclude)
	app.Flag("collector.infiniband.device-exclude", "Regexp of infiniband devices to exclude (mutually exclusive to device-include).").StringVar(&c.Infiniband.DeviceExclude)
	app.Flag("collector.ipvs.backend-labels", "Comma separated list for IPVS backend stats labels.").Default(strings.Join(d.IPVS.BackendLabels, ",")).
		SetValue(commaList{&c.IPVS.BackendLabels})
	app.Flag("collector.netclass.ignored-devices", "Regexp of net devices to ignore for netclass collector.").Default(d.NetClass.IgnoredDevices).StringVar(&c.NetClass.IgnoredDevices)
	app.Flag("collector.netclass.ignore-invalid-speed", "Ignore devices where the speed is invalid. This will be the default behavior in 2.x.").BoolVar(&c.NetClass.IgnoreInvalidSpeed)
	app.Flag("collector.powersupply.ignored-supplies", "Regexp of power supplies to ignore for powersupplyclass collector.").Default(d.PowerSupply.IgnoredSupplies).StringVar(&c.PowerSupply.IgnoredSupplies)
	app.Flag("collector.rapl.enable-zone-label", "Enables service unit metric unit_start_time_seconds").BoolVar(&c.RAPL.ZoneLabel)

	app.Flag("collector.netstat.fields", "Regexp of fields to return for netstat collector.").Default(d.NetStat.Fields).StringVar(&c.NetStat.Fields)
	app.Flag("collector.textfile.directory", "Directory to read text files with metrics from, supports glob matching. (repeatable)").StringsVar(&c.Textfile.Directories)
	app.Flag("collector.vmstat.fields", "Regexp of fields to return for vmstat collector.").Default(d.VMStat.Fields).StringVar(&c.VMStat.Fields)
}

// EnabledFlags adds --collector.NAME / --no-collector.NAME for every
// collector and --collector.disable-defaults. The returned function, called
// after parsing, gives the names of the collectors to run.
func EnabledFlags(app flagGroup) func() []string {
	state := map[string]*bool{}
	forced := map[string]bool{}
	for _, name := range Names() {
		def := "false"
		if DefaultEnabled(name) {
			def = "true"
		}
		help := fmt.Sprintf("Enable the %s collector (default: %s).", name, map[string]string{"true": "enabled", "false": "disabled"}[def])
		state[name] = app.Flag("collector."+name, help).Default(def).
			Action(func(*kingpin.ParseContext) error { forced[name] = true; return nil }).Bool()
	}
	disableDefaults := app.Flag("collector.disable-defaults", "Set all collectors to disabled by default.").Default("false").Bool()
	return func() []string {
		var names []string
		for _, name := range Names() {
			on := *state[name]
			if *disableDefaults && !forced[name] {
				on = false
			}
			if on {
				names = append(names, name)
			}
		}
		return names
	}
}

// commaList binds a comma-separated flag value to a string slice.
type commaList struct{ list *[]string }

func (l commaList) String() string {
	if l.list == nil {
		return ""
	}
	return strings.Join(*l.list, ",")
}

func (l commaList) Set(v string) error {
	*l.list = []string{} // set, even if to nothing: withDefaults keeps it
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l.list = append(*l.list, s)
		}
	}
	return nil
}

// deviceFilter selects names by an include or an exclude regexp, never both.
type deviceFilter struct {
	include, exclude *regexp.Regexp
}

func newDeviceFilter(what, include, exclude string) (deviceFilter, error) {
	var f deviceFilter
	if include != "" && exclude != "" {
		return f, fmt.Errorf("%s: include and exclude are mutually exclusive", what)
	}
	var err error
	if include != "" {
		if f.include, err = regexp.Compile(include); err != nil {
			return f, fmt.Errorf("%s include %q: %w", what, include, err)
		}
	}
	if exclude != "" {
		if f.exclude, err = regexp.Compile(exclude); err != nil {
			return f, fmt.Errorf("%s exclude %q: %w", what, exclude, err)
		}
	}
	return f, nil
}

// ignored reports whether name is filtered out.
func (f deviceFilter) ignored(name string) bool {
	return (f.exclude != nil && f.exclude.MatchString(name)) ||
		(f.include != nil && !f.include.MatchString(name))
}
