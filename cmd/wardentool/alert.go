package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/alecthomas/kingpin/v2"
	"github.com/alecthomas/units"
	"github.com/go-openapi/strfmt"
	"github.com/prometheus/alertmanager/api/v2/models"

	"github.com/warden-exporter/warden/alertclient"
)

// Exit codes of `wardentool alert`, for scripts.
const (
	exitAccepted     = 0 // accepted by at least one Alertmanager
	exitInvalid      = 1 // invalid input or configuration: nothing sent
	exitNotDelivered = 2 // not delivered and not spooled
	exitSpooled      = 3 // not delivered yet, safely spooled
)

const alertExitHelp = "Exit codes: 0 accepted by at least one Alertmanager; 3 not delivered but safely spooled; 2 not delivered and not spooled; 1 invalid input or configuration (nothing sent)."

// alertCmd holds the flags of `wardentool alert`.
type alertCmd struct {
	connFlags
	dryRun       bool
	file         string
	args         []string
	annotations  map[string]string
	start, end   string
	generatorURL string
	matchers     []string
	maxResponse  units.Base2Bytes
	keepFiring   bool
	expire       time.Duration
	local        bool
	// spool is the spool the command used, for its report.
	spool spoolChoice
	// endProgress takes the progress line away before the report.
	endProgress func()

	send, resolve, query, flush *kingpin.CmdClause
}

func addAlertCommands(app *kingpin.Application) *alertCmd {
	a := &alertCmd{annotations: map[string]string{}}
	cmd := app.Command("alert", "Send, resolve and query alerts in Alertmanager over TLS, mTLS, basic auth or bearer tokens, to every Alertmanager of a cluster, with retries and a spool. "+alertExitHelp)
	// extended: for query, every annotation and the generator URL.
	a.register(cmd, []string{"simple", "extended", "json"}, true)

	withAlerts := func(c *kingpin.CmdClause) {
		c.Arg("labels", "[alertname] [name=value ...], as amtool alert add takes them.").StringsVar(&a.args)
		c.Flag("file", "Read alerts from a file (- for stdin): a JSON array or JSON lines in Alertmanager's form.").StringVar(&a.file)
		c.Flag("annotation", "Annotation name=value (repeatable).").StringMapVar(&a.annotations)
		c.Flag("generator-url", "Link back to what raised the alert.").StringVar(&a.generatorURL)
		c.Flag("dry-run", "Print the exact payload that would be sent, and send nothing.").BoolVar(&a.dryRun)
	}
	a.send = cmd.Command("send", "Send alerts (add is another name for it, as in amtool). "+alertExitHelp).Alias("add")
	withAlerts(a.send)
	a.send.Flag("start", "Start time, RFC3339 (default: now).").StringVar(&a.start)
	a.send.Flag("end", "End time, RFC3339 (default: Alertmanager's resolve_timeout).").StringVar(&a.end)
	a.send.Flag("keep-firing", "Keep the alert firing until `alert resolve` (or --expire): it is kept in the spool's kept/ directory and re-sent every resend_interval by the alert loop (warden_node_exporter with the same spool, or `alert flush` from a timer).").BoolVar(&a.keepFiring)
	a.send.Flag("expire", "With --keep-firing: stop re-sending after this long (default: never), the alert then ends.").DurationVar(&a.expire)
	a.resolve = cmd.Command("resolve", "Resolve alerts: send them with endsAt now, and forget them if they were kept (--keep-firing). "+alertExitHelp)
	withAlerts(a.resolve)
	a.query = cmd.Command("query", "List active alerts, filtered by label matchers such as alertname=\"X\" or severity=~\"crit.*\"; with --local, the alerts kept firing here.").Alias("list")
	a.query.Arg("matchers", "Label matchers (instance=node1, alertname=~\"Disk.*\"); a first one without an operator is the alertname, as in amtool.").StringsVar(&a.matchers)
	a.query.Flag("local", "List the alerts kept firing (send --keep-firing) in the spool, instead of asking Alertmanager.").BoolVar(&a.local)
	a.query.Flag("max-response-size", "Largest answer read from Alertmanager (such as 64MiB); a larger one is an error, never a list cut short.").
		Default(units.Base2Bytes(alertclient.DefaultMaxResponseBytes).String()).BytesVar(&a.maxResponse)
	a.flush = cmd.Command("flush", "Deliver the alerts waiting in the spool, and re-send the alerts kept firing (run it every resend_interval from a timer when no warden_node_exporter runs the alert loop). "+alertExitHelp)
	return a
}

