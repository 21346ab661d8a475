package processmetrics

import (
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
)

// The families are client_golang's: names, help, types, and the values
// that do not move between two readings.
func TestSameAsClientGolang(t *testing.T) {
	gather := func(c prometheus.Collector) map[string]*dto.MetricFamily {
		t.Helper()
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(c)
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]*dto.MetricFamily{}
		for _, mf := range mfs {
			m[mf.GetName()] = mf
		}
		return m
	}
	ours, theirs := gather(New()), gather(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	names := func(m map[string]*dto.MetricFamily) []string {
		var out []string
		for name, mf := range m {
			out = append(out, name+" "+mf.GetHelp()+" "+mf.GetType().String())
		}
		slices.Sort(out)
		return out
	}
	if got, want := names(ours), names(theirs); !slices.Equal(got, want) || len(got) != 9 {
		t.Errorf("families\n got %q\nwant %q", got, want)
	}
	for _, name := range []string{"process_start_time_seconds", "process_max_fds", "process_virtual_memory_max_bytes"} {
		if got, want := ours[name].GetMetric()[0].GetGauge().GetValue(), theirs[name].GetMetric()[0].GetGauge().GetValue(); got != want {
			t.Errorf("%s = %v, client_golang's %v", name, got, want)
		}
	}
}
