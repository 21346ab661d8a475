package collector

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs/sysfs"
)

func init() {
	register("powersupplyclass", true, newPowerSupplyClassCollector)
}

// powerSupplyValue is one numeric file of a power supply: the name of its
// metric (node_power_supply_NAME), where procfs puts it, and the divisor
// that turns the kernel's unit into the metric's (a division, not a
// multiplication by the inverse, gives node_exporter's values to the bit).
type powerSupplyValue struct {
	name    string
	field   func(*sysfs.PowerSupply) *int64
	divisor float64
}

// powerSupplyValues are the files node_exporter exposes, with its metric
// names: counts as they are, µA, µV, µWh, µAh and µW in base units, and
// tenths of a degree in degrees.
var powerSupplyValues = []powerSupplyValue{
	{"authentic", func(p *sysfs.PowerSupply) *int64 { return p.Authentic }, 1},
	{"calibrate", func(p *sysfs.PowerSupply) *int64 { return p.Calibrate }, 1},
	{"capacity", func(p *sysfs.PowerSupply) *int64 { return p.Capacity }, 1},
	{"capacity_alert_max", func(p *sysfs.PowerSupply) *int64 { return p.CapacityAlertMax }, 1},
	{"capacity_alert_min", func(p *sysfs.PowerSupply) *int64 { return p.CapacityAlertMin }, 1},
	{"cyclecount", func(p *sysfs.PowerSupply) *int64 { return p.CycleCount }, 1},
	{"online", func(p *sysfs.PowerSupply) *int64 { return p.Online }, 1},
	{"present", func(p *sysfs.PowerSupply) *int64 { return p.Present }, 1},
	{"time_to_empty_seconds", func(p *sysfs.PowerSupply) *int64 { return p.TimeToEmptyNow }, 1},
	{"time_to_full_seconds", func(p *sysfs.PowerSupply) *int64 { return p.TimeToFullNow }, 1},

	{"current_boot", func(p *sysfs.PowerSupply) *int64 { return p.CurrentBoot }, 1e6},
	{"current_max", func(p *sysfs.PowerSupply) *int64 { return p.CurrentMax }, 1e6},
	{"current_ampere", func(p *sysfs.PowerSupply) *int64 { return p.CurrentNow }, 1e6},
	{"energy_empty", func(p *sysfs.PowerSupply) *int64 { return p.EnergyEmpty }, 1e6},
	{"energy_empty_design", func(p *sysfs.PowerSupply) *int64 { return p.EnergyEmptyDesign }, 1e6},
	{"energy_full", func(p *sysfs.PowerSupply) *int64 { return p.EnergyFull }, 1e6},
	{"energy_full_design", func(p *sysfs.PowerSupply) *int64 { return p.EnergyFullDesign }, 1e6},
	{"energy_watthour", func(p *sysfs.PowerSupply) *int64 { return p.EnergyNow }, 1e6},
	{"voltage_boot", func(p *sysfs.PowerSupply) *int64 { return p.VoltageBoot }, 1e6},
	{"voltage_max", func(p *sysfs.PowerSupply) *int64 { return p.VoltageMax }, 1e6},
	{"voltage_max_design", func(p *sysfs.PowerSupply) *int64 { return p.VoltageMaxDesign }, 1e6},
	{"voltage_min", func(p *sysfs.PowerSupply) *int64 { return p.VoltageMin }, 1e6},
	{"voltage_min_design", func(p *sysfs.PowerSupply) *int64 { return p.VoltageMinDesign }, 1e6},
	{"voltage_volt", func(p *sysfs.PowerSupply) *int64 { return p.VoltageNow }, 1e6},
	{"voltage_ocv", func(p *sysfs.PowerSupply) *int64 { return p.VoltageOCV }, 1e6},
	{"charge_control_limit", func(p *sysfs.PowerSupply) *int64 { return p.ChargeControlLimit }, 1e6},
	{"charge_control_limit_max", func(p *sysfs.PowerSupply) *int64 { return p.ChargeControlLimitMax }, 1e6},
	{"charge_counter", func(p *sysfs.PowerSupply) *int64 { return p.ChargeCounter }, 1e6},
	{"charge_empty", func(p *sysfs.PowerSupply) *int64 { return p.ChargeEmpty }, 1e6},
	{"charge_empty_design", func(p *sysfs.PowerSupply) *int64 { return p.ChargeEmptyDesign }, 1e6},
	{"charge_full", func(p *sysfs.PowerSupply) *int64 { return p.ChargeFull }, 1e6},
	{"charge_full_design", func(p *sysfs.PowerSupply) *int64 { return p.ChargeFullDesign }, 1e6},
	{"charge_ampere", func(p *sysfs.PowerSupply) *int64 { return p.ChargeNow }, 1e6},
	{"charge_term_current", func(p *sysfs.PowerSupply) *int64 { return p.ChargeTermCurrent }, 1e6},
	{"constant_charge_current", func(p *sysfs.PowerSupply) *int64 { return p.ConstantChargeCurrent }, 1e6},
	{"constant_charge_current_max", func(p *sysfs.PowerSupply) *int64 { return p.ConstantChargeCurrentMax }, 1e6},
	{"constant_charge_voltage", func(p *sysfs.PowerSupply) *int64 { return p.ConstantChargeVoltage }, 1e6},
	{"constant_charge_voltage_max", func(p *sysfs.PowerSupply) *int64 { return p.ConstantChargeVoltageMax }, 1e6},
	{"precharge_current", func(p *sysfs.PowerSupply) *int64 { return p.PrechargeCurrent }, 1e6},
	{"input_current_limit", func(p *sysfs.PowerSupply) *int64 { return p.InputCurrentLimit }, 1e6},
	{"power_watt", func(p *sysfs.PowerSupply) *int64 { return p.PowerNow }, 1e6},

	{"temp_celsius", func(p *sysfs.PowerSupply) *int64 { return p.Temp }, 10},
	{"temp_alert_max_celsius", func(p *sysfs.PowerSupply) *int64 { return p.TempAlertMax }, 10},
	{"temp_alert_min_celsius", func(p *sysfs.PowerSupply) *int64 { return p.TempAlertMin }, 10},
	{"temp_ambient_celsius", func(p *sysfs.PowerSupply) *int64 { return p.TempAmbient }, 10},
	{"temp_ambient_max_celsius", func(p *sysfs.PowerSupply) *int64 { return p.TempAmbientMax }, 10},
	{"temp_ambient_min_celsius", func(p *sysfs.PowerSupply) *int64 { return p.TempAmbientMin }, 10},
	{"temp_max_celsius", func(p *sysfs.PowerSupply) *int64 { return p.TempMax }, 10},
	{"temp_min_celsius", func(p *sysfs.PowerSupply) *int64 { return p.TempMin }, 10},
}

