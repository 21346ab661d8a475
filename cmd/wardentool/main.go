// Command wardentool is the operator's companion to warden_node_exporter:
// it sets up a secure configuration, hashes passwords and checks web
// config files the way the daemon does.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/version"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/term"

	"github.com/warden-exporter/warden/internal/atomicfile"
	_ "github.com/warden-exporter/warden/internal/buildinfo" // version from the build when no -ldflags gave one
	"github.com/warden-exporter/warden/internal/setup"
	"github.com/warden-exporter/warden/webconf"
	"github.com/warden-exporter/warden/webconf/exporter"
)

const name = "wardentool"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := kingpin.New(name, "Set up and check Warden's secure configuration.")
	app.ErrorWriter(stderr)
	app.UsageWriter(stdout)
	app.Version(version.Print(name))
	app.HelpFlag.Short('h')

	initCmd := app.Command("init", "Create a private CA, server and client certificates, a random password, a web config requiring all three, and a Prometheus scrape job.")
	initOpts := setup.Options{}
	initCmd.Flag("dir", "Directory to write into; must not exist or be empty.").Required().StringVar(&initOpts.Dir)
	initCmd.Flag("host", "DNS name or IP address for the server certificate (repeatable). Default: this machine's hostname, localhost, 127.0.0.1.").StringsVar(&initOpts.Hosts)
	initCmd.Flag("target", "host:port the scrape job scrapes. Default: the first --host (localhost without --host) on port 9100.").StringVar(&initOpts.Target)
	initCmd.Flag("force", "Replace the files in a non-empty --dir.").BoolVar(&initOpts.Force)

	hashCmd := app.Command("hash-password", "Read a password from standard input (without echo on a terminal) and print its bcrypt hash for basic_auth_users.")
	hashCost := hashCmd.Flag("cost", fmt.Sprintf("bcrypt cost, %d to %d; each step doubles the time of every login check.", minSafeCost, maxCost)).Default(fmt.Sprint(bcrypt.DefaultCost)).Int()

	tokenCmd := app.Command("token", "Bearer tokens for --web.auth.file.")
	tokenNewCmd := tokenCmd.Command("new", "Print a new random bearer token (256 bits) once, and the line with its hash to paste under bearer_tokens in the auth file.")
	tokenName := tokenNewCmd.Arg("name", "Name of the token, as rules refer to it (token:NAME).").Required().String()
	tokenFile := tokenNewCmd.Flag("token-file", "Write the token into this new file (mode 0600) instead of printing it.").String()

	alertCmd := addAlertCommands(app)
	silenceCmd := addSilenceCommands(app)
	fleetCmd := addFleetCommands(app)

	checkCmd := app.Command("check", "Check configuration files.")
	checkWebCmd := checkCmd.Command("web-config", "Check web config files as warden_node_exporter does before it listens. Exit 0 when all are good (warnings included), 1 otherwise with one line per problem.")
	// Strings, not ExistingFiles: a missing file is one more problem line
	// and exit 1, not a usage error.
	checkWebFiles := checkWebCmd.Arg("file", "Web config file.").Required().Strings()
	checkStrict := checkWebCmd.Flag("strict", "Treat warnings (basic auth without TLS) as problems: exit 1.").Bool()

	cmd, exitCode, err := exporter.Parse(app, args)
	if exitCode >= 0 {
		return exitCode
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: error: %v\n", name, err)
		if len(args) > 0 && (args[0] == "alert" || args[0] == "silence") {
			// For scripts, 2 means "not delivered"; bad usage is invalid input.
			return exitInvalid
		}
		return 2
	}
	switch cmd {
	case initCmd.FullCommand():
		return runInit(initOpts, stdout, stderr)
	case hashCmd.FullCommand():
		return runHash(*hashCost, stdin, stdout, stderr)
	case tokenNewCmd.FullCommand():
		return runTokenNew(*tokenName, *tokenFile, stdout, stderr)
	case checkWebCmd.FullCommand():
		return runCheckWeb(*checkWebFiles, *checkStrict, stdout, stderr)
	case alertCmd.send.FullCommand(), alertCmd.resolve.FullCommand(), alertCmd.query.FullCommand(), alertCmd.flush.FullCommand():
		return alertCmd.run(cmd, stdin, stdout, stderr)
	case silenceCmd.selected(cmd):
		return silenceCmd.run(cmd, stdout, stderr)
	case fleetCmd.selected(cmd):
		return fleetCmd.run(cmd, stdin, stdout, stderr)
	}
	fmt.Fprintf(stderr, "%s: error: unknown command %q\n", name, cmd)
	return 2
}

