package dpop_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/dpop"
	"github.com/jwtverify/jwtverify/jwttest"
)

// A resource server checks the proof that comes with a DPoP-bound access
// token: for this request, by the key the token is bound to, once.
// (middleware.Options.DPoP does this for HTTP handlers.)
func ExampleChecker_Check() {
	c, err := dpop.New(golangjwt.Backend{}, dpop.Config{})
	if err != nil {
		panic(err)
	}
	client, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	const token = "the-access-token" // verified first; its cnf.jkt is below
	req := dpop.Request{
		Method:      "GET",
		URL:         "https://api.example/orders",
		AccessToken: token,
		JKT:         jwttest.Thumbprint(client),
	}
	proof := jwttest.DPoPProof("ES256", client, "GET", "https://api.example/orders", token, nil)
	fmt.Println(c.Check(context.Background(), proof, req))
	err = c.Check(context.Background(), proof, req)
	fmt.Println(errors.Is(err, dpop.ErrProof), err)
	// Output:
	// <nil>
	// true invalid_dpop_proof: jti was used within the proof window (replay)
}
