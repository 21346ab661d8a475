package helmcheck

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// chart is the chart under test; base is the values file the bad and
// planted fixtures are layered on.
var (
	chart = filepath.Join("..", "..", "helm", "warden")
	base  = filepath.Join(chart, "ci", "certmanager-basicauth-values.yaml")
)

// kubeVersion is what helm template renders for (helm built by go install
// assumes v1.20, below the chart's kubeVersion).
const kubeVersion = "1.33.0"

// newObject maps apiVersion/kind to the Go type the API server decodes it
// into. A kind the chart renders that is not here is an error.
var newObject = map[string]func() any{
	"v1/Secret":         func() any { return &corev1.Secret{} },
	"v1/Service":        func() any { return &corev1.Service{} },
	"v1/ServiceAccount": func() any { return &corev1.ServiceAccount{} },
	"apps/v1/DaemonSet": func() any { return &appsv1.DaemonSet{} },
	"monitoring.coreos.com/v1/ServiceMonitor": func() any { return &monitoringv1.ServiceMonitor{} },
}

func helm(t *testing.T) string {
	t.Helper()
	h := os.Getenv("WARDEN_HELM")
	if h == "" {
		h = filepath.Join("..", "..", "..", "bin", "tools", "helm")
	}
	if _, err := os.Stat(h); err != nil {
		t.Fatalf("no helm at %s (set WARDEN_HELM; `make helm-check` installs it): %v", h, err)
	}
	return h
}

// render runs helm template with the values files, in that order.
func render(t *testing.T, values ...string) (string, error) {
	t.Helper()
	args := []string{"template", "warden", chart, "--namespace", "monitoring", "--kube-version", kubeVersion}
	for _, v := range values {
		args = append(args, "-f", v)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(helm(t), args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("helm %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// decodeStrict decodes a YAML document into v as the API server does:
// duplicate keys, unknown fields and fields in the wrong case are errors
// (encoding/json alone would accept the last).
func decodeStrict(doc []byte, v any) error {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(js, v)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// rendered is what a chart renders, by kind; each kind at most once.
type rendered struct {
	secret   *corev1.Secret
	service  *corev1.Service
	ds       *appsv1.DaemonSet
	monitor  *monitoringv1.ServiceMonitor
	accounts int
}

// decodeAll decodes every document of a manifest strictly.
func decodeAll(manifest string) (rendered, error) {
	var r rendered
	reader := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(manifest)))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return r, nil
		}
		if err != nil {
			return r, err
		}
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			return r, err
		}
		if meta.Kind == "" {
			continue // a document of comments only
		}
		key := meta.APIVersion + "/" + meta.Kind
		mk, ok := newObject[key]
		if !ok {
			return r, fmt.Errorf("%s %s: a kind this test does not know", key, meta.Metadata.Name)
		}
		obj := mk()
		if err := decodeStrict(doc, obj); err != nil {
			return r, fmt.Errorf("%s %s: %w", key, meta.Metadata.Name, err)
		}
		switch o := obj.(type) {
		case *corev1.Secret:
			r.secret = o
		case *corev1.Service:
			r.service = o
		case *appsv1.DaemonSet:
			r.ds = o
		case *monitoringv1.ServiceMonitor:
			r.monitor = o
		case *corev1.ServiceAccount:
			r.accounts++
		}
	}
}

func ciValues(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(chart, "ci", "*-values.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no values files in %s/ci: %v", chart, err)
	}
	return files
}

// TestChartRendersStrictAndSecure renders each values combination and
// checks every object.
func TestChartRendersStrictAndSecure(t *testing.T) {
	for _, values := range ciValues(t) {
		t.Run(filepath.Base(values), func(t *testing.T) {
			manifest, err := render(t, values)
			if err != nil {
				t.Fatal(err)
			}
			r, err := decodeAll(manifest)
			if err != nil {
				t.Fatalf("strict decoding: %v", err)
			}
			if r.ds == nil || r.service == nil || r.accounts != 1 {
				t.Fatalf("want a DaemonSet, a Service and a ServiceAccount; got ds=%v service=%v accounts=%d", r.ds != nil, r.service != nil, r.accounts)
			}
			auth, p := checkWebConfig(r)
			report(t, "web config", p)
			report(t, "DaemonSet", checkDaemonSet(r.ds, auth))
			if r.monitor != nil {
				report(t, "ServiceMonitor", checkServiceMonitor(r))
			}
		})
	}
}

