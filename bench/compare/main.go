package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/jwtverify/jwtverify/internal/benchsuite"
)

func main() {
	duration := flag.Duration("duration", 60*time.Second, "total time to spend measuring")
	format := flag.String("format", "table", "table | json")
	flag.Parse()
	if err := run(*duration, *format); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func run(duration time.Duration, format string) error {
	cases, err := benchsuite.Cases()
	if err != nil {
		return err
	}
	ours, closeFn, err := benchsuite.Ours(cases)
	if err != nil {
		return err
	}
	defer closeFn()
	alts, err := Alternatives(cases)
	if err != nil {
		return err
	}
	results := benchsuite.Measure(benchsuite.Ordered(append(ours, alts...)), duration, os.Stderr)
	return benchsuite.WriteTable(os.Stdout, results, format)
}
