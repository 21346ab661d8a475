package webconf_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/exporter-toolkit/web"

	"github.com/warden-exporter/warden/webconf"
	"github.com/warden-exporter/warden/webconf/webconftest"
)

// A response that cannot be written within the scrape's timeout is
// abandoned: the handler returns (freeing whatever slot it held) although
// the client keeps the stream open and never reads.
func TestStalledReaderIsAbandoned(t *testing.T) {
	path, p := fixtureDir(t, "mtls-basic.good.yml")
	var inFlight atomic.Int64
	big := bytes.Repeat([]byte("x"), 1<<20)
	addrs := []string{"127.0.0.1:0"}
	srv := start(t, webconf.Options{
		Flags: &webconf.Flags{FlagConfig: &web.FlagConfig{WebListenAddresses: &addrs, WebSystemdSocket: new(bool), WebConfigFile: &path}},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			inFlight.Add(1)
			defer inFlight.Add(-1)
			w.Write(big)
		}),
		Logger: slog.New(slog.DiscardHandler),
	})
	addr := srv.Addrs()[0].String()
	webconftest.StallHTTP2(t, addr, "127.0.0.2", p.ClientTLS(p.Client), 4, map[string]string{
		"Authorization":                       "Basic cHJvbWV0aGV1czpzZWNyZXQ=", // prometheus:secret
		"X-Prometheus-Scrape-Timeout-Seconds": "1",
	})
	waitFor(t, func() bool { return inFlight.Load() == 4 })
	start := time.Now()
	waitFor(t, func() bool { return inFlight.Load() == 0 })
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("stalled handlers returned after %v, want about the 1 s scrape timeout", d)
	}
}
