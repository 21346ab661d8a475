package setup

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// wantModes are the files Init writes and their modes.
var wantModes = map[string]os.FileMode{
	CACert: 0o644, ServerCert: 0o644, ServerKey: 0o600, ClientCert: 0o644, ClientKey: 0o600,
	PasswordFile: 0o600, Netrc: 0o600, WebConfig: 0o640, PrometheusJob: 0o644,
}

func initDir(t *testing.T, opts Options) *Result {
	t.Helper()
	opts.BcryptCost = 4 // bcrypt.MinCost: these tests are not about the hash
	res, err := Init(opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// checkFiles requires exactly Init's files in dir, each a regular file
// (not a symlink) with its intended mode, and no temporary file left.
func checkFiles(t *testing.T, dir string, also ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	var want []string
	for name := range wantModes {
		want = append(want, name)
	}
	want = append(want, also...)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("files in %s: %v, want %v", dir, got, want)
	}
	for name, mode := range wantModes {
		fi, err := os.Lstat(filepath.Join(dir, name))
		if err != nil {
			t.Error(err)
			continue
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v, want a regular file with mode %04o", name, fi.Mode(), mode)
		}
	}
}

func TestInitForceRestoresModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "conf")
	initDir(t, Options{Dir: dir, Hosts: []string{"localhost"}})
	for _, name := range []string{ServerKey, ClientKey, PasswordFile, Netrc} {
		if err := os.Chmod(filepath.Join(dir, name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	initDir(t, Options{Dir: dir, Hosts: []string{"localhost"}, Force: true})
	checkFiles(t, dir)
}

func TestInitForceReplacesSymlinks(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "conf")
	initDir(t, Options{Dir: dir, Hosts: []string{"localhost"}})
	outside := filepath.Join(root, "outside")
	if err := os.Mkdir(outside, 0o700); err != nil {
		t.Fatal(err)
	}
	// A symlink to an existing file, and one to a file that does not
	// exist yet (following it would create the file).
	planted := map[string]string{
		ServerKey:    filepath.Join(outside, "existing"),
		PasswordFile: filepath.Join(outside, "existing"),
		ClientKey:    filepath.Join(outside, "created-if-followed"),
		WebConfig:    filepath.Join(outside, "created-if-followed"),
	}
	if err := os.WriteFile(filepath.Join(outside, "existing"), []byte("untouched\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, target := range planted {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	initDir(t, Options{Dir: dir, Hosts: []string{"localhost"}, Force: true})
	checkFiles(t, dir)
	if b, err := os.ReadFile(filepath.Join(outside, "existing")); err != nil || string(b) != "untouched\n" {
		t.Errorf("a symlink's target was written: %q, %v", b, err)
	}
	if _, err := os.Lstat(filepath.Join(outside, "created-if-followed")); err == nil {
		t.Error("a symlink was followed: its target was created")
	}
}

func TestInitRefusesDirOthersCanWrite(t *testing.T) {
	for _, mode := range []os.FileMode{0o777, 0o770, 0o1777, 0o702} {
		t.Run(fmt.Sprintf("%04o", mode), func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Chmod(dir, mode); err != nil {
				t.Fatal(err)
			}
			_, err := Init(Options{Dir: dir, Hosts: []string{"localhost"}, BcryptCost: 4})
			if err == nil || !strings.Contains(err.Error(), "writable by group or others") {
				t.Fatalf("err %v, want a refusal", err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("wrote %d files into a refused directory", len(entries))
			}
		})
	}
	// Group and others may read and enter: only writing is refused.
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	initDir(t, Options{Dir: dir, Hosts: []string{"localhost"}})
}

func TestInitNetrc(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "conf")
	initDir(t, Options{Dir: dir, Hosts: []string{"node1.example", "10.0.0.7"}, Target: "10.0.0.7:9101"})
	password, err := os.ReadFile(filepath.Join(dir, PasswordFile))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, Netrc))
	if err != nil {
		t.Fatal(err)
	}
	pw := strings.TrimSpace(string(password))
	want := "machine 10.0.0.7 login prometheus password " + pw + "\n" +
		"machine node1.example login prometheus password " + pw + "\n"
	if string(b) != want {
		t.Errorf("netrc:\n%s\nwant:\n%s", b, want)
	}
}