func runInit(opts setup.Options, stdout, stderr io.Writer) int {
	res, err := setup.Init(opts)
	if err != nil {
		fmt.Fprintf(stderr, "%s init: %v\n", name, err)
		return 1
	}
	exporterCmd, found := exporterCommand()
	var notFound string
	if !found {
		notFound = "  (" + exporterCmd + " is neither beside wardentool nor on PATH: `make build` puts both in bin/)\n"
	}
	at := func(file string) string { return filepath.Join(res.Dir, file) }
	day := func(t time.Time) string { return t.UTC().Format(time.DateOnly) }
	// The password is read by curl from the netrc file, never put on the
	// command line, where ps and the shell's history would show it.
	fmt.Fprintf(stdout, `Wrote a secure configuration to %s for %s.
Start the exporter:
  %s --web.config.file=%s --web.listen-address=%s
%sScrape it:
  curl --cacert %s --cert %s --key %s --netrc-file %s https://%s/metrics
Prometheus scrape job: %s
Certificates: server valid until %s, client until %s, CA until %s (UTC).
  init keeps no CA key: before then, run `+"`wardentool init --force`"+` again (new CA, keys and password),
  or keep a CA with `+"`wardentool ca init`"+` and renew in place with `+"`wardentool cert renew`"+`.
  Alert on warden_tls_certificate_expiry_timestamp_seconds, which the exporter exports.
`, res.Dir, strings.Join(res.Hosts, ", "),
		exporterCmd, at(setup.WebConfig), setup.ListenAddress(res.Target), notFound,
		at(setup.CACert), at(setup.ClientCert), at(setup.ClientKey), at(setup.Netrc), res.Target,
		at(setup.PrometheusJob),
		day(res.ServerExpiry), day(res.ClientExpiry), day(res.CAExpiry))
	return 0
}

// exporterCommand names warden_node_exporter so that the printed command
// runs from the user's working directory: the binary beside this one
// (bin/ after `make build`, relative when below the working directory)
// unless that is the one PATH finds, and the bare name otherwise. found
// is false when there is none beside this one nor on PATH (`go run`).
func exporterCommand() (command string, found bool) {
	const exe = "warden_node_exporter"
	onPath, pathErr := exec.LookPath(exe)
	self, err := os.Executable()
	if err != nil {
		return exe, pathErr == nil
	}
	beside := filepath.Join(filepath.Dir(self), exe)
	if _, err := os.Stat(beside); err != nil || (pathErr == nil && sameFile(onPath, beside)) {
		return exe, pathErr == nil
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, beside); err == nil && filepath.IsLocal(rel) {
			return "." + string(filepath.Separator) + rel, true
		}
	}
	return beside, true
}

