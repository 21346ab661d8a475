package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-openapi/strfmt"
	"github.com/prometheus/alertmanager/api/v2/models"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"

	"github.com/warden-exporter/warden/alertclient"
)

const silenceExitHelp = "Exit codes: 0 done; 2 refused or unreachable (each Alertmanager tried in turn); 1 invalid input or configuration (nothing sent)."

// silenceCmd holds the flags of `wardentool silence`, amtool's forms.
type silenceCmd struct {
	connFlags
	matchers       []string
	author         string
	authorSet      bool
	duration       string
	start, end     string
	comment        string
	requireComment bool
	requireSet     bool
	expired, quiet bool
	ids            []string

	add, query, expire *kingpin.CmdClause
}

func addSilenceCommands(app *kingpin.Application) *silenceCmd {
	s := &silenceCmd{}
	cmd := app.Command("silence", "Add, query and expire silences in Alertmanager, as amtool does, with the alert command's connection and config. "+silenceExitHelp)
	s.register(cmd, []string{"simple", "extended", "json"}, false)
	s.add = cmd.Command("add", "Add a silence and print its ID alone (id=$(wardentool silence add ...)). "+silenceExitHelp)
	s.add.Arg("matchers", "Label matchers (instance=node1, alertname=~\"Disk.*\"); a first one without an operator is the alertname, as in amtool.").StringsVar(&s.matchers)
	s.add.Flag("author", "Who adds it (createdBy); default: amtool's author, or the user name.").Short('a').IsSetByUser(&s.authorSet).StringVar(&s.author)
	s.add.Flag("duration", "How long it lasts, as amtool takes it (30m, 2h, 1d, 1w).").Short('d').Default("1h").StringVar(&s.duration)
	s.add.Flag("start", "Start, RFC3339 (default: now).").StringVar(&s.start)
	s.add.Flag("end", "End, RFC3339 (overrides --duration).").StringVar(&s.end)
	s.add.Flag("comment", "Why: required unless amtool's config says comment_required: false.").Short('c').StringVar(&s.comment)
	s.add.Flag("require-comment", "Refuse a silence without --comment (amtool's comment_required).").Hidden().Default("true").IsSetByUser(&s.requireSet).BoolVar(&s.requireComment)
	s.query = cmd.Command("query", "List silences, active and pending (or --expired), filtered by matchers. "+silenceExitHelp).Default()
	s.query.Arg("matchers", "Label matchers; a first one without an operator is the alertname.").StringsVar(&s.matchers)
	s.query.Flag("expired", "List expired silences instead.").BoolVar(&s.expired)
	s.query.Flag("quiet", "Print the IDs only.").Short('q').BoolVar(&s.quiet)
	s.expire = cmd.Command("expire", "End silences now. "+silenceExitHelp)
	s.expire.Arg("ids", "Silence IDs.").Required().StringsVar(&s.ids)
	return s
}

// selected returns cmd if it is one of silence's commands, and "" if not,
// for a case of run's switch on the command.
func (s *silenceCmd) selected(cmd string) string {
	if cmd == s.add.FullCommand() || cmd == s.query.FullCommand() || cmd == s.expire.FullCommand() {
		return cmd
	}
	return ""
}

