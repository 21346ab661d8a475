package webconf

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// securityMetrics are the security layer's own metrics: refusals by
// reason, admitted requests by method, certificate expiry and reloads.
type securityMetrics struct {
	refused   *prometheus.CounterVec
	succeeded *prometheus.CounterVec
	reloadOK  prometheus.Gauge
	reloadAt  prometheus.Gauge
	expiry    *prometheus.Desc
	// state is the configuration in force, whose certificates expire.
	state *atomic.Pointer[state]
}

func newSecurityMetrics(st *atomic.Pointer[state]) *securityMetrics {
	m := &securityMetrics{
		state: st,
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warden_http_requests_refused_total",
			Help: "Requests refused by Warden's security layer, by reason.",
		}, []string{"reason"}),
		succeeded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warden_http_auth_success_total",
			Help: "Requests let in by Warden's security layer, by each method that authenticated them (basic, bearer, cert).",
		}, []string{"method"}),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "warden_config_last_reload_successful",
			Help: "Whether the last reload of the web config and auth file succeeded.",
		}),
		reloadAt: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "warden_config_last_reload_success_timestamp_seconds",
			Help: "Time of the last successful load of the web config and auth file.",
		}),
		expiry: prometheus.NewDesc("warden_tls_certificate_expiry_timestamp_seconds",
			"Time after which a certificate of the web config (serving certificate, client CA) is no longer valid.",
			[]string{"file", "subject"}, nil),
	}
	for _, r := range Reasons() {
		m.refused.WithLabelValues(string(r))
	}
	for _, mt := range []method{methodBasic, methodBearer, methodCert} {
		m.succeeded.WithLabelValues(string(mt))
	}
	return m
}

func (m *securityMetrics) loaded() {
	m.reloadOK.Set(1)
	m.reloadAt.SetToCurrentTime()
}

func (m *securityMetrics) reloadFailed() { m.reloadOK.Set(0) }

// Describe implements prometheus.Collector.
func (m *securityMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.refused.Describe(ch)
	m.succeeded.Describe(ch)
	m.reloadOK.Describe(ch)
	m.reloadAt.Describe(ch)
	ch <- m.expiry
}

// Collect implements prometheus.Collector.
func (m *securityMetrics) Collect(ch chan<- prometheus.Metric) {
	m.refused.Collect(ch)
	m.succeeded.Collect(ch)
	m.reloadOK.Collect(ch)
	m.reloadAt.Collect(ch)
	for _, c := range m.state.Load().certs {
		ch <- prometheus.MustNewConstMetric(m.expiry, prometheus.GaugeValue, float64(c.notAfter.Unix()), c.file, c.subject)
	}
}
