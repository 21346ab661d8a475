package alertclient

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// spoolBatch returns batch number seq: n alerts labelled with seq, with an
// annotation of pad bytes so that batches differ in size.
func spoolBatch(seq, n, pad int) []Alert {
	start := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)
	alerts := make([]Alert, n)
	for i := range alerts {
		alerts[i] = Alert{
			Labels: map[string]string{
				"alertname": "SpoolTest",
				"seq":       strconv.Itoa(seq),
				"i":         strconv.Itoa(i),
			},
			Annotations:  map[string]string{"description": strings.Repeat("x", pad)},
			StartsAt:     start.Add(time.Duration(seq) * time.Second),
			GeneratorURL: "http://prometheus.example/graph?g0.expr=up",
		}
	}
	return alerts
}

func batchSeq(t testing.TB, alerts []Alert) int {
	t.Helper()
	seq, err := strconv.Atoi(alerts[0].Labels["seq"])
	if err != nil {
		t.Fatalf("batch without seq label: %v", alerts)
	}
	return seq
}

// spoolRecorder is a deliver function that records the batches it gets
// and fails those listed in fail.
type spoolRecorder struct {
	t    testing.TB
	mu   sync.Mutex
	seqs []int
	fail map[int]error
	wait time.Duration
}

func (r *spoolRecorder) deliver(_ context.Context, alerts []Alert) error {
	seq := batchSeq(r.t, alerts)
	time.Sleep(r.wait)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.fail[seq]; err != nil {
		return err
	}
	r.seqs = append(r.seqs, seq)
	return nil
}

func (r *spoolRecorder) delivered() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seqs)
}

func openTestSpool(t *testing.T, dir string, maxBytes int64) *Spool {
	t.Helper()
	s, err := OpenSpool(dir, maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// putBatches puts batches 0..n-1, batch i holding i%3+1 alerts.
func putBatches(t *testing.T, s *Spool, n int) (alerts int) {
	t.Helper()
	for seq := range n {
		if err := s.Put(spoolBatch(seq, seq%3+1, 10*seq)); err != nil {
			t.Fatalf("put batch %d: %v", seq, err)
		}
		alerts += seq%3 + 1
	}
	return alerts
}

// spoolFiles lists the spool's files whose names end with suffix.
func spoolFiles(t *testing.T, dir, suffix string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), suffix) {
			names = append(names, e.Name())
		}
	}
	return names
}

func TestSpoolOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "spool")
	openTestSpool(t, dir, 0)
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("spool directory mode %v, want 0700", perm)
	}

	if _, err := OpenSpool(t.TempDir(), -1); err == nil {
		t.Error("negative max bytes accepted")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSpool(file, 0); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("OpenSpool on a file: %v, want an error naming it", err)
	}
}

func TestSpoolPutFlushDeliversOldestFirst(t *testing.T) {
	for _, n := range []int{0, 1, 7} {
		t.Run(fmt.Sprintf("%d batches", n), func(t *testing.T) {
			dir := t.TempDir()
			s := openTestSpool(t, dir, 0)
			alerts := putBatches(t, s, n)
			if err := s.Put(nil); err != nil {
				t.Errorf("empty Put: %v", err)
			}

			st, err := s.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if st.Batches != n || st.Alerts != alerts || st.Corrupt != 0 || (n > 0) != (st.Bytes > 0) {
				t.Errorf("stats %+v, want %d batches, %d alerts", st, n, alerts)
			}

			rec := &spoolRecorder{t: t}
			got, err := s.Flush(context.Background(), rec.deliver)
			if err != nil || got != alerts {
				t.Fatalf("Flush = %d, %v; want %d, nil", got, err, alerts)
			}
			want := []int{}
			for seq := range n {
				want = append(want, seq)
			}
			if seqs := rec.delivered(); !slices.Equal(seqs, want) && (len(seqs) != 0 || n != 0) {
				t.Errorf("delivered batches %v, want %v", seqs, want)
			}
			if st, err := s.Stats(); err != nil || st != (SpoolStats{}) {
				t.Errorf("stats after flush %+v, %v; want zero", st, err)
			}
			if files := spoolFiles(t, dir, ""); slices.ContainsFunc(files, func(f string) bool {
				return strings.HasSuffix(f, ".json") || strings.HasSuffix(f, ".tmp")
			}) {
				t.Errorf("files left after flush: %v", files)
			}
		})
	}
}

