package collector

import (
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// descCacheMax bounds a descCache, which only a procfs tree whose names
// keep changing could fill: it is then emptied.
const descCacheMax = 10_000

// descCacheMaxKey is the longest key kept, far longer than any name the
// kernel prints: with descCacheMax, it bounds the cache's memory whatever
// a file holds. A longer name's descriptor is made each time.
const descCacheMaxKey = 128

// descCache keeps the descriptors a collector makes from names it reads
// (a /proc/vmstat field, a sockstat protocol) from one scrape to the
// next: the kernel prints the same names every time, and making their
// descriptors, help text and all, was much of such a collector's work.
// It is safe for concurrent scrapes.
type descCache struct {
	mu    sync.Mutex
	descs map[string]cachedDesc
}

// cachedDesc is a name's descriptor, nil for a name not sent, and the
// error a metric of it would have (a name that is not a valid metric
// name), checked once.
type cachedDesc struct {
	desc *prometheus.Desc
	err  error
}

// get returns key's descriptor, made by newDesc (nil: not sent) the first
// time key is seen. err is not nil for a descriptor that no metric can
// carry.
func (c *descCache) get(key string, newDesc func() *prometheus.Desc) (*prometheus.Desc, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d, ok := c.descs[key]; ok {
		return d.desc, d.err
	}
	var d cachedDesc
	if d.desc = newDesc(); d.desc != nil {
		// NewConstMetric returns the error NewDesc recorded, which the
		// descriptor does not expose.
		_, d.err = prometheus.NewConstMetric(d.desc, prometheus.UntypedValue, 0)
	}
	if len(key) > descCacheMaxKey {
		return d.desc, d.err
	}
	if c.descs == nil || len(c.descs) >= descCacheMax {
		c.descs = map[string]cachedDesc{}
	}
	// A copy: key may be part of the file's text, which it would keep.
	c.descs[strings.Clone(key)] = d
	return d.desc, d.err
}