func (a *alertCmd) run(cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
	fail := func(code int, format string, args ...any) int {
		fmt.Fprintf(stderr, "%s alert %s: %s\n", name, strings.TrimPrefix(cmd, "alert "), printableLines(fmt.Sprintf(format, args...)))
		return code
	}
	logger, err := a.load(stderr)
	if err != nil {
		return fail(exitInvalid, "%v", err)
	}
	var alerts []alertclient.Alert
	if cmd == a.send.FullCommand() || cmd == a.resolve.FullCommand() {
		if alerts, err = a.alerts(cmd == a.resolve.FullCommand(), stdin); err != nil {
			return fail(exitInvalid, "%v", err)
		}
		if err := alertclient.Validate(alerts); err != nil {
			return fail(exitInvalid, "%v", err)
		}
		if err := a.checkKeep(); err != nil {
			return fail(exitInvalid, "%v", err)
		}
		if a.dryRun {
			now := time.Now()
			if a.keepFiring {
				alerts = a.keptPayload(alerts, now)
			}
			if err := writeJSON(stdout, alertclient.Payload(alerts, now), "  "); err != nil {
				return fail(exitInvalid, "%v", err)
			}
			return exitAccepted
		}
	}

	if cmd == a.query.FullCommand() && a.local {
		return a.listKept(stdout, fail)
	}
	cfg, err := a.config()
	if err != nil {
		return fail(exitInvalid, "%v", err)
	}
	if cmd == a.flush.FullCommand() {
		// Flush reads a spool that exists: the one named, or the default
		// one if anything was ever spooled there.
		dir, err := existingSpool(cfg.Spool.Directory)
		if err != nil {
			return fail(exitInvalid, "%v", err)
		}
		if dir == "" {
			d, _ := defaultSpoolDir(os.Getenv, os.Geteuid())
			return fail(exitInvalid, "no spool directory: give --spool.dir or an --alert.config.file with spool.directory (nothing was ever spooled in the default %s)", d)
		}
		cfg.Spool.Directory = dir
	}
	opts := alertclient.Options{Config: cfg, Logger: logger, UserAgent: name, MaxResponseBytes: int64(a.maxResponse)}
	if cmd != a.query.FullCommand() {
		shown := newProgress(stderr, len(alerts))
		shown.hook(&opts)
		defer shown.end()
		a.endProgress = shown.end
	}
	var client *alertclient.Client
	spool := spoolChoice{dir: cfg.Spool.Directory}
	if cmd == a.query.FullCommand() || cmd == a.flush.FullCommand() {
		client, err = alertclient.New(opts)
	} else {
		// A send or resolve no Alertmanager takes waits in a spool, the
		// default one when none is named: no alert is lost by default.
		client, spool, err = newClient(opts)
	}
	if err != nil {
		return fail(exitInvalid, "%v", err)
	}
	a.spool = spool
	ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()

	switch cmd {
	case a.query.FullCommand():
		matchers, err := alertclient.MatchersFromArgs(a.matchers)
		if err != nil {
			return fail(exitInvalid, "%v", err)
		}
		filter := make([]string, len(matchers))
		for i, m := range matchers {
			filter[i] = m.String()
		}
		found, err := client.Query(ctx, filter)
		if errors.Is(err, alertclient.ErrResponseTooLarge) {
			return fail(exitNotDelivered, "%v (--max-response-size is %s)", err, a.maxResponse)
		}
		if err != nil {
			return fail(exitNotDelivered, "%v", err)
		}
		if a.output == "json" {
			if err := writeJSON(stdout, found, ""); err != nil {
				return fail(exitNotDelivered, "%v", err)
			}
			return exitAccepted
		}
		for _, al := range found {
			if al != nil { // a null in the list
				fmt.Fprintln(stdout, queryLine(al, a.output == "extended", a.formatTime))
			}
		}
		return exitAccepted
	case a.flush.FullCommand():
		res, err := client.Flush(ctx)
		kept, kerr := client.ResendKept(ctx)
		res.Delivered += kept.Delivered
		res.Kept = kept.Kept
		if len(kept.Endpoints) > 0 {
			res.Endpoints = kept.Endpoints
		}
		return a.report(res, flushError(err, kerr), stdout, stderr, fail)
	case a.resolve.FullCommand():
		res, err := client.Resolve(ctx, alerts)
		return a.report(res, err, stdout, stderr, fail)
	default:
		if a.keepFiring {
			res, err := client.Keep(ctx, alerts, a.expire)
			return a.report(res, err, stdout, stderr, fail)
		}
		res, err := client.Send(ctx, alerts)
		return a.report(res, err, stdout, stderr, fail)
	}
}

