// Package redistest starts a real redis-server for tests: on a free
// loopback port, with no persistence, installed from Debian's packages
// when it is missing and the test runs as root. The tests of
// dpop/redisstore and of the jwtverify command's replay store use it. It
// is for tests only.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/jwtverify/jwtverify/internal/proctest"
	"github.com/redis/go-redis/v9"
)

// findRedisServer returns the path of redis-server. If it is not in PATH
// and this runs as root on a machine with apt-get, it installs Debian's
// package first; it never gives up quietly: no redis-server is an error.
func findRedisServer() (string, error) {
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p, nil
	}
	fmt.Fprintln(os.Stderr, "redistest: redis-server is not in PATH")
	out, err := proctest.Install("redis-server")
	if errors.Is(err, proctest.ErrCannotInstall) {
		return "", errors.New("redis-server is not in PATH, and it cannot be installed here (installing needs root and apt-get): install it (Debian: apt-get install redis-server), or put it in PATH")
	}
	p, lerr := exec.LookPath("redis-server")
	if lerr != nil {
		return "", fmt.Errorf("redis-server is not in PATH, and apt-get install -y redis-server did not bring it (%v); its output:\n%s", err, out)
	}
	return p, nil
}

// Server is a redis-server process on a loopback port, keeping no
// data on disk. Make one with Start; it is safe for concurrent use.
type Server struct {
	cmd  *exec.Cmd
	addr string
	dir  string
	out  *proctest.Buffer
	done chan struct{} // closed when the process has exited
}

// URL returns the server's URL, redis://127.0.0.1:PORT/0.
func (s *Server) URL() string { return "redis://" + s.addr + "/0" }

// Addr returns the server's host:port.
func (s *Server) Addr() string { return s.addr }

// Start starts a redis-server on a free loopback port, with no
// persistence, and waits until it answers PING. It finds redis-server in
// PATH or, run as root on a machine with apt-get, installs Debian's
// package first; without one it fails, never skips. A port taken between
// choosing and binding it is tried again with another. The caller stops
// the server with Stop. extra are more redis-server arguments
// ("--maxmemory-policy", "volatile-lru").
func Start(extra ...string) (*Server, error) {
	bin, err := findRedisServer()
	if err != nil {
		return nil, err
	}
	var errs []error
	for range 3 {
		s, err := startRedisOnce(bin, extra)
		if err == nil {
			return s, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func startRedisOnce(bin string, extra []string) (*Server, error) {
	port, err := proctest.FreePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		return nil, err
	}
	s := &Server{
		addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		dir:  dir,
		out:  &proctest.Buffer{},
		done: make(chan struct{}),
	}
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir,
		"--daemonize", "no", "--logfile", ""}, extra...)
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout = s.out
	s.cmd.Stderr = s.out
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()

	client := redis.NewClient(&redis.Options{Addr: s.addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer client.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		err := client.Ping(ctx).Err()
		cancel()
		if err == nil {
			return s, nil
		}
		select {
		case <-s.done:
			os.RemoveAll(dir)
			return nil, fmt.Errorf("redis-server on %s exited before answering PING; its output:\n%s", s.addr, s.out)
		default:
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("redis-server on %s did not answer PING within 10s (last: %v); its output:\n%s", s.addr, err, s.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server, waits for it to exit and removes its directory.
// It may be called more than once.
func (s *Server) Stop() {
	_ = s.cmd.Process.Kill()
	<-s.done
	os.RemoveAll(s.dir)
}
