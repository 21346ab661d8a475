package collector

import (
	"context"
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

func init() {
	register("entropy", true, newEntropyCollector)
}

// entropyCollector reports the kernel's entropy pool from
// /proc/sys/kernel/random.
type entropyCollector struct {
	fs                  procfs.FS
	available, poolSize typedDesc
}

func newEntropyCollector(cfg Config) (Collector, error) {
	fs, err := procfs.NewFS(cfg.ProcPath)
	if err != nil {
		return nil, fmt.Errorf("open procfs: %w", err)
	}
	gauge := func(name, help string) typedDesc {
		return typedDesc{prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, nil, nil), prometheus.GaugeValue}
	}
	return &entropyCollector{
		fs:        fs,
		available: gauge("entropy_available_bits", "Bits of available entropy."),
		poolSize:  gauge("entropy_pool_size_bits", "Bits of entropy pool."),
	}, nil
}

func (c *entropyCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	random, err := c.fs.KernelRandom()
	if err != nil {
		return fmt.Errorf("read /proc/sys/kernel/random: %w", err)
	}
	// procfs leaves out a file that does not exist; every kernel has both,
	// so a missing one is a failure, as in node_exporter.
	if random.EntropyAvaliable == nil {
		return errors.New("read /proc/sys/kernel/random: no entropy_avail")
	}
	if random.PoolSize == nil {
		return errors.New("read /proc/sys/kernel/random: no poolsize")
	}
	ch <- c.available.mustNewConstMetric(float64(*random.EntropyAvaliable))
	ch <- c.poolSize.mustNewConstMetric(float64(*random.PoolSize))
	return nil
}
