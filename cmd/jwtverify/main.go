// Command jwtverify verifies JSON Web Tokens from the command line and
// demonstrates the library. Run "jwtverify help" for its commands.
package main

import (
	"os"

	"github.com/jwtverify/jwtverify/cmd/jwtverify/internal/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
