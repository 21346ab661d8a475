package exposition

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"weak"

	"github.com/prometheus/client_golang/prometheus"
)

// descInfo is what the text format needs of a Desc: its name and help.
type descInfo struct {
	name, help string
}

// descCache remembers descInfo for each Desc still alive. A Desc keeps
// both unexported and shows them only in its String, so that is read once
// per Desc, not once per metric; entries go when their Desc is collected
// (collectors such as hwmon and textfile make descs on every scrape).
var descCache = struct {
	sync.Mutex
	m map[weak.Pointer[prometheus.Desc]]descInfo
}{m: map[weak.Pointer[prometheus.Desc]]descInfo{}}

func describe(d *prometheus.Desc) (descInfo, error) {
	key := weak.Make(d)
	descCache.Lock()
	info, ok := descCache.m[key]
	descCache.Unlock()
	if ok {
		return info, nil
	}
	info, err := parseDesc(d.String())
	if err != nil {
		return descInfo{}, err
	}
	descCache.Lock()
	if _, ok := descCache.m[key]; !ok {
		descCache.m[key] = info
		runtime.AddCleanup(d, func(key weak.Pointer[prometheus.Desc]) {
			descCache.Lock()
			delete(descCache.m, key)
			descCache.Unlock()
		}, key)
	}
	descCache.Unlock()
	return info, nil
}

// parseDesc reads the name and help from a Desc's String:
//
//	Desc{fqName: "name", help: "help", unit: ...}
func parseDesc(s string) (descInfo, error) {
	rest, ok := strings.CutPrefix(s, `Desc{fqName: `)
	name, rest, ok2 := cutQuoted(rest, ok)
	rest, ok3 := strings.CutPrefix(rest, `, help: `)
	help, _, ok4 := cutQuoted(rest, ok3)
	if !ok || !ok2 || !ok3 || !ok4 {
		return descInfo{}, fmt.Errorf("exposition: cannot read name and help from %s", s)
	}
	return descInfo{name: name, help: help}, nil
}

// cutQuoted unquotes the Go-quoted string at the start of s.
func cutQuoted(s string, ok bool) (value, rest string, _ bool) {
	if !ok {
		return "", "", false
	}
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", "", false
	}
	value, err = strconv.Unquote(q)
	return value, s[len(q):], err == nil
}
