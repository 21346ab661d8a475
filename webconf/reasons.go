package webconf

// Reason is why the security layer refused a request or a connection: the
// reason label of warden_http_requests_refused_total. Its Text is what the
// audit line says.
type Reason string

// Refusals of a request, decided by decide.
const (
	ReasonNoCredentials       Reason = "no_credentials"
	ReasonUnknownUser         Reason = "unknown_user"
	ReasonWrongPassword       Reason = "wrong_password"
	ReasonTokenNotRecognised  Reason = "token_not_recognised"
	ReasonSeveralCredentials  Reason = "several_credentials"
	ReasonForbiddenPath       Reason = "forbidden_path"
	ReasonRateLimited         Reason = "rate_limited"
	ReasonOverFairShare       Reason = "over_fair_share"
	ReasonNoClientCertificate Reason = "tls_no_client_certificate"
)

// Refusals of a connection, from its TLS handshake (see tlsReason).
const (
	ReasonUnknownAuthority      Reason = "tls_unknown_authority"
	ReasonCertificateExpired    Reason = "tls_certificate_expired"
	ReasonSANNotAllowed         Reason = "tls_san_not_allowed"
	ReasonBadCertificate        Reason = "tls_bad_certificate"
	ReasonPlainHTTP             Reason = "tls_plain_http"
	ReasonHandshakeFailed       Reason = "tls_handshake_failed"
	ReasonClientRejectedOurCert Reason = "tls_client_rejected_our_cert"
)

var reasonText = map[Reason]string{
	ReasonNoCredentials:         "no credentials",
	ReasonUnknownUser:           "unknown user",
	ReasonWrongPassword:         "wrong password",
	ReasonTokenNotRecognised:    "token not recognised",
	ReasonSeveralCredentials:    "more than one credential in Authorization headers",
	ReasonForbiddenPath:         "forbidden path",
	ReasonRateLimited:           "too many new credentials, not checked",
	ReasonOverFairShare:         "client holds its fair share of --web.max-requests already",
	ReasonNoClientCertificate:   "no client certificate",
	ReasonUnknownAuthority:      "client certificate signed by unknown authority",
	ReasonCertificateExpired:    "client certificate expired or not yet valid",
	ReasonSANNotAllowed:         "client certificate has no allowed SAN",
	ReasonBadCertificate:        "client certificate rejected",
	ReasonPlainHTTP:             "plain HTTP request to the TLS port",
	ReasonHandshakeFailed:       "TLS handshake failed",
	ReasonClientRejectedOurCert: "client rejected the server certificate",
}

// Text is the reason as the audit line writes it.
func (r Reason) Text() string { return reasonText[r] }

// Reasons returns every reason, for metrics that start at zero.
func Reasons() []Reason {
	out := make([]Reason, 0, len(reasonText))
	for r := range reasonText {
		out = append(out, r)
	}
	return out
}
