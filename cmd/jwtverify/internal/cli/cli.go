// Package cli implements the jwtverify command. Run is the whole program;
// cmd/jwtverify only calls it, so exit codes and output are tested
// in-process.
package cli

import (
	"fmt"
	"io"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/backends/jwx"
	"github.com/jwtverify/jwtverify/backends/native"
)

// Exit codes.
const (
	ExitValid    = 0 // the token verified
	ExitRejected = 1 // the token was rejected
	ExitUsage    = 2 // bad usage or configuration, or the proxy could not listen or serve
)

// backends maps --backend names to constructors: an explicit list, not a
// registry filled at import time.
var backends = []struct {
	name string
	new  func() (jwtverify.Backend, error)
}{
	{"golang-jwt", func() (jwtverify.Backend, error) { return golangjwt.Backend{}, nil }},
	{"jwx", func() (jwtverify.Backend, error) { return jwx.NewBackend() }},
	{"native", func() (jwtverify.Backend, error) { return native.Backend{}, nil }},
}

func newBackend(name string) (jwtverify.Backend, error) {
	for _, b := range backends {
		if b.name == name {
			return b.new()
		}
	}
	return nil, fmt.Errorf("unknown backend %q (golang-jwt, jwx or native)", name)
}

const usage = `usage: jwtverify <command> [flags]

commands:
  verify   verify one token (jwtverify verify -h for flags)
  inspect  print a token's header and claims decoded, UNVERIFIED, with its
           dates readable (jwtverify inspect -h for flags)
  demo     make keys, issue tokens, verify them on every backend and show
           hostile tokens rejected with their class; needs no network or files
  proxy    a verifying reverse proxy (jwtverify proxy -h for flags)
  bench    measure each backend and the cache against the raw crypto limit
           (jwtverify bench -h for flags)
`

// Run runs the command with args (without the program name) and returns
// the exit code.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return ExitUsage
	}
	switch args[0] {
	case "verify":
		return runVerify(args[1:], stdin, stdout, stderr)
	case "inspect":
		return runInspect(args[1:], stdin, stdout, stderr)
	case "demo":
		return runDemo(args[1:], stdout, stderr)
	case "bench":
		return runBench(args[1:], stdout, stderr)
	case "proxy":
		return runProxy(args[1:], stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return ExitValid
	}
	fmt.Fprintf(stderr, "jwtverify: unknown command %q\n%s", args[0], usage)
	return ExitUsage
}
