package collector

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestOS reads the fixture's /etc/os-release, which is a relative link
// to /usr/lib/os-release as on Fedora, Debian and Ubuntu.
func TestOS(t *testing.T) {
	compareGolden(t, build(t, "os", fixtureConfig()), "testdata/os.prom")
}

const ubuntuOSRelease = `PRETTY_NAME="Ubuntu 24.04.1 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION="24.04.1 LTS (Noble Numbat)"
VERSION_CODENAME=noble
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
SUPPORT_URL="https://help.ubuntu.com/"
BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"
PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"
UBUNTU_CODENAME=noble
LOGO=ubuntu-logo
`

const ubuntuOSMetrics = `# HELP node_os_info A metric with a constant '1' value labeled by build_id, id, id_like, image_id, image_version, name, pretty_name, variant, variant_id, version, version_codename, version_id.
# TYPE node_os_info gauge
node_os_info{build_id="",id="ubuntu",id_like="debian",image_id="",image_version="",name="Ubuntu",pretty_name="Ubuntu 24.04.1 LTS",variant="",variant_id="",version="24.04.1 LTS (Noble Numbat)",version_codename="noble",version_id="24.04"} 1
# HELP node_os_version Metric containing the major.minor part of the OS version.
# TYPE node_os_version gauge
node_os_version{id="ubuntu",id_like="debian",name="Ubuntu"} 24.04
`

// TestOSUsrLib checks the fallback to /usr/lib/os-release when /etc has none.
func TestOSUsrLib(t *testing.T) {
	cfg := fixtureConfig()
	cfg.RootfsPath = t.TempDir()
	writeFixtureFiles(t, cfg.RootfsPath, map[string]string{"usr/lib/os-release": ubuntuOSRelease})
	c := adapter{t: t, c: build(t, "os", cfg)}
	if err := testutil.CollectAndCompare(c, strings.NewReader(ubuntuOSMetrics)); err != nil {
		t.Error(err)
	}
}

// TestOSRereads checks that an upgrade shows on the next scrape.
func TestOSRereads(t *testing.T) {
	cfg := fixtureConfig()
	cfg.RootfsPath = t.TempDir()
	writeFixtureFiles(t, cfg.RootfsPath, map[string]string{"etc/os-release": strings.ReplaceAll(ubuntuOSRelease, "24.04", "22.04")})
	c := adapter{t: t, c: build(t, "os", cfg)}
	before := strings.ReplaceAll(ubuntuOSMetrics, "24.04", "22.04")
	if err := testutil.CollectAndCompare(c, strings.NewReader(before)); err != nil {
		t.Fatalf("before the upgrade: %v", err)
	}
	writeFixtureFiles(t, cfg.RootfsPath, map[string]string{"etc/os-release": ubuntuOSRelease})
	if err := testutil.CollectAndCompare(c, strings.NewReader(ubuntuOSMetrics)); err != nil {
		t.Error(err)
	}
}

func TestOSMissing(t *testing.T) {
	cfg := fixtureConfig()
	cfg.RootfsPath = t.TempDir()
	if _, err := drainCollector(build(t, "os", cfg)); !errors.Is(err, ErrNoData) {
		t.Fatalf("Update returned %v, want ErrNoData", err)
	}
}

// TestOSMalformed checks that a broken /etc/os-release fails the scrape
// rather than falling back to /usr/lib/os-release, as in node_exporter.
func TestOSMalformed(t *testing.T) {
	for name, content := range map[string]string{
		"unmatched quote":  "NAME=\"Ubuntu\nID=ubuntu\n",
		"no separator":     "NAME Ubuntu\n",
		"bad support end":  "NAME=Fedora\nSUPPORT_END=13 May 2025\n",
		"bad variable":     "1NAME=Ubuntu\n",
		"dangling escape":  "NAME=Ubuntu\\\n",
		"unmatched single": "NAME='Ubuntu\n",
	} {
		t.Run(name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.RootfsPath = t.TempDir()
			writeFixtureFiles(t, cfg.RootfsPath, map[string]string{
				"etc/os-release":     content,
				"usr/lib/os-release": ubuntuOSRelease,
			})
			metrics, err := drainCollector(build(t, "os", cfg))
			if err == nil || errors.Is(err, ErrNoData) {
				t.Fatalf("Update returned %v, want a parse error", err)
			}
			if len(metrics) != 0 {
				t.Errorf("sent %d metrics along with the error", len(metrics))
			}
		})
	}
}

