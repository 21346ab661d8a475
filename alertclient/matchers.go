package alertclient

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/prometheus/alertmanager/matcher/compat"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/promslog"
)

// MatchersFromArgs parses label matchers as amtool takes them, one an
// argument: instance=node1, alertname=~"Disk.*", severity!="info". As in
// amtool, a first argument without an operator is the alertname, and the
// parser is Alertmanager's own (its UTF-8 parser, falling back to the
// classic one).
func MatchersFromArgs(args []string) ([]*labels.Matcher, error) {
	parse := compat.FallbackMatcherParser(promslog.NewNopLogger())
	out := make([]*labels.Matcher, 0, len(args))
	for i, arg := range args {
		m, err := parse(arg, "cli")
		// Only a word without an operator: a matcher that does not parse
		// is an error, not an alertname nothing has.
		if err != nil && i == 0 && !strings.ContainsAny(arg, "=!~") {
			m, err = parse("alertname="+strconv.Quote(arg), "cli")
		}
		if err != nil {
			return nil, fmt.Errorf("matcher %q: %w", Printable(arg), err)
		}
		out = append(out, m)
	}
	return out, nil
}
