package keyset_test

import (
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
	"github.com/jwtverify/jwtverify/keyset"
)

// spiffeJWK is the JWK of pub with kid and, when use is not "", use, as
// SPIRE writes them.
func spiffeJWK(t *testing.T, pub *ecdsa.PublicKey, kid, use string) string {
	t.Helper()
	m, err := mint.JWK(pub, kid, "")
	if err != nil {
		t.Fatal(err)
	}
	if use != "" {
		m["use"] = use
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseSPIFFEBundle(t *testing.T) {
	ks := testkeys.Load()
	jwtKey := spiffeJWK(t, &ks.P256.PublicKey, "jwt-1", "jwt-svid")
	x509Key := spiffeJWK(t, &ks.P384.PublicKey, "x509-1", "x509-svid")
	bare := spiffeJWK(t, &ks.P521.PublicKey, "bare-1", "")
	sig := spiffeJWK(t, &ks.P384.PublicKey, "sig-1", "sig")
	for _, tc := range []struct {
		name      string
		doc       string
		kids      []string // usable keys, in order
		skipped   []string // a substring of each skip reason, in order
		errSubstr string   // "" for success
	}{
		{name: "SPIRE server bundle", doc: `{"keys":[` + x509Key + `,` + jwtKey + `],"spiffe_sequence":1,"spiffe_refresh_hint":300}`,
			kids: []string{"jwt-1"}, skipped: []string{`key 0 (kid "x509-1"): invalid key: JWK use "x509-svid" is for X.509-SVIDs and never verifies a JWT`}},
		{name: "Workload API bundle, no use", doc: `{"keys":[` + bare + `]}`, kids: []string{"bare-1"}},
		{name: "use sig is not a SPIFFE use", doc: `{"keys":[` + sig + `,` + jwtKey + `]}`,
			kids: []string{"jwt-1"}, skipped: []string{`JWK use "sig" is not jwt-svid`}},
		{name: "only x509-svid keys", doc: `{"keys":[` + x509Key + `],"spiffe_sequence":2}`,
			skipped: []string{"x509-svid"}, errSubstr: "JWKS has no usable key"},
		{name: "sequence not an integer", doc: `{"keys":[` + jwtKey + `],"spiffe_sequence":1.5}`, errSubstr: "spiffe_sequence is not a non-negative integer"},
		{name: "sequence negative", doc: `{"keys":[` + jwtKey + `],"spiffe_sequence":-1}`, errSubstr: "spiffe_sequence"},
		{name: "sequence a string", doc: `{"keys":[` + jwtKey + `],"spiffe_sequence":"1"}`, errSubstr: "spiffe_sequence"},
		{name: "refresh hint exponent", doc: `{"keys":[` + jwtKey + `],"spiffe_refresh_hint":3e2}`, errSubstr: "spiffe_refresh_hint"},
		{name: "not strict JSON", doc: `{"keys":[` + jwtKey + `],"spiffe_sequence":1,"spiffe_sequence":2}`, errSubstr: "not a strict JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, skipped, err := keyset.ParseSPIFFEBundle([]byte(tc.doc))
			if tc.errSubstr != "" {
				if err == nil || !errors.Is(err, keyset.ErrInvalidKey) || !strings.Contains(err.Error(), tc.errSubstr) {
					t.Fatalf("err = %v; want ErrInvalidKey containing %q", err, tc.errSubstr)
				}
			} else if err != nil {
				t.Fatalf("err = %v", err)
			}
			var kids []string
			for _, k := range keys {
				kids = append(kids, k.ID())
			}
			if strings.Join(kids, ",") != strings.Join(tc.kids, ",") {
				t.Errorf("keys %q; want %q", kids, tc.kids)
			}
			if len(skipped) != len(tc.skipped) {
				t.Fatalf("skipped %v; want %d", skipped, len(tc.skipped))
			}
			for i, s := range tc.skipped {
				if !strings.Contains(skipped[i].Error(), s) {
					t.Errorf("skipped[%d] = %v; want it to contain %q", i, skipped[i], s)
				}
			}
		})
	}
}

// TestParseJWKSRefusesSPIFFEUses: a plain JWKS keeps the RFC 7517 rule,
// use sig or none, so SPIFFE uses are skipped there.
func TestParseJWKSRefusesSPIFFEUses(t *testing.T) {
	ks := testkeys.Load()
	doc := `{"keys":[` + spiffeJWK(t, &ks.P256.PublicKey, "jwt-1", "jwt-svid") + `,` +
		spiffeJWK(t, &ks.P384.PublicKey, "x509-1", "x509-svid") + `],"spiffe_sequence":1}`
	keys, skipped, err := keyset.ParseJWKS([]byte(doc))
	if err == nil || len(keys) != 0 || len(skipped) != 2 {
		t.Fatalf("ParseJWKS = %d keys, %v, %v; want both keys skipped", len(keys), skipped, err)
	}
	if !strings.Contains(skipped[0].Error(), `JWK use "jwt-svid" is not sig`) {
		t.Errorf("skipped[0] = %v", skipped[0])
	}
}
