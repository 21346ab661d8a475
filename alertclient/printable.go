package alertclient

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Printable returns s with every rune that is not printable written as in
// a Go string literal (\x1b, \n, \u202e), and every byte that is not UTF-8
// as \xff. Text from a server printed through it cannot drive the terminal
// it is printed on: clear the screen, move the cursor, set the window
// title, or reverse the rest of a line. Printable text, backslashes
// included, is returned unchanged, so that a message stays readable.
//
// The errors this package builds from what Alertmanager sent (a refusal's
// body, where a redirect pointed) have been through Printable; a program
// printing alerts from Query passes their labels and annotations through
// it.
func Printable(s string) string {
	if firstUnprintable(s) < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case !unicode.IsPrint(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// firstUnprintable returns the index of the first rune of s that is not
// printable or not UTF-8, or -1.
func firstUnprintable(s string) int {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || !unicode.IsPrint(r) {
			return i
		}
		i += size
	}
	return -1
}
