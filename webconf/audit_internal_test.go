package webconf

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/warden-exporter/warden/internal/testlog"
)

// Refusals naming an existing user from ever new sources (an IPv6 /64
// gives an attacker plenty) are merged by user once there are maxMerged
// sources pending: memory and the lines of a flush stay bounded, and
// every refusal is still counted under the user. They used to keep an
// entry per source without bound.
func TestAuditMergesManySourcesByUser(t *testing.T) {
	buf := &testlog.Buffer{}
	a := newAuditLog(slog.New(slog.NewJSONHandler(buf, nil)))
	const n = 3 * maxMerged
	for i := range n {
		src := fmt.Sprintf("2001:db8::%x", i)
		a.refused(auditEntry{reason: ReasonWrongPassword, remote: "[" + src + "]:1234", source: src, user: "prometheus"})
	}
	a.mu.Lock()
	pending := len(a.pending)
	a.mu.Unlock()
	if pending > maxMerged {
		t.Errorf("%d entries pending, want at most %d", pending, maxMerged)
	}
	for range maxMerged/maxMergedLines + 1 {
		a.flush()
	}
	total, many := 0, 0
	for line := range strings.Lines(buf.String()) {
		var e struct {
			Msg, User, Source string
			Count             int
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if e.User != "prometheus" {
			t.Fatalf("a line without the user: %s", line)
		}
		switch e.Msg {
		case "request refused":
			total++
		case "requests refused":
			total += e.Count
			if e.Source == "(many)" {
				many++
			}
		}
	}
	if total != n || many != 1 {
		t.Errorf("the log counts %d refusals (%d lines for many sources), want %d in all and one such line", total, many, n)
	}
}
