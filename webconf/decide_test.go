package webconf

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
)

var updateDecisions = flag.Bool("update", false, "rewrite testdata/decisions.txt from decide")

// combo is one request against one configuration.
type combo struct {
	cert                  bool // a verified client certificate
	basic                 basicResult
	bearer                bearerResult
	requireCert, users    bool
	rules                 bool // an auth file with tokens and rules; else none
	basicName, bearerName string
}

func combos() []combo {
	var out []combo
	basics := []struct {
		r    basicResult
		name string
	}{{basicNone, "none"}, {basicRight, "right"}, {basicWrong, "wrong"}, {basicUnknownUser, "unknown user"}}
	bearers := []struct {
		r    bearerResult
		name string
	}{{bearerNone, "none"}, {bearerKnown, "known"}, {bearerUnknown, "unknown"}}
	for _, cert := range []bool{false, true} {
		for _, b := range basics {
			for _, t := range bearers {
				for _, requireCert := range []bool{true, false} {
					for _, users := range []bool{true, false} {
						for _, rules := range []bool{false, true} {
							out = append(out, combo{cert: cert, basic: b.r, bearer: t.r, requireCert: requireCert, users: users, rules: rules, basicName: b.name, bearerName: t.name})
						}
					}
				}
			}
		}
	}
	return out
}

