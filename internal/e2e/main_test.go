//go:build e2e

package e2e

import (
	"testing"

	"github.com/warden-exporter/warden/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