// flushError joins the errors of a flush's two parts, the spool and the
// kept alerts. It is ErrSpooled (exit 3: nothing lost, the next flush
// tries again) only when each part failed that way: a refusal in one is
// not hidden behind alerts waiting in the other.
func flushError(spool, kept error) error {
	err := errors.Join(spool, kept)
	for _, e := range []error{spool, kept} {
		if e != nil && !errors.Is(e, alertclient.ErrSpooled) {
			return notSpooled{err}
		}
	}
	return err
}

// notSpooled hides the ErrSpooled in an error that also holds a worse one.
type notSpooled struct{ error }

// keptPayload is alerts as --keep-firing sends them first: ending four
// resend intervals ahead.
func (a *alertCmd) keptPayload(alerts []alertclient.Alert, now time.Time) []alertclient.Alert {
	interval := alertclient.DefaultResendInterval
	if cfg, err := a.config(); err == nil {
		interval = time.Duration(cfg.ResendInterval)
	}
	out := make([]alertclient.Alert, len(alerts))
	for i, al := range alerts {
		out[i] = al
		out[i].EndsAt = alertclient.KeptEndsAt(alertclient.KeptAlert{Alert: al}, now, interval)
	}
	return out
}

// checkKeep refuses the flags --keep-firing does not go with.
func (a *alertCmd) checkKeep() error {
	switch {
	case a.expire != 0 && !a.keepFiring:
		return errors.New("--expire goes with --keep-firing")
	case a.expire < 0:
		return fmt.Errorf("--expire %s: must be positive", a.expire)
	case a.keepFiring && a.end != "":
		return errors.New("--keep-firing and --end exclude each other: a kept alert ends when it is resolved or --expire passes")
	}
	return nil
}

// listKept prints the alerts kept firing in the spool.
func (a *alertCmd) listKept(stdout io.Writer, fail func(int, string, ...any) int) int {
	dir, err := a.spoolDirectory()
	if err == nil {
		dir, err = existingSpool(dir)
	}
	if err != nil {
		return fail(exitInvalid, "%v", err)
	}
	kept := []alertclient.KeptAlert{}
	var listErr error
	if _, err := os.Stat(alertclient.KeptDir(dir)); dir != "" && err == nil {
		store, err := alertclient.OpenKeptAlerts(dir)
		if err != nil {
			return fail(exitInvalid, "%v", err)
		}
		// Corrupt files are set aside and named after the good ones are
		// listed.
		kept, listErr = store.List()
	}
	if a.output == "json" {
		if err := writeJSON(stdout, kept, ""); err != nil {
			return fail(exitInvalid, "%v", err)
		}
	} else {
		for _, k := range kept {
			fmt.Fprintln(stdout, keptLine(k, a.formatTime))
		}
	}
	if listErr != nil {
		return fail(exitInvalid, "%v", listErr)
	}
	return exitAccepted
}

// keptLine is how `alert list --local` lists a kept alert.
func keptLine(k alertclient.KeptAlert, format func(time.Time) string) string {
	expires := "never"
	if !k.Expires.IsZero() {
		expires = format(k.Expires)
	}
	line := alertclient.Printable(fmt.Sprintf("%s %s starts=%s since=%s expires=%s", k.Alert.Name(), k.Alert,
		format(k.Alert.StartsAt), format(k.Since), expires))
	if s, ok := k.Alert.Annotations["summary"]; ok {
		line += fmt.Sprintf(" summary=%q", s)
	}
	return line
}