// With service.port changed, the Service sends to the port the exporter
// listens on: its targetPort stayed 9100, and the ServiceMonitor scraped a
// closed port.
func TestServiceFollowsThePort(t *testing.T) {
	manifest, err := render(t, base, filepath.Join("testdata", "other-port.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := decodeAll(manifest)
	if err != nil {
		t.Fatal(err)
	}
	c := r.ds.Spec.Template.Spec.Containers[0]
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != 9200 || !slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasSuffix(a, ":9200") }) {
		t.Fatalf("container ports %+v, args %v: want the exporter on 9200", c.Ports, c.Args)
	}
	if tp := r.service.Spec.Ports[0].TargetPort; tp.IntValue() != 9200 && tp.String() != c.Ports[0].Name {
		t.Errorf("Service targetPort %s, want 9200 or the container port's name %q", tp.String(), c.Ports[0].Name)
	}
}

// readinessProbe.tcp makes the probe a port check, for an existing web
// config Secret that requires client certificates: the kubelet has none,
// and the HTTPS probe never passed.
func TestReadinessProbeCanBeATCPCheck(t *testing.T) {
	manifest, err := render(t, filepath.Join(chart, "ci", "certmanager-nomonitor-existing-values.yaml"), filepath.Join("testdata", "tcp-probe.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := decodeAll(manifest)
	if err != nil {
		t.Fatal(err)
	}
	p := r.ds.Spec.Template.Spec.Containers[0].ReadinessProbe
	if p == nil || p.TCPSocket == nil || p.HTTPGet != nil {
		t.Errorf("readiness probe %+v, want a TCP check", p)
	}
}

// problems collects what a check found wrong, so that a test can also
// check that a check fails.
type problems []string

func (p *problems) add(format string, args ...any) problems {
	*p = append(*p, fmt.Sprintf(format, args...))
	return *p
}

func report(t *testing.T, what string, p problems) {
	t.Helper()
	for _, s := range p {
		t.Errorf("%s: %s", what, s)
	}
}

// webAuth is what the rendered web config and auth file say; known is
// false when they come from an existing Secret the chart does not render.
type webAuth struct {
	known             bool
	publicPaths       []string
	clientCert        string // client_auth_type
	users, tokens     bool
	clientCAFile      string
	certFile, keyFile string
}

func checkWebConfig(r rendered) (webAuth, problems) {
	var p problems
	if r.secret == nil {
		return webAuth{}, nil
	}
	// The files are Warden's own formats; only the fields the chart
	// writes are read here (webconf checks the rest when it loads them).
	var web struct {
		TLS struct {
			CertFile   string `json:"cert_file"`
			KeyFile    string `json:"key_file"`
			ClientCA   string `json:"client_ca_file"`
			ClientAuth string `json:"client_auth_type"`
			MinVersion string `json:"min_version"`
		} `json:"tls_server_config"`
		Users map[string]string `json:"basic_auth_users"`
	}
	var auth struct {
		Tokens      map[string]string `json:"bearer_tokens"`
		PublicPaths []string          `json:"public_paths"`
		Rules       []map[string]any  `json:"rules"`
	}
	if err := yaml.Unmarshal([]byte(r.secret.StringData["web-config.yml"]), &web); err != nil {
		return webAuth{}, p.add("web-config.yml: %v", err)
	}
	if err := yaml.Unmarshal([]byte(r.secret.StringData["auth.yml"]), &auth); err != nil {
		return webAuth{}, p.add("auth.yml: %v", err)
	}
	if web.TLS.CertFile == "" || web.TLS.KeyFile == "" {
		p.add("web config without TLS: %+v", web.TLS)
	}
	if web.TLS.ClientCA != "" && web.TLS.ClientAuth != "RequireAndVerifyClientCert" && len(auth.Rules) == 0 {
		p.add("a client CA with %s and no rules: a certificate alone would never be let in", web.TLS.ClientAuth)
	}
	if len(web.Users) == 0 && len(auth.Tokens) == 0 && web.TLS.ClientAuth != "RequireAndVerifyClientCert" {
		p.add("no authentication Warden accepts: no users, no tokens, client_auth_type %q", web.TLS.ClientAuth)
	}
	return webAuth{
		known: true, publicPaths: auth.PublicPaths, clientCert: web.TLS.ClientAuth,
		users: len(web.Users) > 0, tokens: len(auth.Tokens) > 0, clientCAFile: web.TLS.ClientCA,
		certFile: web.TLS.CertFile, keyFile: web.TLS.KeyFile,
	}, p
}

func checkDaemonSet(ds *appsv1.DaemonSet, auth webAuth) problems {
	var p problems
	pod := ds.Spec.Template.Spec
	if !pod.HostNetwork || !pod.HostPID {
		p.add("hostNetwork %v, hostPID %v: want both", pod.HostNetwork, pod.HostPID)
	}
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		p.add("pod securityContext does not run as a non-root user: %+v", psc)
	}
	if len(pod.Containers) != 1 {
		return p.add("%d containers, want 1 (no proxy sidecar)", len(pod.Containers))
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	switch {
	case sc == nil:
		return p.add("container has no securityContext")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		p.add("root file system not read-only")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		p.add("privilege escalation allowed")
	case sc.Privileged != nil && *sc.Privileged:
		p.add("privileged")
	case sc.RunAsUser != nil && *sc.RunAsUser == 0:
		p.add("container runs as root")
	case sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0:
		p.add("capabilities not all dropped: %+v", sc.Capabilities)
	}
	seccomp := sc.SeccompProfile
	if seccomp == nil && psc != nil {
		seccomp = psc.SeccompProfile
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		p.add("seccomp profile %+v, want RuntimeDefault", seccomp)
	}

	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m
	}
	host, ok := mounts["/host"]
	if !ok || !host.ReadOnly || volumes[host.Name].HostPath == nil || volumes[host.Name].HostPath.Path != "/" {
		p.add("the node's / is not mounted read-only at /host: %+v", host)
	}
	for _, want := range []string{"--path.rootfs=/host", "--web.config.file=/etc/warden/config/web-config.yml", "--web.auth.file=/etc/warden/config/auth.yml"} {
		if !slices.Contains(c.Args, want) {
			p.add("args lack %s: %v", want, c.Args)
		}
	}
	for path, want := range map[string]string{"/etc/warden/config": "secret", "/etc/warden/tls": "certificate"} {
		m, ok := mounts[path]
		if !ok || !m.ReadOnly {
			p.add("%s is not mounted read-only", path)
			continue
		}
		v := volumes[m.Name]
		switch {
		case v.Secret != nil:
			if v.Secret.DefaultMode == nil || *v.Secret.DefaultMode&0o004 != 0 {
				p.add("secret volume %s readable by others (Warden refuses it)", v.Name)
			}
		case want == "certificate" && v.CSI != nil:
			if v.CSI.Driver != "csi.cert-manager.io" || v.CSI.ReadOnly == nil || !*v.CSI.ReadOnly {
				p.add("certificate volume %+v: want csi.cert-manager.io, read-only", v.CSI)
			}
			a := v.CSI.VolumeAttributes
			for _, k := range []string{"csi.cert-manager.io/issuer-name", "csi.cert-manager.io/dns-names", "csi.cert-manager.io/fs-group"} {
				if a[k] == "" {
					p.add("csi volume lacks %s", k)
				}
			}
		default:
			p.add("%s: volume %s is neither a Secret nor a cert-manager CSI volume", path, v.Name)
		}
	}

	probe := c.ReadinessProbe
	switch {
	case probe == nil:
		p.add("no readiness probe")
	case probe.HTTPGet != nil:
		if probe.HTTPGet.Scheme != corev1.URISchemeHTTPS {
			p.add("readiness probe scheme %s, want HTTPS", probe.HTTPGet.Scheme)
		}
		if auth.known && !slices.Contains(auth.publicPaths, probe.HTTPGet.Path) {
			p.add("readiness probe path %s is not a public path of the auth file %v", probe.HTTPGet.Path, auth.publicPaths)
		}
		if auth.clientCert == "RequireAndVerifyClientCert" {
			p.add("an HTTPS readiness probe where client certificates are required: the kubelet has none")
		}
	case probe.TCPSocket != nil:
		if auth.clientCert != "RequireAndVerifyClientCert" {
			p.add("a TCP readiness probe although a public health path could be probed")
		}
	default:
		p.add("readiness probe %+v is neither HTTPS nor TCP", probe)
	}
	return p
}

func checkServiceMonitor(r rendered) problems {
	var p problems
	eps := r.monitor.Spec.Endpoints
	if len(eps) != 1 {
		return p.add("%d endpoints, want 1", len(eps))
	}
	ep := eps[0]
	if ep.Scheme == nil || *ep.Scheme != "https" {
		p.add("scheme %v, want https", ep.Scheme)
	}
	if ep.Port != r.service.Spec.Ports[0].Name {
		p.add("endpoint port %q is not the Service's %q", ep.Port, r.service.Spec.Ports[0].Name)
	}
	tc := ep.TLSConfig
	if tc == nil {
		return p.add("no tlsConfig")
	}
	if tc.InsecureSkipVerify != nil && *tc.InsecureSkipVerify {
		p.add("insecureSkipVerify")
	}
	if tc.CA.Secret == nil && tc.CA.ConfigMap == nil {
		p.add("no CA to verify the server certificate")
	}
	if tc.ServerName == nil || *tc.ServerName == "" {
		return p.add("no serverName: Prometheus would verify the pod IP, which is no SAN")
	}
	for _, v := range r.ds.Spec.Template.Spec.Volumes {
		if v.CSI != nil && !slices.Contains(strings.Split(v.CSI.VolumeAttributes["csi.cert-manager.io/dns-names"], ","), *tc.ServerName) {
			p.add("serverName %s is not a DNS SAN of the certificates (%s)", *tc.ServerName, v.CSI.VolumeAttributes["csi.cert-manager.io/dns-names"])
		}
	}
	cert := (tc.Cert.Secret != nil || tc.Cert.ConfigMap != nil) && tc.KeySecret != nil
	if !cert && ep.BasicAuth == nil && ep.Authorization == nil {
		p.add("Prometheus does not authenticate: no client certificate, basic auth or authorization")
	}
	return p
}

// TestChartRefusesInsecureValues renders each testdata/*.bad.yaml over the
// base values and wants helm to fail with the error on its first line.
func TestChartRefusesInsecureValues(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.bad.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(data), "\n")
			want, ok := strings.CutPrefix(first, "# want: ")
			if !ok {
				t.Fatalf("%s: the first line must be '# want: ERROR'", f)
			}
			if _, err := render(t, base, f); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("got %v, want an error containing %q", err, want)
			}
		})
	}
}