func TestSpoolDeliverErrorKeepsBatchAndStops(t *testing.T) {
	errDown := errors.New("alertmanager down")
	tests := []struct {
		failSeq       int
		wantFirst     []int
		wantDelivered int // alerts in wantFirst
	}{
		{failSeq: 0, wantFirst: nil, wantDelivered: 0},
		{failSeq: 1, wantFirst: []int{0}, wantDelivered: 1},
		{failSeq: 3, wantFirst: []int{0, 1, 2}, wantDelivered: 6},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("batch %d fails", tt.failSeq), func(t *testing.T) {
			dir := t.TempDir()
			s := openTestSpool(t, dir, 0)
			alerts := putBatches(t, s, 5)

			rec := &spoolRecorder{t: t, fail: map[int]error{tt.failSeq: errDown}}
			n, err := s.Flush(context.Background(), rec.deliver)
			if !errors.Is(err, errDown) || n != tt.wantDelivered {
				t.Fatalf("Flush = %d, %v; want %d and the deliver error", n, err, tt.wantDelivered)
			}
			if !slices.Equal(rec.delivered(), tt.wantFirst) {
				t.Errorf("delivered %v, want %v", rec.delivered(), tt.wantFirst)
			}
			st, err := s.Stats()
			if err != nil || st.Batches != 5-len(tt.wantFirst) || st.Alerts != alerts-tt.wantDelivered {
				t.Errorf("stats %+v, %v: want the undelivered batches kept", st, err)
			}

			rec.fail = nil
			n, err = s.Flush(context.Background(), rec.deliver)
			if err != nil || n != alerts-tt.wantDelivered {
				t.Fatalf("second Flush = %d, %v; want %d, nil", n, err, alerts-tt.wantDelivered)
			}
			if got := rec.delivered(); !slices.Equal(got, []int{0, 1, 2, 3, 4}) {
				t.Errorf("delivered overall %v, want every batch once, in order", got)
			}
			if st, err := s.Stats(); err != nil || st != (SpoolStats{}) {
				t.Errorf("stats %+v, %v; want zero", st, err)
			}
		})
	}
}

func TestSpoolMaxBytes(t *testing.T) {
	one, err := encodeBatch(spoolBatch(0, 1, 0), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	size := int64(len(one)) // give or take the trailing zeros of the creation time
	tests := []struct {
		name     string
		maxBytes int64
		puts     int
		wantOK   int
	}{
		{"no bound", 0, 20, 20},
		{"smaller than a batch", size / 2, 1, 0},
		{"room for two", 2*size + size/2, 3, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openTestSpool(t, dir, tt.maxBytes)
			for i := range tt.puts {
				err := s.Put(spoolBatch(i, 1, 0))
				if i < tt.wantOK {
					if err != nil {
						t.Fatalf("put %d: %v", i, err)
					}
					continue
				}
				if !errors.Is(err, ErrSpoolFull) {
					t.Fatalf("put %d: %v, want ErrSpoolFull", i, err)
				}
				for _, part := range []string{dir, strconv.FormatInt(tt.maxBytes, 10)} {
					if !strings.Contains(err.Error(), part) {
						t.Errorf("error %q does not name %s", err, part)
					}
				}
			}
			if got := spoolFiles(t, dir, ".json"); len(got) != tt.wantOK {
				t.Errorf("%d batch files, want %d", len(got), tt.wantOK)
			}
			if got := spoolFiles(t, dir, ".tmp"); len(got) != 0 {
				t.Errorf("temp files left: %v", got)
			}
			st, err := s.Stats()
			if err != nil || st.Batches != tt.wantOK || (tt.maxBytes > 0 && st.Bytes > tt.maxBytes) {
				t.Errorf("stats %+v, %v", st, err)
			}

			// Delivering makes room again.
			if _, err := s.Flush(context.Background(), (&spoolRecorder{t: t}).deliver); err != nil {
				t.Fatal(err)
			}
			if tt.wantOK > 0 {
				if err := s.Put(spoolBatch(99, 1, 0)); err != nil {
					t.Errorf("put after flush: %v", err)
				}
			}
		})
	}
}

