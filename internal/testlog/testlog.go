// Package testlog holds what tests need to read a log that the code under
// test is still writing.
package testlog

import (
	"bytes"
	"sync"
)

// Buffer is a log sink (an exporter's Stderr, a process's output) that a
// test may read while other goroutines write it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
