package collector

import (
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestNetstat(t *testing.T) {
	compareGolden(t, build(t, "netstat", fixtureConfig()), "testdata/netstat.prom")
}

// netstatFixture copies the netstat fixture files named into a new proc
// directory and returns a config reading it.
func netstatFixture(t *testing.T, names ...string) Config {
	t.Helper()
	cfg := fixtureConfig()
	cfg.ProcPath = t.TempDir()
	files := map[string]string{}
	for _, name := range names {
		b, err := os.ReadFile("../testdata/proc/net/" + name)
		if err != nil {
			t.Fatal(err)
		}
		files["net/"+name] = string(b)
	}
	writeFixtureFiles(t, cfg.ProcPath, files)
	return cfg
}

// A host without IPv6 has no /proc/net/snmp6; the other files still count.
// The fields regexp selects from every protocol, including IcmpMsg whose
// fields exist only once the kernel has seen such a message.
func TestNetstatFieldsWithoutSNMP6(t *testing.T) {
	cfg := netstatFixture(t, "netstat", "snmp")
	cfg.NetStat.Fields = `^(Tcp_MaxConn|IcmpMsg_InType3|MPTcpExt_WinProbe|Ip6_InOctets)$`
	want := `# HELP node_netstat_IcmpMsg_InType3 Statistic IcmpMsgInType3.
# TYPE node_netstat_IcmpMsg_InType3 untyped
node_netstat_IcmpMsg_InType3 1
# HELP node_netstat_MPTcpExt_WinProbe Statistic MPTcpExtWinProbe.
# TYPE node_netstat_MPTcpExt_WinProbe untyped
node_netstat_MPTcpExt_WinProbe 5618
# HELP node_netstat_Tcp_MaxConn Statistic TcpMaxConn.
# TYPE node_netstat_Tcp_MaxConn untyped
node_netstat_Tcp_MaxConn -1
`
	if err := testutil.CollectAndCompare(adapter{t: t, c: build(t, "netstat", cfg)}, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestNetstatBadFieldsRegexp(t *testing.T) {
	cfg := fixtureConfig()
	cfg.NetStat.Fields = "^(Tcp_"
	if _, err := factories["netstat"].build(cfg.withDefaults()); err == nil {
		t.Fatal("built with an invalid fields regexp")
	}
}

func TestNetstatMissingFile(t *testing.T) {
	for _, present := range [][]string{{"snmp", "snmp6"}, {"netstat", "snmp6"}} {
		t.Run("only "+strings.Join(present, ","), func(t *testing.T) {
			if _, err := drainCollector(build(t, "netstat", netstatFixture(t, present...))); err == nil {
				t.Fatal("Update succeeded")
			}
		})
	}
}

func TestNetstatMalformed(t *testing.T) {
	const (
		netstat = "TcpExt: SyncookiesSent SyncookiesRecv\nTcpExt: 0 3\n"
		snmp    = "Tcp: RtoAlgorithm MaxConn\nTcp: 1 -1\n"
		snmp6   = "Ip6InReceives                   \t1\n"
	)
	for _, tc := range []struct {
		name, file, content string
	}{
		{"fewer values than fields", "netstat", "TcpExt: SyncookiesSent SyncookiesRecv\nTcpExt: 0\n"},
		{"more values than fields", "snmp", "Tcp: RtoAlgorithm MaxConn\nTcp: 1 -1 7\n"},
		{"header without values", "snmp", snmp + "Udp: InDatagrams NoPorts\n"},
		{"values of another protocol", "snmp", "Tcp: RtoAlgorithm MaxConn\nUdp: 1 -1\n"},
		{"no protocol", "netstat", "SyncookiesSent SyncookiesRecv\n0 3\n"},
		// Every value must parse, also those of fields not reported.
		{"value not a number", "netstat", "TcpExt: SyncookiesSent TCPAOGood\nTcpExt: 0 many\n"},
		{"snmp6 value not a number", "snmp6", "Ip6InReceives                   \tmany\n"},
		{"name not UTF-8", "netstat", "Tcp\xffExt: Syncookies\nTcp\xffExt: 0\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.ProcPath = t.TempDir()
			cfg.NetStat.Fields = "^TcpExt_SyncookiesSent$|^Tcp.Ext_"
			files := map[string]string{"net/netstat": netstat, "net/snmp": snmp, "net/snmp6": snmp6}
			files["net/"+tc.file] = tc.content
			writeFixtureFiles(t, cfg.ProcPath, files)
			if _, err := drainCollector(build(t, "netstat", cfg)); err == nil {
				t.Fatalf("Update succeeded with %s %q", tc.file, tc.content)
			}
		})
	}
}

// The descriptors are built once per field and reused: later scrapes, a
// full cache that is emptied, and concurrent scrapes all give the same.
func TestNetstatDescCache(t *testing.T) {
	c := build(t, "netstat", fixtureConfig()).(*netstatCollector)
	compareGolden(t, c, "testdata/netstat.prom")
	fields := netstatCached(c)
	if fields < 100 {
		t.Fatalf("%d fields cached after a scrape of the fixture", fields)
	}
	compareGolden(t, c, "testdata/netstat.prom")
	if n := netstatCached(c); n != fields {
		t.Errorf("%d fields cached after a second scrape, %d after the first", n, fields)
	}

	small := build(t, "netstat", fixtureConfig()).(*netstatCollector)
	small.descs.max = 10
	compareGolden(t, small, "testdata/netstat.prom")
	if n := netstatCached(small); n > 10 {
		t.Errorf("%d fields cached, at most 10 wanted", n)
	}

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			metrics, err := drainCollector(c)
			if err != nil || len(metrics) == 0 {
				t.Errorf("concurrent Update: %d metrics, %v", len(metrics), err)
			}
		})
	}
	wg.Wait()
}

// netstatCached counts the fields in c's cache.
func netstatCached(c *netstatCollector) int {
	c.descs.mu.Lock()
	defer c.descs.mu.Unlock()
	return len(c.descs.descs)
}
