package collector

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
)

func TestDescCache(t *testing.T) {
	var c descCache
	made := 0
	newDesc := func(name string) func() *prometheus.Desc {
		return func() *prometheus.Desc {
			made++
			return prometheus.NewDesc(name, "Help.", nil, nil)
		}
	}

	// A name read from a file: the cache keeps a copy, not the file.
	file := "pgfault 12\nnode_vmstat_pgfault 1\n"
	key := file[len("pgfault 12\n"):][:len("node_vmstat_pgfault")]
	for range 3 {
		if d, err := c.get("", key, newDesc(key)); d == nil || err != nil {
			t.Fatalf("get(%q) = %v, %v", key, d, err)
		}
	}
	if made != 1 {
		t.Errorf("descriptor made %d times for one name, want once", made)
	}
	for k := range c.descs {
		if unsafe.StringData(k.name) == unsafe.StringData(key) {
			t.Error("the cache keeps the caller's string, and with it the file it is part of")
		}
	}

	// Two parts that run together the same are two names.
	if a, _ := c.get("A_B", "c", newDesc("a")); a == nil {
		t.Fatal("no descriptor")
	} else if b, _ := c.get("A", "B_c", newDesc("b")); a == b {
		t.Error(`"A_B"+"c" and "A"+"B_c" share a descriptor`)
	}

	// A name no metric can carry: the error each time, checked once.
	made = 0
	for range 2 {
		if _, err := c.get("", "bad\xff", newDesc("bad\xff")); err == nil {
			t.Error("no error for a name that is not UTF-8")
		}
	}
	if made != 1 {
		t.Errorf("descriptor made %d times for one bad name, want once", made)
	}

	// A name longer than any the kernel prints is not kept.
	made = 0
	long := strings.Repeat("a", descCacheMaxKey+1)
	for range 2 {
		if _, err := c.get("", long, newDesc(long)); err != nil {
			t.Fatal(err)
		}
	}
	if made != 2 || len(c.descs) != 4 {
		t.Errorf("long name: made %d times, %d names kept; want 2 and 4", made, len(c.descs))
	}
}
