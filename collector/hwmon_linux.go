package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

func init() {
	register("hwmon", true, newHwmonCollector)
}

var (
	// hwmonInvalidChars are replaced by "_" in chip and element names.
	hwmonInvalidChars = regexp.MustCompile(`[^a-z0-9:_]`)
	// hwmonFileName splits a sensor file name such as "temp1_crit_alarm"
	// into type ("temp"), number ("1") and element ("crit_alarm"), as the
	// kernel's sysfs-interface document names them.
	hwmonFileName = regexp.MustCompile(`^([^0-9]+)([0-9]*)?(_(.+))?$`)
	// hwmonSensorTypes are the sensor types node_exporter reports.
	hwmonSensorTypes = []string{
		"vrm", "beep_enable", "update_interval", "in", "cpu", "fan",
		"pwm", "temp", "curr", "power", "energy", "humidity",
		"intrusion", "freq",
	}
	hwmonLabelNames = []string{"chip", "sensor"}
)

// hwmonCollector reports the sensors of /sys/class/hwmon. procfs has no
// parser for them: the files are read here, one read(2) each, in the way
// node_exporter reads them.
type hwmonCollector struct {
	classPath string
	logger    *slog.Logger
	chips     deviceFilter
	// sensors filters "chip;sensor", e.g. "platform_coretemp_0;temp3".
	sensors deviceFilter
}

func newHwmonCollector(cfg Config) (Collector, error) {
	chips, err := newDeviceFilter("hwmon chip", cfg.Hwmon.ChipInclude, cfg.Hwmon.ChipExclude)
	if err != nil {
		return nil, err
	}
	sensors, err := newDeviceFilter("hwmon sensor", cfg.Hwmon.SensorInclude, cfg.Hwmon.SensorExclude)
	if err != nil {
		return nil, err
	}
	return &hwmonCollector{
		classPath: filepath.Join(cfg.SysPath, "class", "hwmon"),
		logger:    cfg.Logger,
		chips:     chips,
		sensors:   sensors,
	}, nil
}

// hwmonChip is one directory of /sys/class/hwmon and the chip label it is
// reported under.
type hwmonChip struct {
	dir, base, nameFile string
}

