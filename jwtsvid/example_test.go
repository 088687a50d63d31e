package jwtsvid_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/jwtsvid"
	"github.com/jwtverify/jwtverify/jwttest"
	"github.com/jwtverify/jwtverify/keyset"
)

// A JWT-SVID verified against the bundle of its trust domain, as
// `spire-server bundle show -format spiffe` prints it.
func Example() {
	signer, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pt, _ := signer.PublicKey.Bytes() // 0x04 || x || y
	b64 := base64.RawURLEncoding.EncodeToString
	bundle := fmt.Sprintf(`{"keys":[{"use":"jwt-svid","kty":"EC","kid":"k1","crv":"P-256","x":%q,"y":%q}],`+
		`"spiffe_sequence":1,"spiffe_refresh_hint":300}`, b64(pt[1:33]), b64(pt[33:]))

	keys, _, err := keyset.ParseSPIFFEBundle([]byte(bundle))
	if err != nil {
		fmt.Println(err)
		return
	}
	exampleOrg, _ := keyset.NewStatic(keys...)
	v, err := jwtsvid.New(golangjwt.Backend{}, jwtsvid.Config{
		Bundles:   map[string]jwtverify.KeySource{"example.org": exampleOrg},
		Audiences: []string{"payments"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	exp := time.Now().Add(5 * time.Minute).Unix()
	for _, sub := range []string{"spiffe://example.org/ns/prod/sa/api", "spiffe://elsewhere.org/api", "api"} {
		svid := jwttest.Sign("ES256", signer, map[string]any{"kid": "k1"},
			map[string]any{"sub": sub, "aud": "payments", "exp": exp})
		tok, err := v.Verify(context.Background(), svid)
		if err != nil {
			fmt.Println("rejected:", jwtverify.Class(err))
			continue
		}
		fmt.Println("verified:", tok.Claims.Subject)
	}
	// Output:
	// verified: spiffe://example.org/ns/prod/sa/api
	// rejected: issuer
	// rejected: malformed
}
