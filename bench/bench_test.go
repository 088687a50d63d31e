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
func BenchmarkVerify(b *testing.B) { benchsuite.Bench(b, contenders(b)) }

// BenchmarkVerifyParallel runs RS256 and HS256 from all Ps; run with
// -cpu 1,2 to compare throughput.
func BenchmarkVerifyParallel(b *testing.B) { benchsuite.BenchParallel(b, contenders(b)) }
