package jwtverify_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/backendtest"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/backends/jwx"
	"github.com/jwtverify/jwtverify/internal/benchsuite"
	"github.com/jwtverify/jwtverify/keyset"
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

// acceptAll is a Backend whose signature check always passes.
type acceptAll struct{}

func (acceptAll) Name() string                                      { return "accept-all" }
func (acceptAll) VerifySignature(string, any, string, []byte) error { return nil }

// BenchmarkCore measures what the shared core adds to every backend, on the
// bench suite's tokens: everything but the signature check (size, base64url,
// strict JSON of header and payload, key lookup, claim policy, the one
// allocation). Compare with BenchmarkVerify/<alg>/limit in ./bench.
func BenchmarkCore(b *testing.B) {
	cases, err := benchsuite.Cases()
	if err != nil {
		b.Fatal(err)
	}
	keys, err := benchsuite.Keys(cases)
	if err != nil {
		b.Fatal(err)
	}
	static, err := keyset.NewStatic(keys...)
	if err != nil {
		b.Fatal(err)
	}
	v, err := jwtverify.New(acceptAll{}, benchsuite.Config(static))
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range cases {
		b.Run(c.Alg, func(b *testing.B) {
			b.SetBytes(int64(len(c.Token)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(context.Background(), c.Token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReject measures hostile tokens that must be rejected cheaply,
// before any signature check: the limits they hit are MaxTokenBytes
// (16 KiB by default) and the JSON nesting bound (64 levels).
func BenchmarkReject(b *testing.B) {
	f := fixture(b)
	cfg := f.Config()
	v, err := golangjwt.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	raised := cfg
	raised.MaxTokenBytes = 2 << 20
	vRaised, err := golangjwt.New(raised)
	if err != nil {
		b.Fatal(err)
	}
	good := f.Sign("ES256", nil, backendtest.Claims())
	parts := strings.SplitN(good, ".", 2)
	enc := base64.RawURLEncoding.EncodeToString
	deep := enc([]byte(`{"alg":"ES256","x":`+strings.Repeat("[", 100000)+strings.Repeat("]", 100000)+`}`)) + "." + parts[1]
	huge := enc([]byte(`{"alg":"ES256","kid":"nope","x":"`+strings.Repeat("a", 3<<18)+`"}`)) + "." + parts[1]
	// 1,000 RSA keys that all fit RS256, and a token without kid.
	var keys []jwtverify.Key
	for i := 0; i < 1000; i++ {
		k, _ := jwtverify.NewPublicKey(fmt.Sprint("k", i), "", &f.Keys.RSA1.PublicKey)
		keys = append(keys, k)
	}
	many, _ := keyset.NewStatic(keys...)
	manyCfg := cfg
	manyCfg.Keys = many
	vMany, err := golangjwt.New(manyCfg)
	if err != nil {
		b.Fatal(err)
	}
	noKid := f.Sign("RS256", map[string]any{"kid": nil}, backendtest.Claims())
	for _, tt := range []struct {
		name  string
		v     *jwtverify.Verifier
		token string
		want  error
	}{
		{"1MiB-token", v, strings.Repeat("A", 1<<20), jwtverify.ErrTooLarge},
		{"1MiB-header-raised-limit", vRaised, huge, jwtverify.ErrUnknownKey},
		{"100000-deep-raised-limit", vRaised, deep, jwtverify.ErrMalformed},
		{"alg-none", v, "eyJhbGciOiJub25lIn0." + parts[1], jwtverify.ErrAlgorithm},
		{"unknown-kid", v, f.Sign("ES256", map[string]any{"kid": "nope"}, backendtest.Claims()), jwtverify.ErrUnknownKey},
		{"bad-signature-ES256", v, good[:len(good)-8] + "AAAAAAAA", jwtverify.ErrSignature},
		{"1000-keys-no-kid", vMany, noKid, jwtverify.ErrUnknownKey},
	} {
		b.Run(tt.name, func(b *testing.B) {
			if _, err := tt.v.Verify(context.Background(), tt.token); !errors.Is(err, tt.want) {
				b.Fatalf("got %v, want %v", err, tt.want)
			}
			b.SetBytes(int64(len(tt.token)))
			b.ReportAllocs()
			for b.Loop() {
				tt.v.Verify(context.Background(), tt.token)
			}
		})
	}
}