// powerSupplyInfoLabel is one label of node_power_supply_info and the
// file it comes from.
type powerSupplyInfoLabel struct {
	label string
	value func(*sysfs.PowerSupply) string
}

// powerSupplyInfoLabels are sorted by label name.
var powerSupplyInfoLabels = []powerSupplyInfoLabel{
	{"capacity_level", func(p *sysfs.PowerSupply) string { return p.CapacityLevel }},
	{"charge_type", func(p *sysfs.PowerSupply) string { return p.ChargeType }},
	{"health", func(p *sysfs.PowerSupply) string { return p.Health }},
	{"manufacturer", func(p *sysfs.PowerSupply) string { return p.Manufacturer }},
	{"model_name", func(p *sysfs.PowerSupply) string { return p.ModelName }},
	{"power_supply", func(p *sysfs.PowerSupply) string { return p.Name }},
	{"scope", func(p *sysfs.PowerSupply) string { return p.Scope }},
	{"serial_number", func(p *sysfs.PowerSupply) string { return p.SerialNumber }},
	{"status", func(p *sysfs.PowerSupply) string { return p.Status }},
	{"technology", func(p *sysfs.PowerSupply) string { return p.Technology }},
	{"type", func(p *sysfs.PowerSupply) string { return p.Type }},
	{"usb_type", func(p *sysfs.PowerSupply) string { return p.UsbType }},
}

// powerSupplyClassCollector reports /sys/class/power_supply.
type powerSupplyClassCollector struct {
	fs      sysfs.FS
	ignored *regexp.Regexp
	values  []typedDesc // parallel to powerSupplyValues
}

func newPowerSupplyClassCollector(cfg Config) (Collector, error) {
	fs, err := sysfs.NewFS(cfg.SysPath)
	if err != nil {
		return nil, fmt.Errorf("open sysfs: %w", err)
	}
	c := &powerSupplyClassCollector{fs: fs}
	// An empty pattern would match every supply; it means "ignore none",
	// as node_exporter's default "^$" does.
	if pattern := cfg.PowerSupply.IgnoredSupplies; pattern != "" {
		if c.ignored, err = regexp.Compile(pattern); err != nil {
			return nil, fmt.Errorf("power supply ignore pattern %q: %w", pattern, err)
		}
	}
	for _, v := range powerSupplyValues {
		c.values = append(c.values, typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "power_supply", v.name),
			v.name+" value of /sys/class/power_supply/<power_supply>.",
			[]string{"power_supply"}, nil), prometheus.GaugeValue})
	}
	return c, nil
}

func (c *powerSupplyClassCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	supplies, err := c.fs.PowerSupplyClass()
	if errors.Is(err, os.ErrNotExist) {
		return ErrNoData
	}
	if err != nil {
		return fmt.Errorf("read /sys/class/power_supply: %w", err)
	}
	names := make([]string, 0, len(supplies))
	for name := range supplies {
		if c.ignored == nil || !c.ignored.MatchString(name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return ErrNoData
	}
	sort.Strings(names)
	for _, name := range names {
		ps := supplies[name]
		for i, v := range powerSupplyValues {
			if n := v.field(&ps); n != nil {
				ch <- c.values[i].mustNewConstMetric(float64(*n)/v.divisor, ps.Name)
			}
		}
		ch <- powerSupplyInfo(&ps)
	}
	return nil
}

// powerSupplyInfo builds node_power_supply_info from the text files the
// supply offers; its label names differ from one supply to the next.
func powerSupplyInfo(ps *sysfs.PowerSupply) prometheus.Metric {
	var labels, values []string
	for _, l := range powerSupplyInfoLabels {
		if v := l.value(ps); v != "" {
			labels = append(labels, l.label)
			values = append(values, strings.ToValidUTF8(v, "\uFFFD"))
		}
	}
	desc := prometheus.NewDesc(prometheus.BuildFQName(Namespace, "power_supply", "info"),
		"info of /sys/class/power_supply/<power_supply>.", labels, nil)
	return mustNewConstMetric(desc, prometheus.GaugeValue, 1, values...)
}