// TestStrictDecodingCatchesPlantedFields renders the chart with a field
// that helm passes through and the API server refuses, and wants the
// decoding above to refuse it too: so the tests above can fail.
func TestStrictDecodingCatchesPlantedFields(t *testing.T) {
	for file, want := range map[string]string{
		"unknown-field.plant.yaml": `unknown field "spec.template.spec.containers[0].volumeMounts[3].readOnlyy"`,
		"case-field.plant.yaml":    `unknown field "spec.template.spec.containers[0].volumeMounts[3].ReadOnly"`,
	} {
		t.Run(file, func(t *testing.T) {
			manifest, err := render(t, base, filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := decodeAll(manifest); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("decoding: %v, want an error containing %s", err, want)
			}
		})
	}
	// And the checks fail on objects that decode but break a promise.
	manifest, err := render(t, base)
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		breakIt func(r rendered)
		check   func(r rendered) problems
	}{
		"capabilities kept": {
			func(r rendered) { r.ds.Spec.Template.Spec.Containers[0].SecurityContext.Capabilities.Drop = nil },
			func(r rendered) problems { a, _ := checkWebConfig(r); return checkDaemonSet(r.ds, a) },
		},
		"writable root file system": {
			func(r rendered) {
				*r.ds.Spec.Template.Spec.Containers[0].SecurityContext.ReadOnlyRootFilesystem = false
			},
			func(r rendered) problems { a, _ := checkWebConfig(r); return checkDaemonSet(r.ds, a) },
		},
		"probe on a private path": {
			func(r rendered) { r.ds.Spec.Template.Spec.Containers[0].ReadinessProbe.HTTPGet.Path = "/metrics" },
			func(r rendered) problems { a, _ := checkWebConfig(r); return checkDaemonSet(r.ds, a) },
		},
		"insecureSkipVerify": {
			func(r rendered) { yes := true; r.monitor.Spec.Endpoints[0].TLSConfig.InsecureSkipVerify = &yes },
			checkServiceMonitor,
		},
		"no scrape credentials": {
			func(r rendered) { r.monitor.Spec.Endpoints[0].BasicAuth = nil },
			checkServiceMonitor,
		},
	} {
		t.Run(name, func(t *testing.T) {
			r, err := decodeAll(manifest)
			if err != nil {
				t.Fatal(err)
			}
			if p := tc.check(r); len(p) != 0 {
				t.Fatalf("the rendered chart already fails: %v", p)
			}
			tc.breakIt(r)
			if p := tc.check(r); len(p) == 0 {
				t.Error("the check passed")
			}
		})
	}
}
