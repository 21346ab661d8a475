package alertclient

import "github.com/prometheus/client_golang/prometheus"

// metrics are the client's counters, for programs that embed it.
type metrics struct {
	sent, failed, spooled prometheus.Counter
	retries, dropped      *prometheus.CounterVec
	latency               *prometheus.HistogramVec
	spoolAlerts           *prometheus.Desc
	spoolBytes            *prometheus.Desc
	spoolCorrupt          *prometheus.Desc
	spoolRefused          *prometheus.Desc
	keptAlerts            *prometheus.Desc
	queued                *prometheus.Desc
	spool                 *Spool
	// loop returns the alert loop's dispatcher, or nil when it does not
	// run.
	loop func() *dispatcher
}

func newMetrics() *metrics {
	const ns, sub = "warden", "alertclient"
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help})
	}
	return &metrics{
		sent:    counter("alerts_sent_total", "Alerts accepted by at least one Alertmanager."),
		failed:  counter("alerts_failed_total", "Alerts neither delivered nor spooled."),
		spooled: counter("alerts_spooled_total", "Alerts written to the spool because no Alertmanager accepted them."),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "retries_total",
			Help: "Requests to an Alertmanager repeated after a failure that may pass."}, []string{"alertmanager"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "queue_dropped_alerts_total",
			Help: "Alerts dropped from an Alertmanager's queue in the alert loop, full because that Alertmanager fell behind (the others may have accepted them)."}, []string{"alertmanager"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "request_duration_seconds",
			Help: "Duration of requests to each Alertmanager.", Buckets: prometheus.DefBuckets}, []string{"alertmanager"}),
		spoolAlerts: prometheus.NewDesc(prometheus.BuildFQName(ns, sub, "spool_alerts"), "Alerts waiting in the spool.", nil, nil),
		spoolBytes:  prometheus.NewDesc(prometheus.BuildFQName(ns, sub, "spool_bytes"), "Size of the spool's batch files.", nil, nil),
		spoolCorrupt: prometheus.NewDesc(prometheus.BuildFQName(ns, sub, "spool_corrupt_files"),
			"Spool files found torn or corrupt, kept aside as *.corrupt for the operator.", nil, nil),
		spoolRefused: prometheus.NewDesc(prometheus.BuildFQName(ns, sub, "spool_refused_files"),
			"Spooled batches every Alertmanager refused for what they hold (400, 413, 422), kept aside as *.refused for the operator.", nil, nil),
		keptAlerts: prometheus.NewDesc(prometheus.BuildFQName(ns, sub, "kept_alerts"),
			"Firing alerts kept in the spool, re-sent every resend_interval until resolved or expired.", nil, nil),
		queued: prometheus.NewDesc(prometheus.BuildFQName(ns, sub, "queue_batches"),
			"Batches waiting in each Alertmanager's queue of the alert loop.", []string{"alertmanager"}, nil),
	}
}

func (m *metrics) describe(ch chan<- *prometheus.Desc) {
	for _, c := range []prometheus.Collector{m.sent, m.failed, m.spooled, m.retries, m.dropped, m.latency} {
		c.Describe(ch)
	}
	ch <- m.queued
	ch <- m.spoolAlerts
	ch <- m.spoolBytes
	ch <- m.spoolCorrupt
	ch <- m.spoolRefused
	ch <- m.keptAlerts
}

func (m *metrics) collect(ch chan<- prometheus.Metric) {
	for _, c := range []prometheus.Collector{m.sent, m.failed, m.spooled, m.retries, m.dropped, m.latency} {
		c.Collect(ch)
	}
	if d := m.loop(); d != nil {
		for url, n := range d.queued() {
			ch <- prometheus.MustNewConstMetric(m.queued, prometheus.GaugeValue, float64(n), url)
		}
	}
	if m.spool == nil {
		return
	}
	st, err := m.spool.Stats()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(m.spoolAlerts, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(m.spoolAlerts, prometheus.GaugeValue, float64(st.Alerts))
	ch <- prometheus.MustNewConstMetric(m.spoolBytes, prometheus.GaugeValue, float64(st.Bytes))
	ch <- prometheus.MustNewConstMetric(m.spoolCorrupt, prometheus.GaugeValue, float64(st.Corrupt))
	ch <- prometheus.MustNewConstMetric(m.spoolRefused, prometheus.GaugeValue, float64(st.Refused))
	kept, err := keptCount(m.spool.dir)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(m.keptAlerts, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(m.keptAlerts, prometheus.GaugeValue, float64(kept))
}
