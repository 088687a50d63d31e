// Package nginxtest starts a real nginx for tests: one process owned by
// the test (no daemon, no master process), on a free loopback port, with
// its configuration, pid file, logs and temporary directories in the
// test's temporary directory, so that it neither needs nor touches
// /etc/nginx, /var/log/nginx or /var/lib/nginx. nginx is taken from PATH
// or /usr/sbin, or installed from Debian's packages when it is missing
// and the test runs as root. The jwtverify command's forward-auth tests
// use it. It is for tests only.
package nginxtest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify/internal/proctest"
)

// sbin is where Debian's package puts nginx, often not in a user's PATH.
const sbin = "/usr/sbin/nginx"

// installHint says how to get nginx where this package cannot.
const installHint = "install it (Debian: apt-get install -y --no-install-recommends nginx; its nginx has the auth_request module built in), or put nginx in PATH"

// lookup returns the path of nginx in PATH or at /usr/sbin/nginx.
func lookup() (string, error) {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	if fi, err := os.Stat(sbin); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return sbin, nil
	}
	return "", errors.New("nginx is neither in PATH nor at " + sbin)
}

var (
	findOnce sync.Once
	found    string
	findErr  error
)

// Find returns the path of nginx: in PATH or at /usr/sbin/nginx. If it is
// in neither and this runs as root on a machine with apt-get, it installs
// Debian's package first (once per process). It never gives up quietly: no
// nginx is an error that says how to install it.
func Find() (string, error) {
	findOnce.Do(func() { found, findErr = find() })
	return found, findErr
}

func find() (string, error) {
	if p, err := lookup(); err == nil {
		return p, nil
	}
	// On a machine with an init system and no policy-rc.d that forbids it,
	// the package's scripts also start the system's nginx service (port
	// 80, /etc/nginx); the tests' own nginx is separate from it.
	fmt.Fprintln(os.Stderr, "nginxtest: nginx is not in PATH")
	out, err := proctest.Install("nginx")
	if errors.Is(err, proctest.ErrCannotInstall) {
		return "", errors.New("nginx is neither in PATH nor at " + sbin + ", and it cannot be installed here (installing needs root and apt-get): " + installHint)
	}
	p, lerr := lookup()
	if lerr != nil {
		return "", fmt.Errorf("nginx is not installed, and apt-get install -y nginx did not bring it (%v): %s; its output:\n%s", err, installHint, out)
	}
	return p, nil
}

// Server is an nginx process on a loopback port. Make one with Start.
type Server struct {
	addr string
	dir  string
	cmd  *exec.Cmd
	out  *proctest.Buffer // the process's stdout and stderr
	done chan struct{}    // closed when the process has exited
	stop sync.Once
}

// Addr returns the server's host:port.
func (s *Server) Addr() string { return s.addr }

// URL returns the server's base URL, http://127.0.0.1:PORT.
func (s *Server) URL() string { return "http://" + s.addr }

// Dir returns the server's directory: nginx.conf, the logs, the pid file
// and the temporary directories.
func (s *Server) Dir() string { return s.dir }

// ErrorLog returns the content of the server's error log.
func (s *Server) ErrorLog() string { return s.readFile("error.log") }

// AccessLog returns the content of the server's access log, one line a
// request in nginx's combined format.
func (s *Server) AccessLog() string { return s.readFile("access.log") }

func (s *Server) readFile(name string) string {
	b, err := os.ReadFile(filepath.Join(s.dir, name))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return string(b)
}

// Start starts nginx with server as the directives of its one server
// block ("location / { ... }" and the like: the listen directive, on a
// free 127.0.0.1 port, is added), waits until it accepts connections,
// and stops it when tb's test ends. It finds or installs nginx with Find;
// without one, or when nginx does not start (a configuration it refuses,
// a module it lacks), it fails tb with nginx's own messages, never skips.
// A port taken between choosing and binding it is tried again with
// another.
func Start(tb testing.TB, server string) *Server {
	tb.Helper()
	bin, err := Find()
	if err != nil {
		tb.Fatalf("nginxtest: %v", err)
	}
	var errs []error
	for attempt := range 3 {
		dir := filepath.Join(tb.TempDir(), "nginx")
		s, retry, err := start(bin, dir, server)
		if err == nil {
			tb.Cleanup(s.Stop)
			return s
		}
		errs = append(errs, fmt.Errorf("attempt %d: %w", attempt+1, err))
		if !retry {
			break
		}
	}
	tb.Fatalf("nginxtest: %s did not start: %v", bin, errors.Join(errs...))
	return nil
}

// config is nginx.conf: one process in the foreground, everything it
// writes under dir, no include, and server's directives in one server
// block listening on addr.
func config(dir, addr, server string) string {
	q := func(name string) string { return strconv.Quote(filepath.Join(dir, name)) }
	return `# written by nginxtest
daemon off;
master_process off;
worker_processes 1;
pid ` + q("nginx.pid") + `;
lock_file ` + q("nginx.lock") + `;
error_log ` + q("error.log") + ` info;

events {
    worker_connections 256;
}

http {
    access_log ` + q("access.log") + `;
    client_body_temp_path ` + q("client_body") + `;
    proxy_temp_path ` + q("proxy") + `;
    fastcgi_temp_path ` + q("fastcgi") + `;
    uwsgi_temp_path ` + q("uwsgi") + `;
    scgi_temp_path ` + q("scgi") + `;
    default_type application/octet-stream;

    server {
        listen ` + addr + `;
        server_name localhost;

` + indent(server, "        ") + `
    }
}
`
}

func indent(s, prefix string) string {
	var b strings.Builder
	for line := range strings.Lines(strings.TrimSpace(s)) {
		if strings.TrimSpace(line) != "" {
			b.WriteString(prefix)
		}
		b.WriteString(line)
	}
	return b.String()
}

// start runs nginx once in dir. retry reports whether another port may
// succeed (this one was taken).
func start(bin, dir, server string) (_ *Server, retry bool, _ error) {
	port, err := proctest.FreePort()
	if err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, false, err
	}
	s := &Server{
		addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		dir:  dir,
		out:  &proctest.Buffer{},
		done: make(chan struct{}),
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(config(dir, s.addr, server)), 0o644); err != nil {
		return nil, false, err
	}
	// -p: the prefix for relative paths; -e: the error log from the very
	// start, before the configuration is read (the compiled-in one is
	// /var/log/nginx/error.log).
	s.cmd = exec.Command(bin, "-p", dir+"/", "-c", conf, "-e", filepath.Join(dir, "error.log"))
	s.cmd.Stdout = s.out
	s.cmd.Stderr = s.out
	if err := s.cmd.Start(); err != nil {
		return nil, false, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()

	failed := func(what string) error {
		return fmt.Errorf("nginx on %s %s; its output:\n%s\nits error log:\n%s\nits configuration (%s):\n%s", s.addr, what, s.out, s.ErrorLog(), conf, s.readFile("nginx.conf"))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-s.done:
			taken := strings.Contains(s.out.String()+s.ErrorLog(), "Address already in use")
			return nil, taken, failed("exited before accepting connections (" + s.cmd.ProcessState.String() + ")")
		default:
		}
		c, err := net.DialTimeout("tcp", s.addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return s, false, nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, false, failed(fmt.Sprintf("did not accept connections within 10s (last: %v)", err))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop stops the server: SIGQUIT, nginx's graceful shutdown, then SIGKILL
// if it has not exited within 5 s; it waits for the process to exit. It
// may be called more than once.
func (s *Server) Stop() {
	s.stop.Do(func() {
		select {
		case <-s.done:
			return
		default:
		}
		_ = s.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
}
