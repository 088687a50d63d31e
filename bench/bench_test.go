// Package bench_test compares this library's verifiers with the raw
// standard-library limit in one go test run. The other libraries are
// compared in the nested module bench/compare, so that they never enter
// the library's go.mod:
//
//	go test ./bench -run '^$' -bench . -count 10 | tee new.txt && benchstat new.txt
package bench_test

import (
	"testing"

	"github.com/jwtverify/jwtverify/internal/benchsuite"
)

func contenders(b *testing.B) []benchsuite.Contender {
	cases, err := benchsuite.Cases()
	if err != nil {
		b.Fatal(err)
	}
	cs, closeFn, err := benchsuite.Ours(cases)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(closeFn)
	return cs
}

// BenchmarkVerify: BenchmarkVerify/<alg>/<verifier>, full verification of
// the same token (issuer, audience, expiry, not-before, issued-at).
func BenchmarkVerify(b *testing.B) {
	for _, c := range contenders(b) {
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

// BenchmarkVerifyParallel runs RS256 and HS256 from all Ps; run with
// -cpu 1,2 to compare throughput.
func BenchmarkVerifyParallel(b *testing.B) {
	for _, c := range contenders(b) {
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