func (c *hwmonCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	entries, err := os.ReadDir(c.classPath)
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNoData
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", c.classPath, err)
	}

	// Several hwmon directories can belong to one device (asus-nb-wmi has
	// one for fan control and one for its WMI sensors), which would give
	// them the same chip label. Such chips are told apart by their name
	// file, or failing that by their hwmonN directory.
	var chips []hwmonChip
	perBase := map[string]int{}
	perBaseAndName := map[[2]string]int{}
	for _, e := range entries {
		dir := filepath.Join(c.classPath, e.Name())
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			continue
		}
		base, err := hwmonChipName(dir)
		if err != nil {
			c.logger.Debug("cannot name hwmon chip", "dir", dir, "err", err)
			continue
		}
		var nameFile string
		if b, err := readFile(filepath.Join(dir, "name")); err == nil {
			nameFile = strings.TrimSpace(string(b))
		}
		chips = append(chips, hwmonChip{dir: dir, base: base, nameFile: nameFile})
		perBase[base]++
		perBaseAndName[[2]string{base, nameFile}]++
	}
	if len(chips) == 0 {
		return ErrNoData
	}

	var errs []error
	for _, chip := range chips {
		name := chip.base
		if perBase[chip.base] > 1 {
			suffix := hwmonCleanName(chip.nameFile)
			if suffix == "" || perBaseAndName[[2]string{chip.base, chip.nameFile}] > 1 {
				suffix = hwmonCleanName(filepath.Base(chip.dir))
			}
			name += "_" + suffix
		}
		// The filter sees the label the metrics carry.
		if c.chips.ignored(name) {
			c.logger.Debug("ignoring hwmon chip", "chip", name)
			continue
		}
		if err := c.updateChip(ch, chip.dir, name); err != nil {
			errs = append(errs, fmt.Errorf("hwmon chip %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

func (c *hwmonCollector) updateChip(ch chan<- prometheus.Metric, dir, chip string) error {
	// sensors maps "temp1" to its elements: "input", "crit", "label", and
	// "" for a file without element such as "pwm1".
	sensors := map[string]map[string]string{}
	if err := hwmonReadSensors(dir, sensors); err != nil {
		return err
	}
	// Older drivers put their files in the device directory.
	if _, err := os.Stat(filepath.Join(dir, "device")); err == nil {
		if err := hwmonReadSensors(filepath.Join(dir, "device"), sensors); err != nil {
			return err
		}
	}

	if b, err := readFile(filepath.Join(dir, "name")); err == nil {
		if name := hwmonCleanName(string(b)); name != "" {
			ch <- mustNewConstMetric(
				prometheus.NewDesc("node_hwmon_chip_names", "Annotation metric for human-readable chip names", []string{"chip", "chip_name"}, nil),
				prometheus.GaugeValue, 1, chip, name)
		}
	}

	names := make([]string, 0, len(sensors))
	for sensor := range sensors {
		names = append(names, sensor)
	}
	sort.Strings(names)
	for _, sensor := range names {
		if c.sensors.ignored(chip + ";" + sensor) {
			c.logger.Debug("ignoring hwmon sensor", "chip", chip, "sensor", sensor)
			continue
		}
		hwmonSendSensor(ch, chip, sensor, sensors[sensor])
	}
	return nil
}

// hwmonSendSensor sends the metrics of one sensor, with node_exporter's
// names, help and units.
func hwmonSendSensor(ch chan<- prometheus.Metric, chip, sensor string, elements map[string]string) {
	gauge := func(name, help string, value float64, labels ...string) {
		ch <- mustNewConstMetric(prometheus.NewDesc(name, hwmonHelp(help), hwmonLabelNames, nil), prometheus.GaugeValue, value, labels...)
	}
	sensorType, _, _, _ := hwmonSplitFileName(sensor)

	label, hasLabel := elements["label"]
	if hasLabel {
		ch <- mustNewConstMetric(
			prometheus.NewDesc("node_hwmon_sensor_label", "Label for given chip and sensor", []string{"chip", "sensor", "label"}, nil),
			prometheus.GaugeValue, 1, chip, sensor, label) // made UTF-8 by mustNewConstMetric
	}

	switch sensorType {
	case "beep_enable":
		enabled := 0.0
		if elements[""] == "1" {
			enabled = 1
		}
		gauge("node_hwmon_beep_enabled", "Hardware beep enabled", enabled, chip, sensor)
		return
	case "vrm":
		if v, err := strconv.ParseFloat(elements[""], 64); err == nil {
			gauge("node_hwmon_voltage_regulator_version", "Hardware voltage regulator", v, chip, sensor)
		}
		return
	case "update_interval":
		if v, err := strconv.ParseFloat(elements[""], 64); err == nil {
			gauge("node_hwmon_update_interval_seconds", "Hardware monitor update interval", v*0.001, chip, sensor)
		}
		return
	}

	_, hasBare := elements[""]
	for element, raw := range elements {
		if element == "label" {
			continue
		}
		value, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			// Text elements (temp1_type of some drivers, power1_model_number).
			continue
		}
		m := hwmonMetricFor(sensorType, element, hasBare)
		if sensorType == "freq" && element == "input" {
			// Only labelled frequencies are sent, with the label (cleaned)
			// in place of the sensor name: "sclk", "mclk" of amdgpu.
			if hasLabel {
				gauge(m.name+"_freq_mhz", "Hardware monitor for GPU frequency in MHz", value/1000000.0, chip, hwmonCleanName(label))
			}
			continue
		}
		ch <- mustNewConstMetric(prometheus.NewDesc(m.name, hwmonHelp(m.help), hwmonLabelNames, nil), m.valueType, m.convert(value), chip, sensor)
	}
}

// hwmonMetric is how one element of a sensor is exposed.
type hwmonMetric struct {
	name, help string
	valueType  prometheus.ValueType
	convert    func(float64) float64
}

// The kernel gives milli- and micro-units. node_exporter multiplies by
// 0.001 for the former and divides by 1e6 for the latter; doing the same
// gives its values to the last bit.
var (
	hwmonAsIs  = func(v float64) float64 { return v }
	hwmonMilli = func(v float64) float64 { return v * 0.001 }
	hwmonMicro = func(v float64) float64 { return v / 1000000.0 }
)

// hwmonMetricFor names the metric of element of a sensor of sensorType;
// hasBare tells whether the sensor also has a file without element (then
// "input" keeps its suffix).
func hwmonMetricFor(sensorType, element string, hasBare bool) hwmonMetric {
	name := "node_hwmon_" + sensorType
	switch {
	case element == "input":
		if hasBare {
			name += "_input"
		}
	case element != "":
		name += "_" + hwmonCleanName(element)
	}
	gauge := func(name, help string, convert func(float64) float64) hwmonMetric {
		return hwmonMetric{name, help, prometheus.GaugeValue, convert}
	}
	switch {
	case element == "fault" || element == "alarm":
		return gauge(name, "Hardware sensor "+element+" status ("+sensorType+")", hwmonAsIs)
	case element == "beep":
		return gauge(name+"_enabled", "Hardware monitor sensor has beeping enabled", hwmonAsIs)
	case sensorType == "in" || sensorType == "cpu":
		return gauge(name+"_volts", "Hardware monitor for voltage ("+element+")", hwmonMilli)
	case sensorType == "temp" && element != "type":
		if element == "" {
			element = "input"
		}
		return gauge(name+"_celsius", "Hardware monitor for temperature ("+element+")", hwmonMilli)
	case sensorType == "curr":
		return gauge(name+"_amps", "Hardware monitor for current ("+element+")", hwmonMilli)
	case sensorType == "energy":
		return hwmonMetric{name + "_joule_total", "Hardware monitor for joules used so far (" + element + ")", prometheus.CounterValue, hwmonMicro}
	case sensorType == "power" && element == "accuracy":
		return gauge(name, "Hardware monitor power meter accuracy, as a ratio", hwmonMicro)
	case sensorType == "power" && (element == "average_interval" || element == "average_interval_min" || element == "average_interval_max"):
		return gauge(name+"_seconds", "Hardware monitor power usage update interval ("+element+")", hwmonMilli)
	case sensorType == "power":
		return gauge(name+"_watt", "Hardware monitor for power usage in watts ("+element+")", hwmonMicro)
	case sensorType == "humidity":
		return gauge(name, "Hardware monitor for humidity, as a ratio (multiply with 100.0 to get the humidity as a percentage) ("+element+")", hwmonMicro)
	case sensorType == "fan" && (element == "input" || element == "min" || element == "max" || element == "target"):
		return gauge(name+"_rpm", "Hardware monitor for fan revolutions per minute ("+element+")", hwmonAsIs)
	default:
		return gauge(name, "Hardware monitor "+sensorType+" element "+element, hwmonAsIs)
	}
}

// hwmonReadSensors adds the sensor files of dir to sensors. A file that
// cannot be read (a directory, a write-only file, a driver error) is left
// out.
func hwmonReadSensors(dir string, sensors map[string]map[string]string) error {
	files, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, f := range files {
		sensorType, num, element, ok := hwmonSplitFileName(f.Name())
		if !ok || !slices.Contains(hwmonSensorTypes, sensorType) {
			continue
		}
		value, err := hwmonReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			continue
		}
		sensor := sensorType + strconv.Itoa(num)
		if sensors[sensor] == nil {
			sensors[sensor] = map[string]string{}
		}
		sensors[sensor][element] = value
	}
	return nil
}

// hwmonReadFile reads a sensor file with a single read(2): some broken
// drivers answer EAGAIN, and one failed read is better than a retry loop.
func hwmonReadFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	// A sysfs attribute is at most a page.
	buf := make([]byte, 4096)
	n, err := f.Read(buf)
	if err != nil {
		return "", err
	}
	return strings.Trim(string(buf[:n]), "\n"), nil
}

// hwmonSplitFileName splits "temp1_crit_alarm" into "temp", 1,
// "crit_alarm". A file without number has number 0.
func hwmonSplitFileName(name string) (sensorType string, num int, element string, ok bool) {
	m := hwmonFileName.FindStringSubmatch(name)
	if m == nil {
		return "", 0, "", false
	}
	if m[2] != "" {
		if num, err := strconv.Atoi(m[2]); err == nil {
			return m[1], num, m[4], true
		}
		return "", 0, "", false
	}
	return m[1], 0, m[4], true
}

// hwmonChipName derives a stable chip label for a hwmon directory: hwmonN
// numbers follow the order in which modules load, the device path does not.
// In order of preference: the device's bus and name ("platform_coretemp_0"),
// the name file ("acpitz"), the hwmonN directory.
func hwmonChipName(dir string) (string, error) {
	if device, err := filepath.EvalSymlinks(filepath.Join(dir, "device")); err == nil {
		parent, name := filepath.Split(device)
		bus := hwmonCleanName(filepath.Base(strings.TrimRight(parent, "/")))
		name = hwmonCleanName(name)
		if bus != "" && name != "" {
			return bus + "_" + name, nil
		}
		if name != "" {
			return name, nil
		}
	}
	if b, err := readFile(filepath.Join(dir, "name")); err == nil {
		if name := hwmonCleanName(string(b)); name != "" {
			return name, nil
		}
	}
	resolved, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	if name := hwmonCleanName(filepath.Base(resolved)); name != "" {
		return name, nil
	}
	return "", fmt.Errorf("no name for hwmon directory %s", dir)
}

// hwmonCleanName lowercases s and makes it fit for a label or metric name.
func hwmonCleanName(s string) string {
	return strings.Trim(hwmonInvalidChars.ReplaceAllLiteralString(strings.ToLower(s), "_"), "_")
}

// hwmonHelp makes help, which holds parts of sensor file names, UTF-8:
// Prometheus refuses a whole scrape with a HELP line that is not.
func hwmonHelp(help string) string { return strings.ToValidUTF8(help, "\uFFFD") }
