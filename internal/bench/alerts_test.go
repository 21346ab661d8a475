//go:build bench

package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/warden-exporter/warden/alertclient"
	"github.com/warden-exporter/warden/internal/testenv"
)

// alertCount is the number of alerts each way sends, as the issue asks.
const alertCount = 1000

// BenchmarkAlertSend sends 1,000 alerts to the same TLS + basic-auth
// Alertmanager with one `wardentool alert send --file` and with one
// `amtool alert add` process per alert (amtool v0.34.2), in the same run,
// and reports both times and their ratio. Each side's alerts are checked
// to have arrived.
func BenchmarkAlertSend(b *testing.B) {
	amtool := testenv.Amtool(b)
	for range b.N {
		am := testenv.StartAlertmanager(b, false)
		hc := am.HTTPConfig("cert")

		var alerts []alertclient.Alert
		for i := range alertCount {
			alerts = append(alerts, alertclient.Alert{
				Labels:      map[string]string{"alertname": "WardenBench", "i": fmt.Sprint(i)},
				Annotations: map[string]string{"summary": "benchmark"},
			})
		}
		data, err := json.Marshal(alerts)
		if err != nil {
			b.Fatal(err)
		}
		file := filepath.Join(b.TempDir(), "alerts.json")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			b.Fatal(err)
		}

		start := time.Now()
		code, stdout, stderr := testenv.Run(b, "", bins.Path("wardentool"), "alert", "send",
			"--alertmanager.url="+am.URL, "--http.config.file="+hc, "--file="+file)
		warden := time.Since(start)
		if code != 0 {
			b.Fatalf("wardentool: exit %d\n%s%s", code, stdout, stderr)
		}
		waitCount(b, am, "WardenBench", alertCount)

		start = time.Now()
		for i := range alertCount {
			code, stdout, stderr := testenv.Run(b, "", amtool, "alert", "add",
				"--alertmanager.url="+am.URL, "--http.config.file="+hc,
				"AmtoolBench", fmt.Sprintf("i=%d", i), "--annotation=summary=benchmark")
			if code != 0 {
				b.Fatalf("amtool alert %d: exit %d\n%s%s", i, code, stdout, stderr)
			}
		}
		amt := time.Since(start)
		waitCount(b, am, "AmtoolBench", alertCount)
		am.Stop()

		b.ReportMetric(warden.Seconds(), "warden-s")
		b.ReportMetric(amt.Seconds(), "amtool-s")
		b.ReportMetric(amt.Seconds()/warden.Seconds(), "amtool/warden")
		b.Logf("%d alerts: wardentool alert send --file %v, amtool alert add x%d %v: Warden %.0fx faster",
			alertCount, warden, alertCount, amt, amt.Seconds()/warden.Seconds())
	}
}

func waitCount(b *testing.B, am *testenv.Alertmanager, name string, n int) {
	b.Helper()
	testenv.Eventually(b, 60*time.Second, name+" alerts in Alertmanager", func() error {
		got, err := am.Alerts(`filter=alertname="` + name + `"`)
		if err != nil {
			return err
		}
		if len(got) != n {
			return fmt.Errorf("%d of %d", len(got), n)
		}
		return nil
	})
}
