package collector

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"
)

func init() {
	register("uname", true, newUnameCollector)
}

type unameCollector struct {
	// uname is the uname(2) system call; tests replace it, as the kernel
	// gives no file to put a fixture in.
	uname func(*unix.Utsname) error
	info  typedDesc
}

func newUnameCollector(Config) (Collector, error) {
	return &unameCollector{
		uname: unix.Uname,
		info: typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "uname", "info"),
			"Labeled system information as provided by the uname system call.",
			[]string{"sysname", "release", "version", "machine", "nodename", "domainname"}, nil,
		), prometheus.GaugeValue},
	}, nil
}

func (c *unameCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	var u unix.Utsname
	if err := c.uname(&u); err != nil {
		return fmt.Errorf("uname: %w", err)
	}
	ch <- c.info.mustNewConstMetric(1,
		unix.ByteSliceToString(u.Sysname[:]),
		unix.ByteSliceToString(u.Release[:]),
		unix.ByteSliceToString(u.Version[:]),
		unix.ByteSliceToString(u.Machine[:]),
		unix.ByteSliceToString(u.Nodename[:]),
		unix.ByteSliceToString(u.Domainname[:]),
	)
	return nil
}