func TestSpoolCorruptFileIsReportedNotDelivered(t *testing.T) {
	flip := func(marker string, offset int) func([]byte) []byte {
		return func(b []byte) []byte {
			i := bytes.Index(b, []byte(marker))
			if i < 0 {
				panic("marker " + marker + " not in batch file")
			}
			b[i+offset] ^= 0x01
			return b
		}
	}
	tests := []struct {
		name   string
		mutate func([]byte) []byte
		reason string
	}{
		{"truncated to half", func(b []byte) []byte { return b[:len(b)/2] }, "bad JSON"},
		{"last byte torn off", func(b []byte) []byte { return b[:len(b)-2] }, "bad JSON"},
		{"empty", func([]byte) []byte { return nil }, "empty file"},
		{"zeroed block", func(b []byte) []byte { return make([]byte, len(b)) }, "bad JSON"},
		{"byte flipped in an alert", flip("SpoolTest", 3), "checksum mismatch"},
		{"byte flipped in the time", flip(`"startsAt":"2025`, 14), "checksum mismatch"},
		{"byte flipped in the checksum", flip(`"sha256":"`, 10), "checksum mismatch"},
		{"unknown version", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"version":1`), []byte(`"version":7`), 1)
		}, "unsupported version 7"},
		{"no alerts", func(b []byte) []byte {
			return []byte(`{"version":1,"created":"2025-03-01T12:00:00Z","alerts":[],"sha256":"4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"}`)
		}, "no alerts"},
		{"trailing garbage", func(b []byte) []byte { return append(b, "}}"...) }, "bad JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			putBatches(t, openTestSpool(t, dir, 0), 3) // 1, 2 and 3 alerts
			name := spoolFiles(t, dir, ".json")[1]
			path := filepath.Join(dir, name)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			bad := tt.mutate(data)
			if err := os.WriteFile(path, bad, 0o600); err != nil {
				t.Fatal(err)
			}

			s := openTestSpool(t, dir, 0)
			st, err := s.Stats()
			if err != nil || st.Batches != 2 || st.Alerts != 4 || st.Corrupt != 1 {
				t.Errorf("stats before flush %+v, %v; want 2 batches, 4 alerts, 1 corrupt", st, err)
			}
			rec := &spoolRecorder{t: t}
			n, err := s.Flush(context.Background(), rec.deliver)
			if n != 4 || !slices.Equal(rec.delivered(), []int{0, 2}) {
				t.Errorf("delivered %d alerts, batches %v; want 4 alerts, batches [0 2]", n, rec.delivered())
			}
			if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("Flush error %v, want one naming %s and %q", err, name, tt.reason)
			}
			kept, rerr := os.ReadFile(path + ".corrupt")
			if rerr != nil || !bytes.Equal(kept, bad) {
				t.Errorf("corrupt file not kept as it was: %v", rerr)
			}
			if _, err := os.Stat(path); err == nil {
				t.Error("corrupt batch file still in place")
			}
			if st, err := s.Stats(); err != nil || st != (SpoolStats{Corrupt: 1}) {
				t.Errorf("stats after flush %+v, %v; want only 1 corrupt", st, err)
			}
			// Reported once; the .corrupt file waits for the operator.
			if n, err := s.Flush(context.Background(), rec.deliver); n != 0 || err != nil {
				t.Errorf("second Flush = %d, %v; want 0, nil", n, err)
			}
		})
	}
}

// Whatever single byte of a batch file changes, and wherever the file is
// cut short, decodeBatch either rejects it or returns the very alerts that
// were written.
func TestSpoolDecodeDetectsEveryByteFlipAndTear(t *testing.T) {
	alerts := spoolBatch(42, 2, 5)
	alerts[1].EndsAt = alerts[1].StartsAt.Add(time.Hour)
	data, err := encodeBatch(alerts, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(alerts)
	if got, err := decodeBatch(data); err != nil {
		t.Fatalf("intact batch: %v", err)
	} else if b, _ := json.Marshal(got); !bytes.Equal(b, want) {
		t.Fatalf("intact batch decodes to %s, want %s", b, want)
	}

	for i := range data {
		for _, mask := range []byte{0x01, 0x02, 0x20, 0x80} {
			bad := slices.Clone(data)
			bad[i] ^= mask
			got, err := decodeBatch(bad)
			if err != nil {
				continue
			}
			if b, _ := json.Marshal(got); !bytes.Equal(b, want) {
				t.Fatalf("byte %d ^ %#x accepted with other alerts: %s", i, mask, b)
			}
		}
	}
	for n := range len(data) - 1 { // the last byte is the newline
		if _, err := decodeBatch(data[:n]); err == nil {
			t.Fatalf("batch cut to %d of %d bytes accepted", n, len(data))
		}
	}
}

func TestSpoolTempFiles(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "tmp-1.tmp")
	young := filepath.Join(dir, "tmp-2.tmp")
	for _, p := range []string{old, young} {
		if err := os.WriteFile(p, []byte(`{"version":1,"alerts":[`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-2 * time.Minute)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	s := openTestSpool(t, dir, 0)
	if _, err := os.Stat(old); err == nil {
		t.Error("OpenSpool kept a temp file two minutes old")
	}
	if _, err := os.Stat(young); err != nil {
		t.Errorf("OpenSpool removed a young temp file, maybe a Put in flight: %v", err)
	}
	if st, err := s.Stats(); err != nil || st != (SpoolStats{}) {
		t.Errorf("stats %+v, %v; temp files must not count", st, err)
	}
	if err := os.Chtimes(young, past, past); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Flush(context.Background(), (&spoolRecorder{t: t}).deliver); n != 0 || err != nil {
		t.Errorf("Flush = %d, %v", n, err)
	}
	if _, err := os.Stat(young); err == nil {
		t.Error("Flush kept a temp file two minutes old")
	}
}

func TestSpoolBusyFlushWaitsForContext(t *testing.T) {
	dir := t.TempDir()
	s := openTestSpool(t, dir, 0)
	putBatches(t, s, 2)

	entered, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		var once sync.Once
		_, err := s.Flush(context.Background(), func(context.Context, []Alert) error {
			once.Do(func() { close(entered) })
			<-release
			return nil
		})
		first <- err
	}()
	<-entered

	// A second Spool on the directory stands for another process.
	other := openTestSpool(t, dir, 0)
	rec := &spoolRecorder{t: t}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	n, err := other.Flush(ctx, rec.deliver)
	if !errors.Is(err, ErrSpoolBusy) || !errors.Is(err, context.DeadlineExceeded) || n != 0 {
		t.Errorf("Flush while another flushes = %d, %v; want ErrSpoolBusy and the deadline", n, err)
	}

	// A flusher with time to wait gets its turn, and finds nothing left.
	second := make(chan error, 1)
	go func() {
		_, err := other.Flush(context.Background(), rec.deliver)
		second <- err
	}()
	time.Sleep(20 * time.Millisecond)
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	if got := rec.delivered(); len(got) != 0 {
		t.Errorf("waiting flusher delivered %v again", got)
	}
}

func TestSpoolConcurrentFlushDeliversOnce(t *testing.T) {
	dir := t.TempDir()
	const batches = 30
	putBatches(t, openTestSpool(t, dir, 0), batches)

	rec := &spoolRecorder{t: t, wait: time.Millisecond}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		s := openTestSpool(t, dir, 0) // one each, as separate processes have
		wg.Go(func() {
			<-start
			if _, err := s.Flush(context.Background(), rec.deliver); err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	checkDeliveredOnce(t, rec.delivered(), batches)
}

func checkDeliveredOnce(t *testing.T, seqs []int, batches int) {
	t.Helper()
	count := map[int]int{}
	for _, seq := range seqs {
		count[seq]++
	}
	for seq := range batches {
		if count[seq] != 1 {
			t.Errorf("batch %d delivered %d times", seq, count[seq])
		}
	}
	if len(seqs) != batches {
		t.Errorf("%d deliveries for %d batches", len(seqs), batches)
	}
}

// helperCommand runs this test binary as a child running only the test
// helper, with env set.
func helperCommand(helper, env string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^"+helper+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env)
	cmd.Stderr = &bytes.Buffer{}
	return cmd
}

func TestSpoolConcurrentFlushProcessesDeliverOnce(t *testing.T) {
	dir := t.TempDir()
	const batches = 30
	putBatches(t, openTestSpool(t, dir, 0), batches)

	type child struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		lines *bufio.Scanner
	}
	var children []child
	for range 3 {
		cmd := helperCommand("TestSpoolFlushHelper", "WARDEN_SPOOL_FLUSH_DIR="+dir)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		children = append(children, child{cmd, stdin, bufio.NewScanner(stdout)})
	}
	for _, c := range children {
		if !c.lines.Scan() || c.lines.Text() != "ready" {
			t.Fatalf("helper did not start: %s", c.cmd.Stderr)
		}
	}
	for _, c := range children {
		c.stdin.Close() // go
	}
	var seqs []int
	for _, c := range children {
		for c.lines.Scan() {
			seq, err := strconv.Atoi(c.lines.Text())
			if err != nil {
				continue // the test framework's own output
			}
			seqs = append(seqs, seq)
		}
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("helper: %v: %s", err, c.cmd.Stderr)
		}
	}
	checkDeliveredOnce(t, seqs, batches)
}

// TestSpoolFlushHelper is the child of
// TestSpoolConcurrentFlushProcessesDeliverOnce: it flushes the spool once
// stdin closes, printing each batch's number as it delivers it.
func TestSpoolFlushHelper(t *testing.T) {
	dir := os.Getenv("WARDEN_SPOOL_FLUSH_DIR")
	if dir == "" {
		t.Skip("helper process")
	}
	s := openTestSpool(t, dir, 0)
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := s.Flush(ctx, func(_ context.Context, alerts []Alert) error {
		fmt.Println(batchSeq(t, alerts))
		time.Sleep(time.Millisecond)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSpoolSurvivesKill9 kills a process that puts batches in a loop at a
// random moment, then checks that every batch whose Put had returned is
// there and intact, and that nothing torn passes for a batch.
func TestSpoolSurvivesKill9(t *testing.T) {
	for run := range 5 {
		t.Run(fmt.Sprintf("run %d", run), func(t *testing.T) {
			dir := t.TempDir()
			cmd := helperCommand("TestSpoolKillHelper", "WARDEN_SPOOL_KILL_DIR="+dir)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			acks := make(chan int)
			go func() {
				defer close(acks)
				lines := bufio.NewScanner(stdout)
				for lines.Scan() {
					if seq, err := strconv.Atoi(lines.Text()); err == nil {
						acks <- seq
					}
				}
			}()

			target := 3 + rand.IntN(40)
			acked := map[int]bool{}
			// Each Put fsyncs a file and the directory: on a busy disk
			// forty of them take seconds. The bound only stops a hung
			// helper.
			timeout := time.After(30 * time.Second)
			for len(acked) < target {
				select {
				case seq, ok := <-acks:
					if !ok {
						t.Fatalf("helper ended after %d batches: %v: %s", len(acked), cmd.Wait(), cmd.Stderr)
					}
					acked[seq] = true
				case <-timeout:
					cmd.Process.Kill()
					cmd.Wait()
					t.Fatalf("helper acknowledged only %d batches in 30s: %s", len(acked), cmd.Stderr)
				}
			}
			time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			for seq := range acks { // printed before the kill: acknowledged too
				acked[seq] = true
			}
			err = cmd.Wait()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("helper was not killed: %v: %s", err, cmd.Stderr)
			}
			last := -1
			for seq := range acked {
				last = max(last, seq)
			}

			if got := spoolFiles(t, dir, ".corrupt"); len(got) != 0 {
				t.Errorf("corrupt files after kill -9: %v", got)
			}
			s := openTestSpool(t, dir, 0)
			found := map[int]bool{}
			for _, name := range spoolFiles(t, dir, ".json") {
				alerts, err := readBatch(filepath.Join(dir, name))
				if err != nil {
					t.Errorf("after kill -9: %v", err)
					continue
				}
				seq := batchSeq(t, alerts)
				want, _ := json.Marshal(killBatch(seq))
				if got, _ := json.Marshal(alerts); !bytes.Equal(got, want) {
					t.Errorf("batch %d holds other alerts than were put", seq)
				}
				found[seq] = true
			}
			for seq := range acked {
				if !found[seq] {
					t.Errorf("acknowledged batch %d lost", seq)
				}
			}
			for seq := range found {
				// The batch being put at the kill may or may not be there.
				if !acked[seq] && seq != last+1 {
					t.Errorf("batch %d found, but it was never put", seq)
				}
			}
			st, err := s.Stats()
			if err != nil || st.Batches != len(found) || st.Corrupt != 0 {
				t.Errorf("stats %+v, %v; want %d batches, none corrupt", st, err, len(found))
			}
			rec := &spoolRecorder{t: t}
			if _, err := s.Flush(context.Background(), rec.deliver); err != nil {
				t.Error(err)
			}
			if got := rec.delivered(); len(got) != len(found) || !slices.IsSorted(got) {
				t.Errorf("delivered %v after kill -9, want the %d batches in order", got, len(found))
			}
			t.Logf("killed after %d acknowledged batches; %d temp files left", len(acked), len(spoolFiles(t, dir, ".tmp")))
		})
	}
}

// killBatch is batch seq of TestSpoolKillHelper: sizes up to some 100 KB,
// so that the kill can land inside a write.
func killBatch(seq int) []Alert { return spoolBatch(seq, seq%7+1, 1000*(seq%13)) }

// TestSpoolKillHelper is the child of TestSpoolSurvivesKill9: it puts
// batches until killed, printing each one's number once Put returned.
func TestSpoolKillHelper(t *testing.T) {
	dir := os.Getenv("WARDEN_SPOOL_KILL_DIR")
	if dir == "" {
		t.Skip("helper process")
	}
	s := openTestSpool(t, dir, 0)
	deadline := time.Now().Add(60 * time.Second) // should the parent be gone
	for seq := 0; time.Now().Before(deadline); seq++ {
		if err := s.Put(killBatch(seq)); err != nil {
			t.Fatal(err)
		}
		fmt.Println(seq)
	}
}

// A Send that cannot deliver waits for the spool's put lock only until its
// deadline: with the lock held by another writer (stopped with Ctrl-Z, or
// stuck in an fsync), it ends in time, not delivered and not spooled,
// saying the spool was busy. It waited in flock(2) for as long as the lock
// was held.
func TestSendDoesNotWaitForAHeldPutLockPastItsDeadline(t *testing.T) {
	spool := t.TempDir()
	c := testClient(t, spool, nil, closedURL(t))
	holder, err := os.OpenFile(filepath.Join(spool, spoolPutLock), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if err := unix.Flock(int(holder.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		_, err := c.Send(ctx, alertsNamed("Waiting"))
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotDelivered) || !errors.Is(err, ErrSpoolBusy) {
			t.Errorf("err %v, want ErrNotDelivered and ErrSpoolBusy", err)
		}
	case <-time.After(10 * time.Second):
		unix.Flock(int(holder.Fd()), unix.LOCK_UN)
		t.Fatalf("Send still waiting for the put lock 10 s after its 500 ms deadline (returned %v once released)", <-done)
	}
}

// A batch put after the clock stepped back is still named after the
// newest batch in the spool, so that it is delivered after it: a
// resolution spooled by one process must not overtake the firing alert
// another spooled before the step, or the alert fires again.
func TestSpoolKeepsOrderWhenTheClockStepsBack(t *testing.T) {
	dir := t.TempDir()
	first := openTestSpool(t, dir, 0)
	if err := first.Put(alertsNamed("Firing")); err != nil {
		t.Fatal(err)
	}
	// As named by a process whose clock was an hour ahead.
	names := spoolFiles(t, dir, ".json")
	if len(names) != 1 {
		t.Fatalf("spool holds %v", names)
	}
	ahead := fmt.Sprintf("%020d-%s", time.Now().Add(time.Hour).UnixNano(), strings.SplitN(names[0], "-", 2)[1])
	if err := os.Rename(filepath.Join(dir, names[0]), filepath.Join(dir, ahead)); err != nil {
		t.Fatal(err)
	}
	if err := openTestSpool(t, dir, 0).Put(alertsNamed("Resolved")); err != nil {
		t.Fatal(err)
	}
	var order []string
	if _, err := openTestSpool(t, dir, 0).Flush(context.Background(), func(_ context.Context, alerts []Alert) error {
		order = append(order, alerts[0].Labels["alertname"])
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(order) != "[Firing Resolved]" {
		t.Errorf("delivered %v, want [Firing Resolved]", order)
	}
}

// A batch named far ahead of any clock (by hand, or planted) does not
// move the names of new batches: at the largest stamp, the next name
// wrapped round to a negative one.
func TestSpoolIgnoresStampsFarAhead(t *testing.T) {
	dir := t.TempDir()
	s := openTestSpool(t, dir, 0)
	if err := s.Put(alertsNamed("Planted")); err != nil {
		t.Fatal(err)
	}
	names := spoolFiles(t, dir, ".json")
	far := fmt.Sprintf("%d-%s", int64(math.MaxInt64), strings.SplitN(names[0], "-", 2)[1])
	if err := os.Rename(filepath.Join(dir, names[0]), filepath.Join(dir, far)); err != nil {
		t.Fatal(err)
	}
	if err := openTestSpool(t, dir, 0).Put(alertsNamed("New")); err != nil {
		t.Fatal(err)
	}
	for _, name := range spoolFiles(t, dir, ".json") {
		if name != far && strings.HasPrefix(name, "-") {
			t.Errorf("new batch named %s", name)
		}
	}
}
