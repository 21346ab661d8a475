package alertclient

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// hostile is text a server could send to take over the terminal it is
// printed on: clear the screen, move the cursor home, print a lie, reverse
// the rest of the line (U+202E), and a C1 CSI (0x9b) and a stray byte that
// are not UTF-8.
const hostile = "\x1b[2J\x1b[1;1HALL CLEAR\u202e\x9b\xff"

// hostileEscaped is hostile as Printable writes it.
const hostileEscaped = `\x1b[2J\x1b[1;1HALL CLEAR\u202e\x9b\xff`

// unprintable reports whether a terminal could act on s: it holds a byte
// that is not UTF-8, or a rune that is not printable (a newline too,
// unless newlines).
func unprintable(s string, newlines bool) bool {
	return !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) && (r != '\n' || !newlines) })
}

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"disk / is full", "disk / is full"},
		{`C:\path "quoted"`, `C:\path "quoted"`},
		{"naïve 日本", "naïve 日本"},
		{hostile, hostileEscaped},
		{"tab\tnewline\nbell\a del\x7f", `tab\tnewline\nbell\a del\x7f`},
		{"\u0085 next line, \u2028 line separator, \u200b zero width", `\u0085 next line, \u2028 line separator, \u200b zero width`},
		{"\U000e0041 tag", `\U000e0041 tag`},
	}
	for _, tt := range tests {
		got := Printable(tt.in)
		if got != tt.want {
			t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if unprintable(got, false) {
			t.Errorf("Printable(%q) = %q is not printable", tt.in, got)
		}
	}
}

// What a server says reaches the caller's errors escaped: Alertmanager's
// refusal (a POST and a query), and label names in Alert.String. They used
// to be copied raw, so that printing the error cleared the operator's
// screen.
func TestServerTextIsEscapedInErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, hostile)
	}))
	defer srv.Close()
	c, err := New(Options{Config: testConfig(t, "", nil, srv.URL), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	_, sendErr := c.Send(context.Background(), alertsNamed("A"))
	_, queryErr := c.Query(context.Background(), nil)
	for what, err := range map[string]error{"Send": sendErr, "Query": queryErr} {
		if err == nil {
			t.Errorf("%s: no error", what)
			continue
		}
		if unprintable(err.Error(), true) {
			t.Errorf("%s error is not printable: %q", what, err)
		}
		if !strings.Contains(err.Error(), hostileEscaped) {
			t.Errorf("%s error %q does not show the body escaped", what, err)
		}
	}

	s := Alert{Labels: map[string]string{"\x1b]0;owned\a": hostile}}.String()
	if unprintable(s, false) {
		t.Errorf("Alert.String() = %q is not printable", s)
	}
}
