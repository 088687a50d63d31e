package jwtverify_test

import (
	"context"
	"testing"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/backendtest"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/backends/jwx"
)

// BenchmarkVerify measures full verification (header, key, signature,
// issuer, audience and dates) of the suite's token for each backend and
// algorithm, and one cheap rejection. The cross-library comparison lives in
// bench/.
func BenchmarkVerify(b *testing.B) {
	f := fixture(b)
	jb, err := jwx.NewBackend()
	if err != nil {
		b.Fatal(err)
	}
	for _, be := range []jwtverify.Backend{golangjwt.Backend{}, jb} {
		v, err := jwtverify.New(be, f.Config())
		if err != nil {
			b.Fatal(err)
		}
		for _, alg := range []string{"RS256", "PS256", "ES256", "EdDSA", "HS256"} {
			tok := f.Sign(alg, nil, backendtest.Claims())
			b.Run(be.Name()+"/"+alg, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := v.Verify(context.Background(), tok); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(be.Name()+"/reject-alg-none", func(b *testing.B) {
			tok := "eyJhbGciOiJub25lIn0.e30."
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(context.Background(), tok); err == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}
