package collector

import (
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// textfileFixture builds the textfile collector over dirs, with every file
// dated 1s after the epoch so that the output does not depend on checkout.
func textfileFixture(t *testing.T, dirs ...string) *textfileCollector {
	t.Helper()
	cfg := fixtureConfig()
	cfg.Textfile.Directories = dirs
	c := build(t, "textfile", cfg).(*textfileCollector)
	c.modTime = func(fs.FileInfo) time.Time { return time.Unix(1, 0) }
	return c
}

// textfileAdapter describes nothing, which makes it an unchecked collector:
// text files may give one metric name different label names, which a
// checked collector could not describe. Warden's own registry sees the
// collectors the same way.
type textfileAdapter struct {
	t *testing.T
	c Collector
}

func (a textfileAdapter) Describe(chan<- *prometheus.Desc) {}

func (a textfileAdapter) Collect(ch chan<- prometheus.Metric) {
	if err := a.c.Update(a.t.Context(), ch); err != nil {
		a.t.Errorf("Update: %v", err)
	}
}

func TestTextfile(t *testing.T) {
	compareGolden(t, textfileFixture(t, "../testdata/textfile/two_files"), "testdata/textfile.prom")
}

func TestTextfileCases(t *testing.T) {
	tests := []struct {
		name   string
		dirs   []string
		golden string
	}{
		{"no directory", nil, "testdata/textfile_none.prom"},
		{"empty directory option", []string{""}, "testdata/textfile_none.prom"},
		{"directory without prom files", []string{t.TempDir()}, "testdata/textfile_none.prom"},
		{"missing directory", []string{"../testdata/textfile/missing"}, "testdata/textfile_missing.prom"},
		{"families without help merged", []string{"../testdata/textfile/merge_no_help"}, "testdata/textfile_merge_no_help.prom"},
		{"different help texts", []string{"../testdata/textfile/different_help"}, "testdata/textfile_different_help.prom"},
		{"duplicate series and type conflicts", []string{"../testdata/textfile/conflicts"}, "testdata/textfile_conflicts.prom"},
		{"unparsable files", []string{"../testdata/textfile/bad_files"}, "testdata/textfile_bad_files.prom"},
		{"glob", []string{"../testdata/textfile/glob_*"}, "testdata/textfile_glob.prom"},
		{"directory given twice", []string{"../testdata/textfile/glob_*", "../testdata/textfile/glob_a"}, "testdata/textfile_glob.prom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := os.ReadFile(tt.golden)
			if err != nil {
				t.Fatal(err)
			}
			c := textfileFixture(t, tt.dirs...)
			if err := testutil.CollectAndCompare(textfileAdapter{t, c}, strings.NewReader(string(want))); err != nil {
				t.Error(err)
			}
		})
	}
}

// A file that changes between scrapes is read again: nothing is cached.
func TestTextfileRereads(t *testing.T) {
	dir := t.TempDir()
	write := func(value string) {
		if err := os.WriteFile(dir+"/job.prom", []byte("# HELP job_ok Job state.\n# TYPE job_ok gauge\njob_ok "+value+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := textfileFixture(t, dir)
	for _, v := range []string{"0", "1"} {
		write(v)
		want := "# HELP job_ok Job state.\n# TYPE job_ok gauge\njob_ok " + v + "\n"
		if err := testutil.CollectAndCompare(textfileAdapter{t, c}, strings.NewReader(want), "job_ok"); err != nil {
			t.Error(err)
		}
	}
}

// Production reads the real mtime, truncated to whole seconds.
func TestTextfileMtime(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/job.prom"
	if err := os.WriteFile(path, []byte("job_ok 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := time.Unix(1_700_000_000, 900_000_000)
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	cfg := fixtureConfig()
	cfg.Textfile.Directories = []string{dir}
	c := build(t, "textfile", cfg)
	want := `# HELP node_textfile_mtime_seconds Unixtime mtime of textfiles successfully read.
# TYPE node_textfile_mtime_seconds gauge
node_textfile_mtime_seconds{file="` + path + `"} 1.7e+09
`
	if err := testutil.CollectAndCompare(textfileAdapter{t, c}, strings.NewReader(want), "node_textfile_mtime_seconds"); err != nil {
		t.Error(err)
	}
}

// A textfile over 64 MiB is skipped whole (node_textfile_scrape_error 1),
// counted as it is read, so that one growing while read is bounded too;
// the other files are served.
func TestTextfileOverTheLimitIsSkipped(t *testing.T) {
	dir := t.TempDir()
	writeFixtureFiles(t, dir, map[string]string{"good.prom": "good_metric 1\n"})
	line := []byte("# " + strings.Repeat("x", 1021) + "\n")
	big, err := os.Create(dir + "/big.prom")
	if err != nil {
		t.Fatal(err)
	}
	for range maxTextfileBytes/len(line) + 1 {
		if _, err := big.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	if err := big.Close(); err != nil {
		t.Fatal(err)
	}
	values, err := scrapeValues(textfileFixture(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if values["node_textfile_scrape_error"] != 1 || values["good_metric"] != 1 {
		t.Errorf("scrape_error %v, good_metric %v; want 1 and 1", values["node_textfile_scrape_error"], values["good_metric"])
	}
}
