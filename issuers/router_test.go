package issuers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/testkeys"
	"github.com/jwtverify/jwtverify/issuers"
	"github.com/jwtverify/jwtverify/keyset"
)

// TestRouterFrontEndIsVerifys: the Router reads iss through the same
// front end as Verify (internal/jws), so a token that fails the size,
// shape or encoding checks gets from the Router the very error, class and
// text, that the issuer's verifier gives it, whatever its payload names,
// and in the same order: a header that is not base64url is malformed even
// when the payload names an unknown issuer or none.
func TestRouterFrontEndIsVerifys(t *testing.T) {
	ks := testkeys.Load()
	ka, _ := jwtverify.NewPublicKey("a", "", &ks.RSA1.PublicKey)
	sa, _ := keyset.NewStatic(ka)
	v := verifierFor(t, "https://a.example", sa)
	r, err := issuers.NewRouter(map[string]issuers.Verifier{"https://a.example": v}, 0)
	if err != nil {
		t.Fatal(err)
	}
	good := strings.Split(sign(t, "RS256", ks.RSA1, "a", "https://a.example"), ".")
	evil := strings.Split(sign(t, "RS256", ks.RSA1, "a", "https://evil.example"), ".")
	for name, tok := range map[string]string{
		"too large":                     strings.Repeat("a", 16<<10+1), // over both defaults, 16 KiB
		"JWE":                           "a.b.c.d.e",
		"four segments":                 "a.b.c.d",
		"header padded":                 good[0] + "=." + good[1] + "." + good[2],
		"header padded, unknown issuer": evil[0] + "=." + evil[1] + "." + evil[2],
		"header padded, no iss":         good[0] + "=.e30." + good[2],
		"payload padded":                good[0] + "." + good[1] + "=." + good[2],
		"signature not base64url":       good[0] + "." + good[1] + ".+" + good[2],
		"signature of impossible size":  good[0] + "." + good[1] + "." + good[2] + "A",
	} {
		_, want := v.Verify(context.Background(), tok)
		_, got := r.Verify(context.Background(), tok)
		if want == nil || got == nil || got.Error() != want.Error() {
			t.Errorf("%s: Router says %v; the verifier says %v", name, got, want)
		}
	}
}