// report prints the outcome and picks the exit code.
func (a *alertCmd) report(res *alertclient.Result, err error, stdout, stderr io.Writer, fail func(int, string, ...any) int) int {
	if a.endProgress != nil {
		a.endProgress()
	}
	code := exitAccepted
	var verr *alertclient.ValidationError
	switch {
	case err == nil:
	case errors.As(err, &verr):
		code = exitInvalid
	case errors.Is(err, alertclient.ErrSpooled):
		code = exitSpooled
	default:
		code = exitNotDelivered
	}
	if a.output == "json" {
		out := map[string]any{"exit_code": code}
		if res != nil {
			out["delivered"], out["spooled"], out["from_spool"] = res.Delivered, res.Spooled, res.FromSpool
			out["kept_resent"], out["forgotten"] = res.Kept, res.Forgotten
			var eps []map[string]any
			for _, e := range res.Endpoints {
				ep := map[string]any{"url": e.URL, "accepted": e.Accepted, "attempts": e.Attempts}
				if e.Err != nil {
					ep["error"] = e.Err.Error()
				}
				eps = append(eps, ep)
			}
			out["alertmanagers"] = eps
		}
		if err != nil {
			out["error"] = err.Error()
		}
		if a.spool.unusable != nil {
			out["spool_error"] = a.spool.unusable.Error()
		} else if a.spool.dir != "" {
			out["spool"] = a.spool.dir
		}
		_ = writeJSON(stdout, out, "") // the exit code says what happened
		return code
	}
	if res != nil {
		fmt.Fprintf(stdout, "delivered %d, spooled %d (delivered from the spool: %d", res.Delivered, res.Spooled, res.FromSpool)
		if res.Kept > 0 {
			fmt.Fprintf(stdout, "; kept alerts re-sent: %d", res.Kept)
		}
		if res.Forgotten > 0 {
			fmt.Fprintf(stdout, "; no longer kept: %d", res.Forgotten)
		}
		fmt.Fprintln(stdout, ")")
		for _, e := range res.Endpoints {
			state := "accepted"
			switch {
			case !e.Accepted && err != nil:
				// The error below says what each answered: once.
				state = "not accepted"
			case !e.Accepted:
				state = printableLines(fmt.Sprintf("failed: %v", e.Err))
			}
			fmt.Fprintf(stdout, "  %s: %s after %d attempt(s)\n", e.URL, state, e.Attempts)
		}
	}
	if err != nil {
		fail(code, "%v", err)
	}
	switch {
	case code == exitSpooled && a.spool.isDefault:
		fmt.Fprintf(stderr, "%s: the alerts wait in the default spool %s; `%s alert flush` delivers them\n", name, a.spool.dir, name)
	case code == exitNotDelivered && a.spool.unusable != nil:
		fmt.Fprintf(stderr, "%s: not spooled: %s; give --spool.dir\n", name, printableLines(a.spool.unusable.Error()))
	}
	return code
}

// queryLine is how `alert query` lists an alert: name, labels, times,
// state and summary, as amtool's simple output has them; extended adds
// every annotation and the generator URL, as amtool's extended output
// does. Every string in it came from Alertmanager and is printed through
// alertclient.Printable (Alert.String quotes label values, %q the
// others); a field Alertmanager left out shows as "-".
func queryLine(al *models.GettableAlert, extended bool, format func(time.Time) string) string {
	at := func(t *strfmt.DateTime) string { return apiTime(t, format) }
	state := "-"
	if al.Status != nil && al.Status.State != nil {
		state = alertclient.Printable(*al.Status.State)
	}
	line := fmt.Sprintf("%s %s starts=%s ends=%s state=%s", alertclient.Printable(al.Labels["alertname"]),
		alertclient.Alert{Labels: al.Labels}, at(al.StartsAt), at(al.EndsAt), state)
	switch {
	case extended:
		line += " annotations=" + alertclient.Alert{Labels: al.Annotations}.String()
		if al.GeneratorURL != "" {
			line += fmt.Sprintf(" generator=%q", al.GeneratorURL.String())
		}
	case al.Annotations["summary"] != "":
		line += fmt.Sprintf(" summary=%q", al.Annotations["summary"])
	}
	return line
}

