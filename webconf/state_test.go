package webconf

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// Unknown users are checked against a decoy hash of the same cost as the
// real ones, so that a wrong password and an unknown user take as long
// (exporter-toolkit's decoy has a fixed cost of 10).
func TestDecoyHasTheUsersCost(t *testing.T) {
	for _, cost := range []int{bcrypt.MinCost, 12} {
		h, err := bcrypt.GenerateFromPassword([]byte("pw"), cost)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "web.yml")
		if err := os.WriteFile(path, []byte("basic_auth_users:\n  u: "+string(h)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := loadState(path, "", loadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := bcrypt.Cost(s.decoy)
		if err != nil {
			t.Fatal(err)
		}
		if got != cost {
			t.Errorf("users of cost %d: decoy cost %d", cost, got)
		}
	}
}