// TestOSNoVersion checks that node_os_version is left out when VERSION_ID
// has no number, as on rolling releases.
func TestOSNoVersion(t *testing.T) {
	cfg := fixtureConfig()
	cfg.RootfsPath = t.TempDir()
	writeFixtureFiles(t, cfg.RootfsPath, map[string]string{
		"etc/os-release": "NAME=\"Arch Linux\"\nPRETTY_NAME=\"Arch Linux\"\nID=arch\nBUILD_ID=rolling\nVERSION_ID=rolling\n",
	})
	metrics, err := drainCollector(build(t, "os", cfg))
	if err != nil {
		t.Fatal(err)
	}
	if len(metrics) != 1 || !strings.Contains(metrics[0].Desc().String(), "node_os_info") {
		t.Fatalf("sent %v, want node_os_info alone", metrics)
	}
}

func TestParseOSRelease(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string]string
	}{
		{"plain", "ID=debian\n", map[string]string{"ID": "debian"}},
		{"double quotes", `NAME="Debian GNU/Linux"`, map[string]string{"NAME": "Debian GNU/Linux"}},
		{"single quotes", `NAME='Debian "GNU"'`, map[string]string{"NAME": `Debian "GNU"`}},
		{"escapes", `NAME="a \"b\" \$c \\d \` + "`" + `e\x"`, map[string]string{"NAME": `a "b" $c \d ` + "`" + `e\x`}},
		{"unquoted escape", `NAME=a\ b`, map[string]string{"NAME": "a b"}},
		{"empty", "VERSION_CODENAME=\nVARIANT=\"\"", map[string]string{"VERSION_CODENAME": "", "VARIANT": ""}},
		{"comments and blanks", "# distro\n\n  ID=fedora  \n\t# more\n", map[string]string{"ID": "fedora"}},
		{"trailing comment", `ID=fedora # the distro`, map[string]string{"ID": "fedora"}},
		{"quoted trailing space", `ID="fedora " # the distro`, map[string]string{"ID": "fedora "}},
		{"comment as value", `ID=#none`, map[string]string{"ID": ""}},
		{"hash inside word", `HOME_URL=https://example.org/#top`, map[string]string{"HOME_URL": "https://example.org/#top"}},
		{"hash inside quotes", `NAME="a # b"`, map[string]string{"NAME": "a # b"}},
		{"export", `export ID=alpine`, map[string]string{"ID": "alpine"}},
		{"concatenation", `NAME="Red Hat"' Enterprise'`, map[string]string{"NAME": "Red Hat Enterprise"}},
		{"equals in value", `CPE_NAME="cpe:/o:x=y"`, map[string]string{"CPE_NAME": "cpe:/o:x=y"}},
		{"last wins", "ID=a\nID=b\n", map[string]string{"ID": "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseOSRelease(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("parseOSRelease(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestOSHost reads the host's os-release, which every supported system has.
func TestOSHost(t *testing.T) {
	if _, err := os.Stat(filepath.Join("/", osReleasePaths[0])); err != nil {
		if _, err := os.Stat(filepath.Join("/", osReleasePaths[1])); err != nil {
			t.Skip("no os-release on this host")
		}
	}
	metrics, err := drainCollector(build(t, "os", DefaultConfig()))
	if err != nil {
		t.Fatal(err)
	}
	if len(metrics) == 0 {
		t.Fatal("sent nothing")
	}
}
