// Package proctest holds what the tests that run a real server (Redis,
// nginx, SPIRE) or an in-process one share: installing Debian's package
// of the server when it is missing, a free loopback port, and a buffer a
// process writes while the test reads it. It is for tests and
// their helper packages only.
package proctest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
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

// ErrCannotInstall is Install's error where installing is impossible:
// not root, or no apt-get.
var ErrCannotInstall = errors.New("installing needs root and apt-get")

// Install installs Debian's package pkg (without recommended packages)
// with apt-get, announcing it on stderr, and fetches the package lists
// once and tries again if the first attempt fails (a machine whose lists
// were never fetched has no candidate). It returns apt-get's output for
// the caller's error message, and ErrCannotInstall where it cannot try.
// The caller looks the program up afterwards: that, not the error, says
// whether it is there.
func Install(pkg string) ([]byte, error) {
	apt, err := exec.LookPath("apt-get")
	if os.Geteuid() != 0 || err != nil {
		return nil, ErrCannotInstall
	}
	install := func() ([]byte, error) {
		cmd := exec.Command(apt, "install", "-y", "--no-install-recommends", pkg)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.CombinedOutput()
	}
	fmt.Fprintf(os.Stderr, "running apt-get install -y --no-install-recommends %s\n", pkg)
	out, err := install()
	if err != nil {
		upd, uerr := exec.Command(apt, "update").CombinedOutput()
		out = append(out, upd...)
		if uerr == nil {
			var again []byte
			again, err = install()
			out = append(out, again...)
		}
	}
	return out, err
}
