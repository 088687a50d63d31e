package fuzz

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/backends/jwx"
	"github.com/jwtverify/jwtverify/dpop"
	"github.com/jwtverify/jwtverify/jwttest"
)

// FuzzDPoPProof feeds DPoP proofs to both backends' Checkers: nothing
// panics; every refusal wraps exactly one of dpop's errors and holds no
// segment of the proof; the backends agree; and no proof is accepted
// twice (the replay check).
func FuzzDPoPProof(f *testing.F) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	const url, token = "https://api.example/orders", "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln"
	req := dpop.Request{Method: "GET", URL: url, AccessToken: token, JKT: jwttest.Thumbprint(key)}
	good := jwttest.DPoPProof("ES256", key, "GET", url, token, nil)
	for _, s := range []string{good, good[:len(good)-2], strings.Replace(good, ".", "..", 1), "", ".", "..", "a.b.c",
		jwttest.DPoPProof("ES256", key, "POST", url, token, nil),
		jwttest.DPoPProof("ES256", key, "GET", url+"/../orders", token, nil),
		jwttest.DPoPProof("ES256", key, "GET", url, token, map[string]any{"jti": nil}),
		jwttest.Sign("ES256", key, map[string]any{"typ": "dpop+jwt", "jwk": map[string]any{"kty": "EC", "crv": "P-256", "x": "", "y": ""}}, map[string]any{"htm": "GET"}),
	} {
		f.Add(s)
	}
	jb, err := jwx.NewBackend()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, proof string) {
		if len(proof) > maxInput {
			return
		}
		var errs [2]error
		for i, b := range []jwtverify.Backend{golangjwt.Backend{}, jb} {
			c, err := dpop.New(b, dpop.Config{})
			if err != nil {
				t.Fatal(err)
			}
			err = c.Check(context.Background(), proof, req)
			errs[i] = err
			if err == nil {
				if c.Check(context.Background(), proof, req) == nil {
					t.Fatal("a proof was accepted twice")
				}
				continue
			}
			n := 0
			for _, class := range []error{dpop.ErrProof, dpop.ErrNonce, dpop.ErrUnavailable} {
				if errors.Is(err, class) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("error %v wraps %d of dpop's errors", err, n)
			}
			for _, seg := range strings.Split(proof, ".") {
				if len(seg) >= 8 && strings.Contains(err.Error(), seg) {
					t.Fatalf("error %q holds a proof segment", err)
				}
			}
		}
		if (errs[0] == nil) != (errs[1] == nil) {
			t.Fatalf("backends disagree: %v / %v", errs[0], errs[1])
		}
	})
}
