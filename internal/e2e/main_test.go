//go:build e2e

package e2e

import (
	"testing"

	"github.com/warden-exporter/warden/internal/testenv"
)

// bins are Warden's binaries, built by TestMain before any test runs.
var bins testenv.Binaries

func TestMain(m *testing.M) { testenv.Main(m, &bins) }
