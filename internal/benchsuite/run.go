package benchsuite

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

// Result is one contender's measurement.
type Result struct {
	Alg         string  `json:"alg"`
	Name        string  `json:"name"`
	NsPerOp     float64 `json:"ns_per_op"`
	AllocsPerOp float64 `json:"allocs_per_op"`
	BytesPerOp  float64 `json:"bytes_per_op"`
	Ratio       float64 `json:"ratio_to_limit"`
	Err         string  `json:"error,omitempty"`
}

// Measure runs each contender for about budget/len(contenders), after a
// check that it verifies, and reports ns/op, allocations and the ratio to
// the limit of its algorithm. progress, if not nil, gets one line per
// contender as it starts.
func Measure(contenders []Contender, budget time.Duration, progress io.Writer) []Result {
	per := budget / time.Duration(max(1, len(contenders)))
	var results []Result
	for i, c := range contenders {
		if progress != nil {
			fmt.Fprintf(progress, "[%d/%d] %s %s\n", i+1, len(contenders), c.Alg, c.Name)
		}
		r := Result{Alg: c.Alg, Name: c.Name}
		if err := c.Verify(); err != nil {
			r.Err = err.Error()
			results = append(results, r)
			continue
		}
		r.NsPerOp, r.AllocsPerOp, r.BytesPerOp = measure(c.Verify, per)
		results = append(results, r)
	}
	limits := map[string]float64{}
	for _, r := range results {
		if r.Name == "limit" {
			limits[r.Alg] = r.NsPerOp
		}
	}
	for i := range results {
		if l := limits[results[i].Alg]; l > 0 && results[i].Err == "" {
			results[i].Ratio = results[i].NsPerOp / l
		}
	}
	return results
}

// measure runs f in growing batches until d has passed.
func measure(f func() error, d time.Duration) (ns, allocs, bytes float64) {
	var before, after runtime.MemStats
	n := 1
	for {
		runtime.ReadMemStats(&before)
		start := time.Now()
		for i := 0; i < n; i++ {
			f()
		}
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		if elapsed >= d || n >= 1<<30 {
			return float64(elapsed.Nanoseconds()) / float64(n),
				float64(after.Mallocs-before.Mallocs) / float64(n),
				float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
		}
		next := n * 2
		if elapsed > 0 {
			next = int(float64(n) * float64(d) / float64(elapsed) * 1.2)
		}
		n = max(n+1, min(next, 100*n))
	}
}

// WriteTable prints results grouped by algorithm, in the given format
// ("table" or "json").
func WriteTable(w io.Writer, results []Result, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	}
	rs := append([]Result(nil), results...)
	order := map[string]int{}
	for i, a := range Algs {
		order[a] = i
	}
	sort.SliceStable(rs, func(i, j int) bool { return order[rs[i].Alg] < order[rs[j].Alg] })
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "alg\tverifier\tns/op\tallocs/op\tB/op\tvs limit\t")
	for _, r := range rs {
		if r.Err != "" {
			fmt.Fprintf(tw, "%s\t%s\terror: %s\t\t\t\t\n", r.Alg, r.Name, strings.TrimSpace(r.Err))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.1f\t%.0f\t%.2fx\t\n", r.Alg, r.Name, r.NsPerOp, r.AllocsPerOp, r.BytesPerOp, r.Ratio)
	}
	return tw.Flush()
}

// Ordered sorts contenders by algorithm (in Algs order), keeping each
// algorithm's contenders in the order given.
func Ordered(cs []Contender) []Contender {
	out := append([]Contender(nil), cs...)
	order := map[string]int{}
	for i, a := range Algs {
		order[a] = i
	}
	sort.SliceStable(out, func(i, j int) bool { return order[out[i].Alg] < order[out[j].Alg] })
	return out
}

// Bench runs each contender as a sub-benchmark <alg>/<name>, after checking
// that it accepts its token.
func Bench(b *testing.B, cs []Contender) {
	for _, c := range cs {
		if err := c.Verify(); err != nil {
			b.Fatalf("%s %s rejects the token: %v", c.Alg, c.Name, err)
		}
		b.Run(c.Alg+"/"+c.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Verify(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchParallel runs the RS256 and HS256 contenders from all Ps (compare
// -cpu 1,2).
func BenchParallel(b *testing.B, cs []Contender) {
	for _, c := range cs {
		if c.Alg != "RS256" && c.Alg != "HS256" {
			continue
		}
		b.Run(c.Alg+"/"+c.Name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := c.Verify(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