func (c combo) String() string {
	return fmt.Sprintf("cert=%-8s basic=%-12s bearer=%-7s | requires cert=%-3s users=%-3s auth file=%-5s",
		yesNo(c.cert, "verified", "none"), c.basicName, c.bearerName,
		yesNo(c.requireCert, "yes", "no"), yesNo(c.users, "yes", "no"), yesNo(c.rules, "rules", "none"))
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// rulesAuth is the auth file of the "rules" rows: the password and the
// token reach /metrics; the client certificate only /other.
var rulesAuth = &AuthConfig{
	BearerTokens: map[string]string{"ci": "sha256:" + strings.Repeat("0", 64)},
	Rules: []Rule{
		{Identities: []string{"user:prometheus", "token:ci"}, Paths: []string{"/metrics"}, Collectors: []string{"cpu"}},
		{Identities: []string{"cert:prometheus.test"}, Paths: []string{"/other"}},
	},
	FailedAuth: DefaultFailedAuth,
}

func (c combo) decide() verdict {
	p := policy{clientCert: c.requireCert, users: c.users, auth: &AuthConfig{FailedAuth: DefaultFailedAuth}}
	if c.rules {
		p.tokens, p.auth = true, rulesAuth
	}
	in := presented{basic: c.basic, bearer: c.bearer, path: "/metrics"}
	if c.cert {
		in.certNames = []string{"cert:prometheus.test"}
	}
	if c.basic != basicNone {
		in.user = "prometheus"
		in.headers++
	}
	if c.bearer == bearerKnown {
		in.tokenName = "ci"
	}
	if c.bearer != bearerNone {
		in.headers++
	}
	return in.decideWith(p)
}

func (c presented) decideWith(p policy) verdict { return decide(p, c) }

// basicCounts and bearerCounts: the credential is one the configuration
// uses (users for basic; tokens, which come with the rules' auth file).
func (c combo) basicCounts() bool  { return c.users && c.basic != basicNone }
func (c combo) bearerCounts() bool { return c.rules && c.bearer != bearerNone }

// docRows are the rows of decide's doc comment, as predicates on a combo,
// in the same order: the first that applies gives the outcome. Rows 3 and
// 4 (malformed, rate limited) and 9 (rules without any credential
// configured) lie outside these combinations: TestDecisionSpotChecks has them.
var docRows = []struct {
	row    int
	when   func(c combo) bool
	reason Reason
	status int
}{
	{1, func(c combo) bool { return c.requireCert && !c.cert }, ReasonNoClientCertificate, http.StatusUnauthorized},
	{2, func(c combo) bool { return c.basic != basicNone && c.bearer != bearerNone }, ReasonSeveralCredentials, http.StatusBadRequest},
	{5, func(c combo) bool { return c.basicCounts() && c.basic == basicUnknownUser }, ReasonUnknownUser, http.StatusUnauthorized},
	{6, func(c combo) bool { return c.basicCounts() && c.basic == basicWrong }, ReasonWrongPassword, http.StatusUnauthorized},
	{7, func(c combo) bool { return !c.basicCounts() && c.bearerCounts() && c.bearer == bearerUnknown }, ReasonTokenNotRecognised, http.StatusUnauthorized},
	{8, func(c combo) bool {
		return (c.users || c.rules) && !c.basicCounts() && !c.bearerCounts() && (!c.cert || !c.rules)
	}, ReasonNoCredentials, http.StatusUnauthorized},
	{10, func(c combo) bool {
		// Only the certificate identifies the request, and its rule is for /other.
		return c.rules && !c.basicCounts() && !c.bearerCounts()
	}, ReasonForbiddenPath, http.StatusForbidden},
	{11, func(combo) bool { return true }, "", 0},
}

// TestDecisionTable checks decide on every combination of what a request
// presents and what the configuration requires: against the rows of its
// doc comment, and against testdata/decisions.txt, the whole table
// written out for review (go test -run DecisionTable -update rewrites it).
func TestDecisionTable(t *testing.T) {
	var table strings.Builder
	hit := map[int]int{}
	for _, c := range combos() {
		v := c.decide()
		outcome := "let in as " + strings.Join(v.ids, ",")
		if len(v.ids) == 0 {
			outcome = "let in, no identity"
		}
		if v.rule != nil && v.rule.Collectors != nil {
			outcome += fmt.Sprintf(" (collectors %v)", v.rule.Collectors)
		}
		if v.reason != "" {
			outcome = fmt.Sprintf("%d %s", v.status, v.reason)
		}
		fmt.Fprintf(&table, "%s | %s\n", c, outcome)

		for _, r := range docRows {
			if !r.when(c) {
				continue
			}
			hit[r.row]++
			if v.reason != r.reason || (r.reason != "" && v.status != r.status) {
				t.Errorf("%s: got %d %q, doc row %d says %d %q", c, v.status, v.reason, r.row, r.status, r.reason)
			}
			break
		}
		if v.reason == "" {
			if len(v.methods) == 0 && (c.users || c.rules || c.cert) {
				t.Errorf("%s: let in without an authentication method", c)
			}
		} else if v.methods != nil {
			t.Errorf("%s: refused, yet methods %v would count as successes", c, v.methods)
		}
	}
	for _, row := range []int{1, 2, 5, 6, 7, 8, 10, 11} {
		if hit[row] == 0 {
			t.Errorf("doc row %d is never reached by the combinations", row)
		}
	}

	const golden = "testdata/decisions.txt"
	if *updateDecisions {
		if err := os.WriteFile(golden, []byte(table.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := table.String(); got != string(want) {
		t.Errorf("decisions differ from %s (rerun with -update and review the diff):\n%s", golden, got)
	}
}

// Rows of the table that matter most, spelled out.
func TestDecisionSpotChecks(t *testing.T) {
	noAuth := &AuthConfig{FailedAuth: DefaultFailedAuth}
	tests := []struct {
		name   string
		p      policy
		in     presented
		reason Reason
		ids    string
		limit  []string
	}{
		{"right password, no certificate needed", policy{users: true, auth: noAuth},
			presented{basic: basicRight, user: "prometheus", headers: 1}, "", "user:prometheus", nil},
		{"a certificate does not replace the password without rules", policy{users: true, auth: noAuth},
			presented{certNames: []string{"cert:prometheus.test"}}, ReasonNoCredentials, "", nil},
		{"a good certificate does not excuse a wrong password", policy{users: true, auth: rulesAuth, tokens: true},
			presented{certNames: []string{"cert:prometheus.test"}, basic: basicWrong, user: "prometheus", headers: 1, path: "/other"}, ReasonWrongPassword, "", nil},
		{"the certificate alone where its rule allows", policy{users: true, auth: rulesAuth, tokens: true},
			presented{certNames: []string{"cert:prometheus.test"}, path: "/other"}, "", "cert:prometheus.test", nil},
		{"the token's rule limits collectors", policy{auth: rulesAuth, tokens: true},
			presented{bearer: bearerKnown, tokenName: "ci", headers: 1, path: "/metrics"}, "", "token:ci", []string{"cpu"}},
		{"two Authorization headers", policy{users: true, auth: noAuth},
			presented{basic: basicRight, user: "prometheus", headers: 2}, ReasonSeveralCredentials, "", nil},
		{"a malformed Basic header", policy{users: true, auth: noAuth},
			presented{basic: basicMalformed, headers: 1}, ReasonNoCredentials, "", nil},
		{"over the failed-login budget", policy{users: true, auth: noAuth},
			presented{basic: basicRateLimited, user: "x", headers: 1}, ReasonRateLimited, "", nil},
		{"TLS only: anyone", policy{auth: noAuth}, presented{}, "", "", nil},
		{"rules but no credential configured, and none presented", policy{auth: &AuthConfig{Rules: rulesAuth.Rules[1:]}},
			presented{path: "/other"}, ReasonNoCredentials, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := decide(tt.p, tt.in)
			if v.reason != tt.reason {
				t.Fatalf("reason %q, want %q", v.reason, tt.reason)
			}
			if tt.reason != "" {
				return
			}
			if got := strings.Join(v.ids, ","); got != tt.ids {
				t.Errorf("identities %q, want %q", got, tt.ids)
			}
			var limit []string
			if v.rule != nil {
				limit = v.rule.Collectors
			}
			if fmt.Sprint(limit) != fmt.Sprint(tt.limit) {
				t.Errorf("collectors %v, want %v", limit, tt.limit)
			}
		})
	}
}