// apiTime prints a time from Alertmanager's API in format, "-" when it
// left it out.
func apiTime(t *strfmt.DateTime, format func(time.Time) string) string {
	if t == nil {
		return "-"
	}
	return alertclient.Printable(format(time.Time(*t)))
}

// printableLines is alertclient.Printable line by line: the lines of a
// joined error stay lines, and nothing else in them reaches the terminal
// raw.
func printableLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = alertclient.Printable(l)
	}
	return strings.Join(lines, "\n")
}

// writeJSON writes v as JSON, indented with indent if not empty, with
// every character that is not printable escaped as \uXXXX. encoding/json
// escapes only those below U+0020 (and U+2028, U+2029), and leaves DEL, C1
// controls such as U+009B (CSI) and U+202E (which reverses the line) as
// they are. Outside strings, JSON has only printable ASCII and newlines,
// so the escapes land in strings, where a JSON reader decodes them back.
func writeJSON(w io.Writer, v any, indent string) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return err
	}
	var out bytes.Buffer
	for b := buf.Bytes(); len(b) > 0; {
		r, size := utf8.DecodeRune(b)
		switch {
		case r == '\n' || unicode.IsPrint(r):
			out.Write(b[:size])
		case r > 0xffff:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(&out, `\u%04x\u%04x`, hi, lo)
		default:
			// encoding/json writes only UTF-8: no RuneError of size 1 here.
			fmt.Fprintf(&out, `\u%04x`, r)
		}
		b = b[size:]
	}
	_, err := out.WriteTo(w)
	return err
}

// alerts builds the alerts from --file or the arguments.
func (a *alertCmd) alerts(resolve bool, stdin io.Reader) ([]alertclient.Alert, error) {
	var alerts []alertclient.Alert
	if a.file != "" {
		if len(a.args) > 0 {
			return nil, errors.New("give alerts either as arguments or with --file, not both")
		}
		r := stdin
		if a.file != "-" {
			f, err := os.Open(a.file)
			if err != nil {
				return nil, fmt.Errorf("--file: %w", err)
			}
			defer f.Close()
			r = f
		}
		var err error
		if alerts, err = alertclient.ParseAlerts(r); err != nil {
			return nil, fmt.Errorf("--file %s: %w", a.file, err)
		}
	} else {
		labels, err := alertclient.LabelsFromArgs(a.args)
		if err != nil {
			return nil, err
		}
		if len(labels) == 0 {
			return nil, errors.New("no alert: give [alertname] [name=value ...] or --file")
		}
		al := alertclient.Alert{Labels: labels, GeneratorURL: a.generatorURL}
		if len(a.annotations) > 0 {
			al.Annotations = a.annotations
		}
		if al.StartsAt, err = parseTime("--start", a.start); err != nil {
			return nil, err
		}
		if al.EndsAt, err = parseTime("--end", a.end); err != nil {
			return nil, err
		}
		alerts = []alertclient.Alert{al}
	}
	if resolve {
		now := time.Now()
		for i := range alerts {
			alerts[i].EndsAt = now
			if !alerts[i].StartsAt.IsZero() && alerts[i].StartsAt.After(now) {
				alerts[i].StartsAt = now
			}
		}
	}
	return alerts, nil
}

func parseTime(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q: want RFC3339 such as 2026-11-23T10:00:00Z", flag, s)
	}
	return t, nil
}

// spoolDirectory is the spool of --spool.dir or the --alert.config.file,
// without needing an Alertmanager; "" when none is given.
func (a *alertCmd) spoolDirectory() (string, error) {
	if a.spoolDir != "" || a.configFile == "" {
		return a.spoolDir, nil
	}
	cfg, err := alertclient.LoadConfig(a.configFile)
	if err != nil {
		return "", err
	}
	return cfg.Spool.Directory, nil
}
