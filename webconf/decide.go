package webconf

import (
	"net/http"
	"slices"
)

// policy is what the configuration in force requires of a request.
type policy struct {
	// clientCert: the web config's client_auth_type requires a client
	// certificate (RequireAndVerifyClientCert or RequireAnyClientCert).
	clientCert bool
	// users: the web config has basic_auth_users.
	users bool
	// tokens: the auth file has bearer_tokens.
	tokens bool
	// auth is the auth file (rules, public paths); never nil.
	auth *AuthConfig
}

// basicResult is what the basic credentials of a request turned out to be.
type basicResult int

const (
	basicNone        basicResult = iota // no Basic Authorization header
	basicMalformed                      // a Basic header that does not decode
	basicRight                          // a known user with the right password
	basicWrong                          // a known user with a wrong password
	basicUnknownUser                    // a user not in basic_auth_users
	basicRateLimited                    // not checked: over the failed-login budget
)

// bearerResult is what the bearer token of a request turned out to be.
type bearerResult int

const (
	bearerNone    bearerResult = iota // no Bearer Authorization header
	bearerKnown                       // a token of the auth file
	bearerUnknown                     // any other token
)

// presented is what a request brought: a verified client certificate's
// identities, and its basic credentials or bearer token, already checked.
type presented struct {
	// certNames are "cert:NAME" identities of a verified client
	// certificate; empty without one.
	certNames []string
	basic     basicResult
	user      string
	bearer    bearerResult
	tokenName string
	// headers is the number of Authorization headers.
	headers int
	path    string
}

// method is how a request authenticated: the method label of
// warden_http_auth_success_total.
type method string

const (
	methodCert   method = "cert"
	methodBasic  method = "basic"
	methodBearer method = "bearer"
)

// verdict is decide's answer. An empty reason lets the request in.
type verdict struct {
	reason Reason
	status int
	// ids are the request's identities (for a refusal, those it claimed).
	ids []string
	// methods authenticated an admitted request.
	methods []method
	// rule is the auth file's rule that allowed the request, or nil.
	rule *Rule
}

// decide is the whole authentication and authorization decision for a
// request that is not on a public path. A reviewer can check it against
// this table, read top to bottom; the first row that applies decides.
// "Credentials required" means the web config has basic_auth_users or the
// auth file has bearer_tokens. Basic credentials count only when the web
// config has users, and a bearer token only when the auth file has tokens
// (as in exporter-toolkit, an Authorization header the server does not
// use is ignored).
//
//	 # | condition                                              | outcome
//	---+--------------------------------------------------------+-----------------------------------
//	 1 | client certificate required, none verified             | 401 tls_no_client_certificate
//	 2 | more than one Authorization header                     | 400 several_credentials
//	 3 | basic counts: malformed                                | 401 no_credentials
//	 4 | basic counts: over the failed-login budget             | 429 rate_limited
//	 5 | basic counts: unknown user                             | 401 unknown_user
//	 6 | basic counts: wrong password                           | 401 wrong_password
//	 7 | bearer counts: unknown token                           | 401 token_not_recognised
//	 8 | credentials required, none counted, and no certificate | 401 no_credentials
//	   | or no rules (a certificate replaces a password only    |
//	   | where a rule names it)                                 |
//	 9 | rules, and no identity at all                          | 401 no_credentials
//	10 | rules, and no rule names an identity for the path      | 403 forbidden_path
//	11 | otherwise                                              | let in, as every identity found
//
// The identities are the certificate's "cert:NAME" entries, then
// "user:NAME" or "token:NAME". TLS itself refuses row 1 before any
// request is read; the row is here so that the decision does not depend
// on it.
func decide(p policy, c presented) verdict {
	v := verdict{ids: slices.Clone(c.certNames)}
	if len(c.certNames) > 0 {
		v.methods = append(v.methods, methodCert)
	}
	refuse := func(r Reason, status int) verdict {
		v.reason, v.status, v.methods = r, status, nil
		return v
	}
	basic := p.users && c.basic != basicNone
	bearer := p.tokens && c.bearer != bearerNone
	switch {
	case p.clientCert && len(c.certNames) == 0:
		return refuse(ReasonNoClientCertificate, http.StatusUnauthorized)
	case c.headers > 1 || (c.basic != basicNone && c.bearer != bearerNone):
		return refuse(ReasonSeveralCredentials, http.StatusBadRequest)
	case basic:
		if c.basic != basicMalformed {
			v.ids = append(v.ids, "user:"+c.user)
		}
		switch c.basic {
		case basicMalformed:
			return refuse(ReasonNoCredentials, http.StatusUnauthorized)
		case basicRateLimited:
			return refuse(ReasonRateLimited, http.StatusTooManyRequests)
		case basicUnknownUser:
			return refuse(ReasonUnknownUser, http.StatusUnauthorized)
		case basicWrong:
			return refuse(ReasonWrongPassword, http.StatusUnauthorized)
		}
		v.methods = append(v.methods, methodBasic)
	case bearer:
		if c.bearer == bearerUnknown {
			return refuse(ReasonTokenNotRecognised, http.StatusUnauthorized)
		}
		v.ids = append(v.ids, "token:"+c.tokenName)
		v.methods = append(v.methods, methodBearer)
	case (p.users || p.tokens) && (len(c.certNames) == 0 || len(p.auth.Rules) == 0):
		return refuse(ReasonNoCredentials, http.StatusUnauthorized)
	}
	if len(p.auth.Rules) == 0 {
		return v
	}
	if len(v.ids) == 0 {
		return refuse(ReasonNoCredentials, http.StatusUnauthorized)
	}
	rule, ok := p.auth.authorize(v.ids, c.path)
	if !ok {
		return refuse(ReasonForbiddenPath, http.StatusForbidden)
	}
	v.rule = rule
	return v
}