func sameFile(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// bcrypt costs hash-password accepts. Each step doubles the time of
// every password check, which the exporter pays on every login it has not
// cached and an attacker can make it pay with wrong passwords: bcrypt's
// own maximum, 31, is 2^21 times the default and takes hours. Below the
// default, a stolen hash is cheaper to crack.
const (
	minSafeCost = bcrypt.DefaultCost
	maxCost     = 14
)

func runHash(cost int, stdin io.Reader, stdout, stderr io.Writer) int {
	switch {
	case cost > maxCost:
		fmt.Fprintf(stderr, "%s hash-password: --cost %d is above %d: each step doubles the time of every login check (cost %d would take %d times as long as the default %d, for each login the exporter has not cached and each guess an attacker sends)\n",
			name, cost, maxCost, cost, 1<<(cost-bcrypt.DefaultCost), bcrypt.DefaultCost)
		return 1
	case cost < bcrypt.MinCost:
		fmt.Fprintf(stderr, "%s hash-password: --cost %d is below bcrypt's minimum %d\n", name, cost, bcrypt.MinCost)
		return 1
	case cost < minSafeCost:
		fmt.Fprintf(stderr, "%s hash-password: warning: --cost %d is below %d: a stolen hash is %d times cheaper to crack\n",
			name, cost, minSafeCost, 1<<(minSafeCost-cost))
	}
	password, err := readPassword(stdin, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "%s hash-password: %v\n", name, err)
		return 1
	}
	hash, err := bcrypt.GenerateFromPassword(password, cost)
	if err != nil {
		fmt.Fprintf(stderr, "%s hash-password: %v\n", name, err)
		return 1
	}
	fmt.Fprintln(stdout, string(hash))
	return 0
}

// readPassword reads one line; on a terminal it prompts and does not echo.
func readPassword(stdin io.Reader, stderr io.Writer) ([]byte, error) {
	var line []byte
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return nil, fmt.Errorf("read password from terminal: %w", err)
		}
		line = b
	} else {
		s, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read password from stdin: %w", err)
		}
		line = []byte(strings.TrimRight(s, "\r\n"))
	}
	if len(line) == 0 {
		return nil, errors.New("empty password on standard input")
	}
	if len(line) > 72 {
		return nil, fmt.Errorf("password is %d bytes; bcrypt uses at most 72", len(line))
	}
	return line, nil
}

func runTokenNew(tokenName, tokenFile string, stdout, stderr io.Writer) int {
	if err := webconf.ValidateTokenName(tokenName); err != nil {
		fmt.Fprintf(stderr, "%s token new: %v\n", name, err)
		return 1
	}
	token, hash, err := webconf.NewToken()
	if err != nil {
		fmt.Fprintf(stderr, "%s token new: %v\n", name, err)
		return 1
	}
	if tokenFile != "" {
		if err := atomicfile.WriteNew(tokenFile, []byte(token+"\n"), 0o600); err != nil {
			fmt.Fprintf(stderr, "%s token new: --token-file: %v\n", name, err)
			return 1
		}
	} else {
		fmt.Fprintf(stdout, "# Bearer token %q, shown once: store it where the client reads it\n# (Prometheus: authorization.credentials_file).\n%s\n", tokenName, token)
	}
	fmt.Fprintf(stdout, "# Paste under bearer_tokens: in the --web.auth.file:\n%s: %q\n", tokenName, hash)
	return 0
}

// runCheckWeb prints one line per problem and per warning, to stderr,
// and "FILE: OK" to stdout for a file without problems. A warning is a
// configuration the exporter serves but should not: with strict, it is a
// problem.
func runCheckWeb(files []string, strict bool, stdout, stderr io.Writer) int {
	code := 0
	for _, f := range files {
		if err := webconf.Validate(f); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				fmt.Fprintln(stderr, line)
			}
			code = 1
			continue
		}
		warnings, err := webConfigWarnings(f)
		if err != nil {
			fmt.Fprintln(stderr, err)
			code = 1
			continue
		}
		for _, w := range warnings {
			fmt.Fprintln(stderr, w)
		}
		if strict && len(warnings) > 0 {
			code = 1
			continue
		}
		fmt.Fprintf(stdout, "%s: OK\n", f)
	}
	return code
}

// webConfigWarnings returns a line for each thing a valid web config at
// path allows that it should not.
func webConfigWarnings(path string) ([]string, error) {
	cfg, err := webconf.Load(path)
	if err != nil {
		return nil, err // changed since Validate read it
	}
	var warnings []string
	if len(cfg.Users) > 0 && !cfg.TLSConfig.IsEnabled() {
		warnings = append(warnings, fmt.Sprintf("web config %s: warning: basic_auth_users without tls_server_config: passwords cross the network in clear; add TLS (wardentool init writes a web config with it)", path))
	}
	return warnings, nil
}
