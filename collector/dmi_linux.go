package collector

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs/sysfs"
)

func init() {
	register("dmi", true, newDMICollector)
}

// dmiField is one label of node_dmi_info and where procfs puts its file.
type dmiField struct {
	label string
	value func(*sysfs.DMIClass) *string
}

// dmiFields are the labels of node_dmi_info, sorted. chassis_type is read by
// procfs but not exposed by node_exporter.
var dmiFields = []dmiField{
	{"bios_date", func(d *sysfs.DMIClass) *string { return d.BiosDate }},
	{"bios_release", func(d *sysfs.DMIClass) *string { return d.BiosRelease }},
	{"bios_vendor", func(d *sysfs.DMIClass) *string { return d.BiosVendor }},
	{"bios_version", func(d *sysfs.DMIClass) *string { return d.BiosVersion }},
	{"board_asset_tag", func(d *sysfs.DMIClass) *string { return d.BoardAssetTag }},
	{"board_name", func(d *sysfs.DMIClass) *string { return d.BoardName }},
	{"board_serial", func(d *sysfs.DMIClass) *string { return d.BoardSerial }},
	{"board_vendor", func(d *sysfs.DMIClass) *string { return d.BoardVendor }},
	{"board_version", func(d *sysfs.DMIClass) *string { return d.BoardVersion }},
	{"chassis_asset_tag", func(d *sysfs.DMIClass) *string { return d.ChassisAssetTag }},
	{"chassis_serial", func(d *sysfs.DMIClass) *string { return d.ChassisSerial }},
	{"chassis_vendor", func(d *sysfs.DMIClass) *string { return d.ChassisVendor }},
	{"chassis_version", func(d *sysfs.DMIClass) *string { return d.ChassisVersion }},
	{"product_family", func(d *sysfs.DMIClass) *string { return d.ProductFamily }},
	{"product_name", func(d *sysfs.DMIClass) *string { return d.ProductName }},
	{"product_serial", func(d *sysfs.DMIClass) *string { return d.ProductSerial }},
	{"product_sku", func(d *sysfs.DMIClass) *string { return d.ProductSKU }},
	{"product_uuid", func(d *sysfs.DMIClass) *string { return d.ProductUUID }},
	{"product_version", func(d *sysfs.DMIClass) *string { return d.ProductVersion }},
	{"system_vendor", func(d *sysfs.DMIClass) *string { return d.SystemVendor }},
}

const dmiInfoHelp = "A metric with a constant '1' value labeled by bios_date, bios_release, bios_vendor, bios_version, " +
	"board_asset_tag, board_name, board_serial, board_vendor, board_version, chassis_asset_tag, " +
	"chassis_serial, chassis_vendor, chassis_version, product_family, product_name, product_serial, " +
	"product_sku, product_uuid, product_version, system_vendor if provided by DMI."

// dmiCollector reports /sys/class/dmi/id as node_dmi_info. node_exporter
// reads it once at start; Warden reads it on every scrape, which costs a
// few small sysfs reads and keeps a failure visible as a failed scrape
// rather than a failed start.
type dmiCollector struct {
	fs sysfs.FS
}

func newDMICollector(cfg Config) (Collector, error) {
	fs, err := sysfs.NewFS(cfg.SysPath)
	if err != nil {
		return nil, fmt.Errorf("open sysfs: %w", err)
	}
	return &dmiCollector{fs: fs}, nil
}

func (c *dmiCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	dmi, err := c.fs.DMIClass()
	if errors.Is(err, os.ErrNotExist) {
		// Platforms without DMI (most ARM boards, some hypervisors).
		return ErrNoData
	}
	if err != nil {
		return fmt.Errorf("read /sys/class/dmi/id: %w", err)
	}
	// Only the files the kernel offers (and the serials only to root) become
	// labels, so the label names vary from node to node.
	var labels, values []string
	for _, f := range dmiFields {
		if v := f.value(dmi); v != nil {
			labels = append(labels, f.label)
			values = append(values, strings.ToValidUTF8(*v, "\uFFFD"))
		}
	}
	if len(labels) == 0 {
		return ErrNoData
	}
	desc := prometheus.NewDesc(prometheus.BuildFQName(Namespace, "dmi", "info"), dmiInfoHelp, labels, nil)
	ch <- mustNewConstMetric(desc, prometheus.GaugeValue, 1, values...)
	return nil
}