func (s *silenceCmd) run(cmd string, stdout, stderr io.Writer) int {
	fail := func(code int, format string, args ...any) int {
		fmt.Fprintf(stderr, "%s %s: %s\n", name, cmd, printableLines(fmt.Sprintf(format, args...)))
		return code
	}
	logger, err := s.load(stderr)
	if err != nil {
		return fail(exitInvalid, "%v", err)
	}
	matchers, err := alertclient.MatchersFromArgs(s.matchers)
	if err != nil {
		return fail(exitInvalid, "%v", err)
	}
	var silence alertclient.Silence
	if cmd == s.add.FullCommand() {
		if silence, err = s.silence(matchers, time.Now()); err != nil {
			return fail(exitInvalid, "%v", err)
		}
	}
	cfg, err := s.config()
	if err != nil {
		return fail(exitInvalid, "%v", err)
	}
	client, err := alertclient.New(alertclient.Options{Config: cfg, Logger: logger, UserAgent: name})
	if err != nil {
		return fail(exitInvalid, "%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()

	switch cmd {
	case s.add.FullCommand():
		id, err := client.AddSilence(ctx, silence)
		if err != nil {
			return fail(exitNotDelivered, "%v", err)
		}
		if s.output == "json" {
			return s.writeJSON(stdout, map[string]string{"silenceID": id}, fail)
		}
		fmt.Fprintln(stdout, alertclient.Printable(id))
	case s.query.FullCommand():
		filter := make([]string, len(matchers))
		for i, m := range matchers {
			filter[i] = m.String()
		}
		found, err := client.Silences(ctx, filter)
		if err != nil {
			return fail(exitNotDelivered, "%v", err)
		}
		found = s.listed(found)
		switch {
		case s.output == "json":
			return s.writeJSON(stdout, found, fail)
		case s.quiet:
			for _, sil := range found {
				fmt.Fprintln(stdout, alertclient.Printable(str(sil.ID)))
			}
		default:
			for _, sil := range found {
				fmt.Fprintln(stdout, silenceLine(sil, s.output == "extended", s.formatTime))
			}
		}
	case s.expire.FullCommand():
		var errs []error
		for _, id := range s.ids {
			if err := client.ExpireSilence(ctx, id); err != nil {
				errs = append(errs, fmt.Errorf("expire %s: %w", id, err))
			}
		}
		if err := errors.Join(errs...); err != nil {
			code := exitNotDelivered
			for _, id := range s.ids {
				if !strfmt.IsUUID(id) {
					code = exitInvalid
				}
			}
			return fail(code, "%v", err)
		}
	}
	return exitAccepted
}

func (s *silenceCmd) writeJSON(stdout io.Writer, v any, fail func(int, string, ...any) int) int {
	if err := writeJSON(stdout, v, ""); err != nil {
		return fail(exitNotDelivered, "%v", err)
	}
	return exitAccepted
}

// silence builds the silence `silence add` asks for, as amtool does: from
// now (or --start) for --duration (or to --end), by --author or amtool's
// author or the user name, with a comment unless amtool's config says
// comment_required: false.
func (s *silenceCmd) silence(matchers []*labels.Matcher, now time.Time) (alertclient.Silence, error) {
	sil := alertclient.Silence{Matchers: matchers, Comment: s.comment, CreatedBy: s.author, StartsAt: now}
	if !s.authorSet {
		sil.CreatedBy = s.amtool.values["author"]
		if sil.CreatedBy == "" {
			sil.CreatedBy = userName()
		}
	}
	require := s.requireComment
	if v, ok := s.amtool.values["require-comment"]; ok && !s.requireSet {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return sil, s.amtool.errorf("require-comment", "%q is not true or false", v)
		}
		require = b
	}
	if require && s.comment == "" {
		return sil, errors.New("--comment is required (amtool's config can say comment_required: false)")
	}
	var err error
	if s.start != "" {
		if sil.StartsAt, err = parseTime("--start", s.start); err != nil {
			return sil, err
		}
	}
	if s.end != "" {
		if sil.EndsAt, err = parseTime("--end", s.end); err != nil {
			return sil, err
		}
	} else {
		d, err := model.ParseDuration(s.duration)
		if err != nil {
			return sil, fmt.Errorf("--duration %q: %w", s.duration, err)
		}
		if d <= 0 {
			return sil, fmt.Errorf("--duration %q: must be positive", s.duration)
		}
		sil.EndsAt = sil.StartsAt.Add(time.Duration(d))
	}
	return sil, sil.Validate(now)
}

// userName is who runs the command, as amtool names the author.
func userName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}

// listed keeps the silences query shows: active and pending, or with
// --expired the expired ones.
func (s *silenceCmd) listed(all models.GettableSilences) models.GettableSilences {
	out := models.GettableSilences{}
	for _, sil := range all {
		expired := sil.Status != nil && str(sil.Status.State) == models.SilenceStatusStateExpired
		if expired == s.expired {
			out = append(out, sil)
		}
	}
	return out
}

// silenceLine is how `silence query` lists a silence: ID, matchers, end,
// author and comment, as amtool's simple output has them; extended adds
// the start and the state. What came from Alertmanager is printed through
// alertclient.Printable or quoted.
func silenceLine(sil *models.GettableSilence, extended bool, format func(time.Time) string) string {
	at := func(t *strfmt.DateTime) string { return apiTime(t, format) }
	matchers := make([]string, 0, len(sil.Matchers))
	for _, m := range sil.Matchers {
		if m != nil {
			matchers = append(matchers, matcherString(m))
		}
	}
	line := fmt.Sprintf("%s {%s} ends=%s createdBy=%q comment=%q", alertclient.Printable(str(sil.ID)),
		alertclient.Printable(strings.Join(matchers, ",")), at(sil.EndsAt), str(sil.CreatedBy), str(sil.Comment))
	if extended {
		state := "-"
		if sil.Status != nil {
			state = alertclient.Printable(str(sil.Status.State))
		}
		line += fmt.Sprintf(" starts=%s state=%s", at(sil.StartsAt), state)
	}
	return line
}

// matcherString writes a matcher of the API as one is typed.
func matcherString(m *models.Matcher) string {
	op := "="
	equal := m.IsEqual == nil || *m.IsEqual
	regex := m.IsRegex != nil && *m.IsRegex
	switch {
	case equal && regex:
		op = "=~"
	case !equal && regex:
		op = "!~"
	case !equal:
		op = "!="
	}
	return str(m.Name) + op + strconv.Quote(str(m.Value))
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
