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
	"strings"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/version"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/term"

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
	hashCost := hashCmd.Flag("cost", fmt.Sprintf("bcrypt cost, %d to %d.", bcrypt.MinCost, bcrypt.MaxCost)).Default(fmt.Sprint(bcrypt.DefaultCost)).Int()

	tokenCmd := app.Command("token", "Bearer tokens for --web.auth.file.")
	tokenNewCmd := tokenCmd.Command("new", "Print a new random bearer token (256 bits) once, and the line with its hash to paste under bearer_tokens in the auth file.")
	tokenName := tokenNewCmd.Arg("name", "Name of the token, as rules refer to it (token:NAME).").Required().String()
	tokenFile := tokenNewCmd.Flag("token-file", "Write the token into this new file (mode 0600) instead of printing it.").String()

	alertCmd := addAlertCommands(app)
	fleetCmd := addFleetCommands(app)

	checkCmd := app.Command("check", "Check configuration files.")
	checkWebCmd := checkCmd.Command("web-config", "Check web config files as warden_node_exporter does before it listens. Exit 0 when all are good, 1 otherwise with one line per problem.")
	checkWebFiles := checkWebCmd.Arg("file", "Web config file.").Required().ExistingFiles()

	cmd, exitCode, err := exporter.Parse(app, args)
	if exitCode >= 0 {
		return exitCode
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: error: %v\n", name, err)
		if len(args) > 0 && args[0] == "alert" {
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
		return runCheckWeb(*checkWebFiles, stdout, stderr)
	case alertCmd.send.FullCommand(), alertCmd.resolve.FullCommand(), alertCmd.query.FullCommand(), alertCmd.flush.FullCommand():
		return alertCmd.run(cmd, stdin, stdout, stderr)
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
	fmt.Fprintf(stdout, `Wrote a secure configuration to %[1]s for %[2]s.
Start the exporter:
  warden_node_exporter --web.config.file=%[1]s/%[3]s
Scrape it:
  curl --cacert %[1]s/%[4]s --cert %[1]s/%[5]s --key %[1]s/%[6]s -u %[7]s:"$(cat %[1]s/%[8]s)" https://%[9]s/metrics
Prometheus scrape job: %[1]s/%[10]s
`, res.Dir, strings.Join(res.Hosts, ", "), setup.WebConfig, setup.CACert, setup.ClientCert, setup.ClientKey,
		setup.Username, setup.PasswordFile, res.Target, setup.PrometheusJob)
	return 0
}

func runHash(cost int, stdin io.Reader, stdout, stderr io.Writer) int {
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		fmt.Fprintf(stderr, "%s hash-password: --cost %d is out of range %d to %d\n", name, cost, bcrypt.MinCost, bcrypt.MaxCost)
		return 1
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
		f, err := os.OpenFile(tokenFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			fmt.Fprintf(stderr, "%s token new: --token-file: %v\n", name, err)
			return 1
		}
		_, werr := fmt.Fprintln(f, token)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			fmt.Fprintf(stderr, "%s token new: --token-file %s: %v\n", name, tokenFile, werr)
			return 1
		}
	} else {
		fmt.Fprintf(stdout, "# Bearer token %q, shown once: store it where the client reads it\n# (Prometheus: authorization.credentials_file).\n%s\n", tokenName, token)
	}
	fmt.Fprintf(stdout, "# Paste under bearer_tokens: in the --web.auth.file:\n%s: %q\n", tokenName, hash)
	return 0
}

func runCheckWeb(files []string, stdout, stderr io.Writer) int {
	code := 0
	for _, f := range files {
		if err := webconf.Validate(f); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				fmt.Fprintln(stderr, line)
			}
			code = 1
			continue
		}
		fmt.Fprintf(stdout, "%s: OK\n", f)
	}
	return code
}
