package webconf

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// reload installs the files' new content when it changed: once the files
// have stopped changing (two reads a settle interval apart agree), when it
// is valid, and when it takes no protection away. Otherwise the last good
// configuration stays in force, and the refusal is logged (with what it
// would remove) and counted. A restart applies a weaker configuration
// deliberately.
func (s *Server) reload() {
	cur := s.state.Load()
	first := cur.sums()
	if slices.Equal(first, cur.files) {
		if s.refused != nil { // the files are back to what is in force
			s.refused = nil
			s.metrics.reloadOK.Set(1)
		}
		return
	}
	if slices.Equal(first, s.refused) {
		return
	}
	time.Sleep(s.settle())
	if !slices.Equal(first, cur.sums()) {
		s.opts.Logger.Debug("configuration files still changing; reading them at the next check")
		return
	}
	st, err := loadState(s.opts.webConfigFile(), s.opts.authFile(), s.opts.loadOptions())
	if err != nil {
		s.refuseReload(first, "configuration changed but is not valid; keeping the last good one", "err", err)
		return
	}
	if reason := s.cannotApply(st); reason != "" {
		s.refuseReload(st.files, "configuration changed in a way that needs a restart; keeping the last good one", "reason", reason)
		return
	}
	if removed := weakenings(cur, st); len(removed) > 0 {
		s.refuseReload(st.files, "configuration changed in a way that would weaken security; keeping the last good one (a restart applies it deliberately)",
			"would_remove", strings.Join(removed, "; "))
		return
	}
	s.refused = nil
	s.install(st)
	s.opts.Logger.Info("configuration reloaded")
}

func (s *Server) refuseReload(files []fileSum, msg string, args ...any) {
	s.refused = files
	s.metrics.reloadFailed()
	s.opts.Logger.Error(msg, args...)
}

// settle is how long files must stay unchanged before they are read.
func (s *Server) settle() time.Duration {
	return min(max(s.opts.ReloadInterval/5, 10*time.Millisecond), time.Second)
}

// cannotApply says why st cannot replace the running state, or "".
func (s *Server) cannotApply(st *state) string {
	cur := s.state.Load()
	if (st.tls != nil) != (cur.tls != nil) {
		return "TLS turned on or off"
	}
	// The server's protocol handlers are set up at start: HTTP/2 turned
	// on later would be offered to clients and their connections closed.
	// Without TLS the setting does nothing.
	if cur.tls != nil && st.web.HTTPConfig.HTTP2 != cur.web.HTTPConfig.HTTP2 {
		return "http_server_config.http2 changed"
	}
	if !st.secure && !s.opts.allowInsecure() {
		for _, l := range s.listeners {
			if !isLoopback(l.Addr()) {
				return "TLS or authentication turned off while serving " + l.Addr().String()
			}
		}
	}
	return ""
}

// weakenings lists the protections that cur has and next would drop: what
// a file cut short by a failed write, or rewritten in place, loses first.
func weakenings(cur, next *state) []string {
	var out []string
	if cur.policy.users && !next.policy.users {
		out = append(out, "the password requirement (basic_auth_users)")
	}
	if cur.policy.clientCert && !next.policy.clientCert {
		out = append(out, "the client certificate requirement (client_auth_type)")
	}
	if cur.web.TLSConfig.ClientAuth == requireAndVerifyClientCert && next.web.TLSConfig.ClientAuth != requireAndVerifyClientCert {
		out = append(out, "client certificate verification (RequireAndVerifyClientCert)")
	}
	if len(cur.web.TLSConfig.ClientAllowedSans) > 0 && len(next.web.TLSConfig.ClientAllowedSans) == 0 {
		out = append(out, "client_allowed_sans")
	}
	if len(cur.auth.Rules) > 0 && len(next.auth.Rules) == 0 {
		out = append(out, "every rule of the auth file")
	}
	for i, r := range cur.auth.Rules {
		if r.Collectors == nil {
			continue
		}
		if !slices.ContainsFunc(next.auth.Rules, func(n Rule) bool { return n.Collectors != nil && sameSubjects(r, n) }) {
			out = append(out, fmt.Sprintf("the collector limit of rules[%d] (%s)", i, strings.Join(r.Identities, ", ")))
		}
	}
	for _, p := range next.auth.PublicPaths {
		if !slices.Contains(cur.auth.PublicPaths, p) {
			out = append(out, fmt.Sprintf("authentication on %s (new public path)", p))
		}
	}
	return out
}

// sameSubjects reports whether two rules are for the same identities and paths.
func sameSubjects(a, b Rule) bool {
	return slices.Equal(a.Identities, b.Identities) && slices.Equal(a.Paths, b.Paths)
}
