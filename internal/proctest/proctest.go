// Package proctest holds what the tests that run a real server (Redis,
// nginx, SPIRE) or an in-process one share: a free loopback port and a
// buffer a process writes while the test reads it. It is for tests and
// their helper packages only.
package proctest

import (
	"bytes"
	"net"
	"sync"
)

// FreePort returns a loopback TCP port that was free a moment ago: for a
// server of the test's own. (Another listener may take it meanwhile: a
// test that needs an address where nothing answers should hold a
// listener of its own.)
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Buffer is a bytes.Buffer safe for the writes of a process's output (or
// a logger's) and a test's reads at once. The zero Buffer is empty and
// ready to use; it must not be copied after first use.
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
