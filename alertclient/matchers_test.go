package alertclient

import (
	"strings"
	"testing"
)

func TestMatchersFromArgs(t *testing.T) {
	tests := []struct {
		args []string
		want string // the matchers' String, joined by spaces; "" for an error
		err  string
	}{
		{[]string{"instance=node1"}, `instance="node1"`, ""},
		{[]string{`alertname=~"Disk.*"`, `severity!="info"`}, `alertname=~"Disk.*" severity!="info"`, ""},
		{[]string{"DiskFull", "instance=node1"}, `alertname="DiskFull" instance="node1"`, ""},
		{[]string{"Disk Full"}, `alertname="Disk Full"`, ""},
		{[]string{"instance=node1", "bare"}, "", `matcher "bare"`},
		{[]string{`alertname=~"(unclosed"`}, "", "error parsing regexp"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			ms, err := MatchersFromArgs(tt.args)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, %v; want an error with %q", ms, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range ms {
				got = append(got, m.String())
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("got %s, want %s", strings.Join(got, " "), tt.want)
			}
		})
	}
}