func TestListenAddress(t *testing.T) {
	for target, want := range map[string]string{
		"127.0.0.1:9101":     "127.0.0.1:9101",
		"[::1]:9100":         "[::1]:9100",
		"localhost:9100":     "localhost:9100",
		"10.0.0.7:9100":      "10.0.0.7:9100",
		"node1.example:9102": ":9102",
	} {
		if got := ListenAddress(target); got != want {
			t.Errorf("ListenAddress(%q) = %q, want %q", target, got, want)
		}
	}
}

// The lifetimes README.md states are the ones Init writes.
func TestLifetimes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "conf")
	before := time.Now()
	res := initDir(t, Options{Dir: dir, Hosts: []string{"localhost"}})
	for _, c := range []struct {
		file     string
		reported time.Time
		validFor time.Duration
	}{
		{CACert, res.CAExpiry, CAValidity},
		{ServerCert, res.ServerExpiry, LeafValidity},
		{ClientCert, res.ClientExpiry, LeafValidity},
	} {
		b, err := os.ReadFile(filepath.Join(dir, c.file))
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(b)
		if block == nil {
			t.Fatalf("%s: no PEM", c.file)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if !cert.NotAfter.Equal(c.reported) {
			t.Errorf("%s: NotAfter %v, Result says %v", c.file, cert.NotAfter, c.reported)
		}
		if want := before.Add(c.validFor); cert.NotAfter.Before(want.Add(-time.Hour)) || cert.NotAfter.After(want.Add(time.Hour)) {
			t.Errorf("%s: NotAfter %v, want about %v", c.file, cert.NotAfter, want)
		}
	}

	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const year = 365 * 24 * time.Hour
	for _, want := range []string{
		fmt.Sprintf("server and client certificates valid for %d years", LeafValidity/year),
		fmt.Sprintf("a CA valid for %d years", CAValidity/year),
	} {
		if !strings.Contains(strings.Join(strings.Fields(string(readme)), " "), want) {
			t.Errorf("README.md does not say %q", want)
		}
	}
}

// A directory that is another user's is refused whatever its mode: its
// owner could replace the web config or read the keys afterwards.
func TestInitRefusesAnotherUsersDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a directory to another user")
	}
	dir := t.TempDir()
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	_, err := Init(Options{Dir: dir, Hosts: []string{"localhost"}, BcryptCost: 4})
	if err == nil || !strings.Contains(err.Error(), "belongs to uid 65534") {
		t.Fatalf("err %v, want a refusal naming the owner", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("wrote %d files into a refused directory", len(entries))
	}
}

// --target goes into the scrape job's YAML and into netrc: anything but
// host:port is refused before a file is written. A quote and a line break
// added a target of the caller's choosing to the job.
func TestInitRefusesABadTarget(t *testing.T) {
	for _, target := range []string{
		"node.example.com:9100']\n      - targets: ['attacker.example:9100",
		"node.example.com",
		"node.example.com:http",
		"node.example.com:0",
		"node example.com:9100",
	} {
		dir := t.TempDir()
		if _, err := Init(Options{Dir: dir, Hosts: []string{"node.example.com"}, Target: target, BcryptCost: 4}); err == nil || !strings.Contains(err.Error(), "--target") {
			t.Errorf("--target %q: %v, want a refusal", target, err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("--target %q: %d files written", target, len(entries))
		}
	}
	initDir(t, Options{Dir: t.TempDir(), Hosts: []string{"node.example.com"}, Target: "[::1]:9100"})
}
