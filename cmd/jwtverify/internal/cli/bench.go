package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
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
	duration := fs.Duration("duration", 30*time.Second, "total time to spend measuring, shared by all the measurements")
	format := fs.String("format", "table", "`FORMAT`: table | json")
	setUsage(fs, "[flags]", `Measures, in this process, the standard-library limit, each backend and the
verified-token cache for one realistic token per algorithm, and prints a
table (progress on stderr). Exit 0: done; 1: a measurement failed; 2: usage
error.`)
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if err := applyEnv(fs, os.Getenv); err != nil {
		return usageErr(stderr, err.Error())
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
	if w := benchWarning(*duration, len(contenders)); w != "" {
		fmt.Fprintln(stderr, w)
	}
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

// minPerContender is the least time each measurement should get for
// ratios that hold from one run to the next: below it the first, short
// batches, the timer and the scheduler weigh on ns/op. The default
// --duration, 30s over the 42 measurements, gives each about 700ms.
const minPerContender = 500 * time.Millisecond

// benchWarning returns the warning bench gives when duration, shared
// equally among n contenders as benchsuite.Measure shares it, leaves each
// less than minPerContender, naming the --duration that is enough
// (rounded up to a second); "" when duration is long enough.
func benchWarning(duration time.Duration, n int) string {
	per := duration / time.Duration(max(1, n))
	if per >= minPerContender {
		return ""
	}
	enough := (minPerContender*time.Duration(max(1, n)) + time.Second - 1).Truncate(time.Second)
	return fmt.Sprintf("jwtverify: warning: --duration %v gives each of the %d measurements %v: too short for stable ratios; use --duration %v or more",
		duration, n, per, enough)
}
