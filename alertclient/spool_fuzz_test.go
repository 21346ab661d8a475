package alertclient

// A fuzz target for the spool's batch files: what Flush reads back from a
// directory a crash, a full disk or a hand edit may have left it in.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzSpoolBatch checks the decoding of batch files. The content is tried
// as a whole file, and alertsJSON also as the alerts of a well-formed
// file with the right checksum, so that the fuzzer reaches what lies
// behind the checksum. A file decodes to alerts or to an error, never
// both; the alerts are some, and valid (a batch Alertmanager refuses would
// stay first in the spool and hold up every later alert); they encode
// into a batch that decodes equal. Flush of a spool holding the file
// delivers exactly those alerts and removes it, or sets it aside as
// *.corrupt with an error wrapping ErrSpoolCorrupt and delivers nothing.
func FuzzSpoolBatch(f *testing.F) {
	s, err := OpenSpool(filepath.Join(fuzzTempDir(f), "spool"), 0)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data, alertsJSON []byte) {
		sum := sha256.Sum256(alertsJSON)
		wellFormed, err := json.Marshal(batchFile{Version: spoolFormat, Alerts: alertsJSON, SHA256: hex.EncodeToString(sum[:])})
		if err != nil {
			wellFormed = nil // alertsJSON is not JSON: the file would not be either
		}
		for _, content := range [][]byte{data, wellFormed} {
			alerts, err := decodeBatch(content)
			if err != nil {
				if alerts != nil {
					t.Errorf("error %v, and %d alerts", err, len(alerts))
				}
			} else {
				checkBatch(t, alerts)
			}
			checkFlush(t, s, content, alerts, err)
		}
	})
}

func checkBatch(t *testing.T, alerts []Alert) {
	t.Helper()
	if len(alerts) == 0 {
		t.Fatal("decoded a batch without alerts")
	}
	if err := Validate(alerts); err != nil {
		t.Errorf("decoded a batch that no Alertmanager accepts, which would stay first in the spool: %v", err)
	}
	again, err := encodeBatch(alerts, time.Unix(0, 0))
	if err != nil {
		t.Fatalf("decoded alerts that do not encode: %v", err)
	}
	back, err := decodeBatch(again)
	if err != nil {
		t.Fatalf("re-encoded batch does not decode: %v", err)
	}
	checkSameAlerts(t, alerts, back)
}

// checkFlush puts content in s's directory as a batch file and flushes.
func checkFlush(t *testing.T, s *Spool, content []byte, want []Alert, decodeErr error) {
	t.Helper()
	const name = "00000000000000000001-00000000.json"
	path := filepath.Join(s.dir, name)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(path + spoolCorruptExt)
	var got []Alert
	calls := 0
	n, err := s.Flush(context.Background(), func(_ context.Context, alerts []Alert) error {
		calls++
		got = alerts
		return nil
	})
	if _, serr := os.Stat(path); !errors.Is(serr, os.ErrNotExist) {
		os.Remove(path)
		t.Errorf("batch file still there after Flush: %v", serr)
	}
	if decodeErr != nil {
		if calls != 0 || n != 0 || !errors.Is(err, ErrSpoolCorrupt) {
			t.Errorf("corrupt batch (%v): %d deliveries, %d alerts, error %v", decodeErr, calls, n, err)
		}
		if _, serr := os.Stat(path + spoolCorruptExt); serr != nil {
			t.Errorf("corrupt batch not set aside: %v", serr)
		}
		return
	}
	if err != nil || calls != 1 || n != len(want) {
		t.Fatalf("good batch: %d deliveries, %d alerts, error %v", calls, n, err)
	}
	checkSameAlerts(t, want, got)
}

// fuzzTempDir is a temporary directory in memory where there is one: a
// Flush syncs the directory, twice per input, which on a disk bounds the
// fuzzer to a few hundred inputs a second.
func fuzzTempDir(f *testing.F) string {
	dir, err := os.MkdirTemp("/dev/shm", "warden-fuzz-")
	if err != nil {
		return f.TempDir()
	}
	f.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
