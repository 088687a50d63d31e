package cli

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/jwtverify/jwtverify/internal/benchsuite"
)

// runBench measures, in this process, the standard-library limit, each
// backend (static keys and a warm remote key set) and the verified-token
// cache for one realistic token per algorithm, and prints a table. The
// other libraries are compared by the nested module bench/compare.
func runBench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	duration := fs.Duration("duration", 30*time.Second, "total time to spend measuring")
	format := fs.String("format", "table", "table | json")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if fs.NArg() > 0 || (*format != "table" && *format != "json") || *duration <= 0 {
		return usageErr(stderr, "usage: jwtverify bench [--duration 30s] [--format table|json]")
	}
	cases, err := benchsuite.Cases()
	if err != nil {
		fmt.Fprintf(stderr, "jwtverify: bench: %v\n", err)
		return ExitRejected
	}
	contenders, closeFn, err := benchsuite.Ours(cases)
	if err != nil {
		fmt.Fprintf(stderr, "jwtverify: bench: %v\n", err)
		return ExitRejected
	}
	defer closeFn()
	results := benchsuite.Measure(contenders, *duration, stderr)
	if err := benchsuite.WriteTable(stdout, results, *format); err != nil {
		fmt.Fprintf(stderr, "jwtverify: bench: %v\n", err)
		return ExitRejected
	}
	for _, r := range results {
		if r.Err != "" {
			return ExitRejected
		}
	}
	if *format == "table" {
		fmt.Fprintln(stdout, "\nother libraries: cd bench/compare && go run .")
	}
	return ExitValid
}
