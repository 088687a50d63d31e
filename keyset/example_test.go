package keyset_test

import (
	"context"
	"fmt"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/keyset"
)

func ExampleParseJWKS() {
	jwks := []byte(`{"keys":[
		{"kty":"EC","crv":"P-256","kid":"sig-1","use":"sig",
		 "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
		{"kty":"EC","crv":"P-256","kid":"enc-1","use":"enc",
		 "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
		{"kty":"OKP","crv":"Ed448","kid":"ed448","x":"AAAA"}
	]}`)
	keys, skipped, err := keyset.ParseJWKS(jwks)
	if err != nil {
		panic(err)
	}
	for _, k := range keys {
		fmt.Println("usable:", k.ID(), k.Algorithms())
	}
	for _, e := range skipped {
		fmt.Println("skipped:", e)
	}
	set, _ := keyset.NewStatic(keys...)
	k, err := set.Key(context.Background(), jwtverify.Lookup{KID: "sig-1", Alg: "ES256"})
	fmt.Println(k.ID(), err)
	_, err = set.Key(context.Background(), jwtverify.Lookup{KID: "enc-1", Alg: "ES256"})
	fmt.Println(err)
	// Output:
	// usable: sig-1 [ES256]
	// skipped: key 1 (kid "enc-1"): invalid key: JWK use "enc" is not sig
	// skipped: key 2 (kid "ed448"): unsupported key: OKP curve is not supported
	// sig-1 <nil>
	// unknown_key: no key has the token's kid
}
