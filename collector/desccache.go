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
// (a /proc/vmstat field, a sockstat or netstat protocol and field) from
// one scrape to the next: the kernel prints the same names every time,
// and making their descriptors, help text and all, was much of such a
// collector's work. It is safe for concurrent scrapes.
type descCache struct {
	mu    sync.Mutex
	descs map[descKey]cachedDesc
	// max is descCacheMax when zero; tests lower it.
	max int
}

// descKey is a name read from a file, in two parts where the collector
// reads two (protocol and field): "A_B"+"c" and "A"+"B_c" run together
// the same and are different names.
type descKey struct{ group, name string }

// cachedDesc is a name's descriptor, nil for a name not sent, and the
// error a metric of it would have (a name that is not a valid metric
// name), checked once.
type cachedDesc struct {
	desc *prometheus.Desc
	err  error
}

// get returns the descriptor of group's name (group may be empty), made
// by newDesc (nil: not sent) the first time it is seen. err is not nil
// for a descriptor that no metric can carry.
func (c *descCache) get(group, name string, newDesc func() *prometheus.Desc) (*prometheus.Desc, error) {
	key := descKey{group, name}
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
	if len(group)+len(name) > descCacheMaxKey {
		return d.desc, d.err
	}
	limit := c.max
	if limit <= 0 {
		limit = descCacheMax
	}
	if c.descs == nil || len(c.descs) >= limit {
		c.descs = map[descKey]cachedDesc{}
	}
	// Copies: the names may be part of the file's text, which they would
	// keep.
	c.descs[descKey{strings.Clone(group), strings.Clone(name)}] = d
	return d.desc, d.err
}
