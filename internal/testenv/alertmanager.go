package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warden-exporter/warden/webconf/webconftest"
	"golang.org/x/crypto/bcrypt"
)

// Alertmanager is Debian's prometheus-alertmanager serving TLS and basic
// auth (and, with mTLS, requiring a client certificate) on loopback.
type Alertmanager struct {
	Addr string
	URL  string
	// Dir holds the PKI: ca.crt, client.crt, client.key, and the password
	// file of user "warden".
	Dir          string
	PasswordFile string
	Proc         *Process
	args         []string
	t            testing.TB
	// api is Alerts' own client, with the CA, the client certificate and
	// password of this Alertmanager.
	api      *http.Client
	password string
}

// AlertmanagerUser is the basic-auth user of every test Alertmanager.
const AlertmanagerUser = "warden"

// StartAlertmanager starts an Alertmanager with its own web config. With
// mtls, it also requires a client certificate signed by Dir/ca.crt.
func StartAlertmanager(t testing.TB, mtls bool) *Alertmanager {
	t.Helper()
	bin := Need(t, "prometheus-alertmanager")
	dir := t.TempDir()
	k := webconftest.NewPKI(t, dir) // ca.crt, server.crt/key, client.crt/key
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	path := k.Path
	password := "am-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	must(os.WriteFile(path("password"), []byte(password+"\n"), 0o600))
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	must(err)
	web := fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\n", path("server.crt"), path("server.key"))
	if mtls {
		web += fmt.Sprintf("  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: %s\n", path("ca.crt"))
	}
	web += fmt.Sprintf("basic_auth_users:\n  %s: %q\n", AlertmanagerUser, hash)
	must(os.WriteFile(path("web.yml"), []byte(web), 0o600))
	must(os.WriteFile(path("alertmanager.yml"), []byte("route:\n  receiver: blackhole\n  group_wait: 1h\nreceivers:\n  - name: blackhole\n"), 0o600))

	api := &http.Client{Transport: &http.Transport{
		TLSClientConfig: k.ClientTLS(k.Client),
		// A fresh connection per call: none is left open to an
		// Alertmanager that Stop has ended, or after the test.
		DisableKeepAlives: true,
	}}
	addr := FreeAddr(t)
	am := &Alertmanager{Addr: addr, URL: "https://" + addr, Dir: dir, PasswordFile: path("password"), t: t, api: api, password: password}
	am.args = []string{bin, "--config.file=" + path("alertmanager.yml"), "--storage.path=" + path("data"),
		"--web.listen-address=" + addr, "--web.config.file=" + path("web.yml"), "--cluster.listen-address="}
	am.Start()
	return am
}

// Start (re)starts the Alertmanager and waits until it answers.
func (am *Alertmanager) Start() {
	am.t.Helper()
	am.Proc = Start(am.t, am.args[0], am.args[1:]...)
	WaitListening(am.t, am.Addr, am.Proc)
}

// Stop stops it; Start brings it back with the same data.
func (am *Alertmanager) Stop() { am.Proc.Stop() }

// HTTPConfig returns a prometheus/common HTTP client config file (amtool's
// --http.config.file format) with the CA, the client certificate and the
// basic-auth password file; what is left out is given by omit: "cert",
// "password" or "ca".
func (am *Alertmanager) HTTPConfig(omit ...string) string {
	am.t.Helper()
	has := func(s string) bool { return !slices.Contains(omit, s) }
	var b strings.Builder
	b.WriteString("tls_config:\n")
	if has("ca") {
		fmt.Fprintf(&b, "  ca_file: %s\n", filepath.Join(am.Dir, "ca.crt"))
	}
	if has("cert") {
		fmt.Fprintf(&b, "  cert_file: %s\n  key_file: %s\n", filepath.Join(am.Dir, "client.crt"), filepath.Join(am.Dir, "client.key"))
	}
	if has("password") {
		fmt.Fprintf(&b, "basic_auth:\n  username: %s\n  password_file: %s\n", AlertmanagerUser, am.PasswordFile)
	}
	f := filepath.Join(am.t.TempDir(), "http.yml")
	if err := os.WriteFile(f, []byte(b.String()), 0o600); err != nil {
		am.t.Fatal(err)
	}
	return f
}

// AMAlert is an alert as Alertmanager's API lists it.
type AMAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

// Alerts lists what Alertmanager holds, asked directly over its API with
// its own credentials (not through Warden's client). Like every call to a
// server's API, it gives up after requestTimeout.
func (am *Alertmanager) Alerts(query string) ([]AMAlert, error) {
	// No context parameter: the tests in examples/ call Alerts(query), and
	// fetch bounds the call in time on its own.
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, am.URL+"/api/v2/alerts?"+query, nil)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(AlertmanagerUser, am.password)
	status, body, err := fetch(am.api, req)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("GET alerts: %d %s", status, body)
	}
	var out []AMAlert
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("decode alerts %s: %w", body, err)
	}
	return out, nil
}
