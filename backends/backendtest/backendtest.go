// Package backendtest is the conformance suite every jwtverify.Backend must
// pass: every algorithm, every rejection class with the hostile inputs that
// produce it, signature edge cases (PSS salt lengths, out-of-range RSA,
// ECDSA and Ed25519 values, lenient PKCS #1 encodings), and the published
// vectors of RFC 7515 and RFC 8037; Wycheproof adds Project Wycheproof's
// vectors, committed under testdata/wycheproof and embedded. Because each
// case names the one class it expects, two backends that pass give the
// same verdict and class for every case; Agree checks that directly too.
package backendtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/b64url"
	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
	"github.com/jwtverify/jwtverify/keyset"
)

// Now returns the fixed instant of the suite, 2026-01-01T00:00:00Z: the
// clock of its Config, the time its tokens are valid at.
func Now() time.Time { return time.Unix(nowUnix, 0).UTC() }

const nowUnix = 1767225600 // 2026-01-01T00:00:00Z

// Issuer and Audience are the configured iss and aud of the suite.
const (
	Issuer   = "https://issuer.example"
	Audience = "api"
)

// Marker appears in attacker-chosen strings (kid, iss, aud, typ) of the
// hostile cases; no error text may contain it.
const Marker = "ZZmarkerZZ"

// Case is one conformance case: a token, an adjustment of the base
// config, and the one class expected. Cases returns fresh values the
// caller owns; a Case holds no state and may be used from several
// goroutines. The zero Case is no case.
type Case struct {
	Name   string
	Token  string
	Config func(*jwtverify.Config) // adjusts the base config; may be nil
	Want   error                   // nil: valid; otherwise the one class expected
}

// Fixture is the suite's key material and base configuration. Make one
// with NewFixture; the zero Fixture is not usable. A Fixture is not
// changed after NewFixture and is safe for concurrent use. Keys holds the
// private keys of the committed test fixtures, for signing; its type is in
// an internal package, so outside this module only its fields can be read.
// Static is the public half, one key per kid; both are shared, and must
// not be changed.
type Fixture struct {
	Keys   *testkeys.Set
	Static *keyset.Static
	// signer maps kid to the private key (or secret) that signs for it.
	signer map[string]any
}

// kids of the base key set.
var algKid = map[string]string{
	"RS256": "rsa-1", "RS384": "rsa-1", "RS512": "rsa-2",
	"PS256": "rsa-2", "PS384": "rsa-1", "PS512": "rsa-2",
	"ES256": "ec-256", "ES384": "ec-384", "ES512": "ec-521",
	"EdDSA": "ed", "HS256": "hs", "HS384": "hs", "HS512": "hs",
}

// NewFixture loads the committed test keys into a static key set with one
// key per kid: rsa-1, rsa-2, ec-256, ec-384, ec-521, ed and hs (a 64-byte
// HMAC secret).
func NewFixture() (*Fixture, error) {
	ks := testkeys.Load()
	f := &Fixture{Keys: ks, signer: map[string]any{
		"rsa-1": ks.RSA1, "rsa-2": ks.RSA2, "ec-256": ks.P256, "ec-384": ks.P384,
		"ec-521": ks.P521, "ed": ks.Ed25519, "hs": ks.HMAC,
	}}
	var keys []jwtverify.Key
	for _, kid := range []string{"rsa-1", "rsa-2", "ec-256", "ec-384", "ec-521", "ed", "hs"} {
		var k jwtverify.Key
		var err error
		switch p := f.signer[kid].(type) {
		case []byte:
			k, err = jwtverify.NewSecretKey(kid, "", p)
		case *rsa.PrivateKey:
			k, err = jwtverify.NewPublicKey(kid, "", &p.PublicKey)
		case *ecdsa.PrivateKey:
			k, err = jwtverify.NewPublicKey(kid, "", &p.PublicKey)
		case ed25519.PrivateKey:
			k, err = jwtverify.NewPublicKey(kid, "", p.Public())
		}
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	s, err := keyset.NewStatic(keys...)
	if err != nil {
		return nil, err
	}
	f.Static = s
	return f, nil
}

// Config returns the base configuration: the fixture's keys, the derived
// allowlist, Issuer, Audience and the clock fixed at Now.
func (f *Fixture) Config() jwtverify.Config {
	return jwtverify.Config{
		Keys:      f.Static,
		Issuers:   []string{Issuer},
		Audiences: []string{Audience},
		Now:       Now,
	}
}

// Claims returns a valid claim set at Now.
func Claims() map[string]any {
	return map[string]any{
		"iss": Issuer, "sub": "user-1", "aud": []string{Audience, "other"},
		"exp": Now().Add(time.Hour).Unix(), "nbf": Now().Add(-time.Minute).Unix(),
		"iat": Now().Add(-time.Minute).Unix(), "jti": "id-1",
		"scope": "read write", "roles": []string{"admin"},
	}
}

// Sign returns a token for alg signed with the fixture key of that
// algorithm, with header members (kid is set unless header has "kid": nil)
// and claims.
func (f *Fixture) Sign(alg string, header, claims map[string]any) string {
	kid := algKid[alg]
	h := map[string]any{"kid": kid}
	for k, v := range header {
		if v == nil {
			delete(h, k)
			continue
		}
		h[k] = v
	}
	tok, err := mint.Token(alg, f.signer[kid], h, claims)
	if err != nil {
		panic(err)
	}
	return tok
}

// SignRaw signs raw header and payload bytes with the key of kid for alg.
func (f *Fixture) SignRaw(alg, kid string, header, payload string) string {
	tok, err := mint.Raw(alg, f.signer[kid], []byte(header), []byte(payload))
	if err != nil {
		panic(err)
	}
	return tok
}

func with(claims map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range claims {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(out, k)
		} else {
			out[k] = kv[i+1]
		}
	}
	return out
}

func segs(tok string) []string { return strings.Split(tok, ".") }

func join(s ...string) string { return strings.Join(s, ".") }

// b64 is base64url without padding, for hand-built segments.
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// Cases returns the conformance table.
func (f *Fixture) Cases() []Case {
	c := Claims()
	var cases []Case
	add := func(name, tok string, want error, cfg func(*jwtverify.Config)) {
		cases = append(cases, Case{Name: name, Token: tok, Want: want, Config: cfg})
	}

	// Every algorithm, valid.
	for _, alg := range jwtverify.Algorithms() {
		add("valid/"+alg, f.Sign(alg, nil, c), nil, nil)
	}
	add("valid/no-kid-one-key-fits", f.Sign("ES256", map[string]any{"kid": nil}, c), nil, nil)
	add("valid/empty-kid-one-key-fits", f.Sign("EdDSA", map[string]any{"kid": ""}, c), nil, nil)
	add("valid/aud-string", f.Sign("ES256", nil, with(c, "aud", Audience)), nil, nil)
	add("valid/fractional-dates", f.Sign("ES256", nil, with(c, "exp", float64(Now().Unix())+0.5, "iat", float64(Now().Unix())-0.25)), nil, nil)
	add("valid/typ-at+jwt", f.Sign("ES256", map[string]any{"typ": "at+jwt"}, c), nil, func(cfg *jwtverify.Config) { cfg.Types = []string{"at+jwt"} })
	add("valid/typ-application-prefix-case", f.Sign("ES256", map[string]any{"typ": "application/AT+JWT"}, c), nil, func(cfg *jwtverify.Config) { cfg.Types = []string{"at+jwt"} })
	add("valid/exp-within-leeway", f.Sign("ES256", nil, with(c, "exp", Now().Add(-30*time.Second).Unix())), nil, func(cfg *jwtverify.Config) { cfg.Leeway = time.Minute })
	add("valid/no-exp-allowed", f.Sign("ES256", nil, with(c, "exp", nil)), nil, func(cfg *jwtverify.Config) { cfg.AllowMissingExpiry = true })
	add("valid/skip-issuer-audience", f.Sign("ES256", nil, with(c, "iss", nil, "aud", nil)), nil, func(cfg *jwtverify.Config) {
		cfg.Issuers, cfg.Audiences, cfg.SkipIssuerCheck, cfg.SkipAudienceCheck = nil, nil, true, true
	})
	add("valid/required-custom-claim", f.Sign("ES256", nil, c), nil, func(cfg *jwtverify.Config) { cfg.RequiredClaims = []string{"scope", "nbf"} })
	add("valid/ignored-jku-jwk-x5u-x5c", f.Sign("ES256", map[string]any{"jku": "https://evil.example/jwks", "x5u": "https://evil.example/x5u", "jwk": map[string]any{"kty": "oct", "k": "AAAA"}, "x5c": []string{"AAAA"}}, c), nil, nil)
	add("valid/b64-true", f.Sign("ES256", map[string]any{"b64": true}, c), nil, nil)

	es := f.Sign("ES256", nil, c)
	s := segs(es)

	// too_large
	// 16 KiB: the default jwtverify.Config.MaxTokenBytes documents; the pad
	// alone fills it, so the token exceeds it.
	add("too_large/over-default", f.Sign("ES256", nil, with(c, "pad", strings.Repeat("x", 16<<10))), jwtverify.ErrTooLarge, nil)
	add("too_large/1MiB", strings.Repeat("A", 1<<20), jwtverify.ErrTooLarge, nil)
	add("too_large/configured", es, jwtverify.ErrTooLarge, func(cfg *jwtverify.Config) { cfg.MaxTokenBytes = len(es) - 1 })

	// malformed: shape and encoding
	for name, tok := range map[string]string{
		"empty":              "",
		"one-segment":        s[0],
		"two-segments":       join(s[0], s[1]),
		"four-segments":      join(s[0], s[1], s[2], s[2]),
		"six-segments":       join(s[0], s[1], s[2], s[2], s[2], s[2]),
		"dots-only":          "..",
		"empty-header":       join("", s[1], s[2]),
		"padding":            join(s[0]+"=", s[1], s[2]),
		"std-alphabet":       join(strings.ReplaceAll(s[0], "J", "+"), s[1], s[2]),
		"space-inside":       join(s[0][:4]+" "+s[0][4:], s[1], s[2]),
		"newline-inside":     join(s[0], s[1][:4]+"\n"+s[1][4:], s[2]),
		"crlf-inside":        join(s[0], s[1], s[2][:4]+"\r\n"+s[2][4:]),
		"nul-inside":         join(s[0]+"\x00", s[1], s[2]),
		"leading-space":      " " + es,
		"trailing-newline":   es + "\n",
		"impossible-length":  join(s[0]+"A", s[1], s[2]),
		"noncanonical-sig":   join(s[0], s[1], nonCanonical(s[2])),
		"header-not-json":    join(b64("not json"), s[1], s[2]),
		"header-array":       join(b64(`["alg","ES256"]`), s[1], s[2]),
		"header-trailing":    join(b64(`{"alg":"ES256","kid":"ec-256"}x`), s[1], s[2]),
		"header-two-objects": join(b64(`{"alg":"ES256"}{"kid":"ec-256"}`), s[1], s[2]),
		"header-dup-alg":     join(b64(`{"alg":"HS256","alg":"ES256","kid":"ec-256"}`), s[1], s[2]),
		"header-dup-escaped": join(b64(`{"alg":"ES256","\u0061lg":"ES256","kid":"ec-256"}`), s[1], s[2]),
		"header-bad-utf8":    join(b64("{\"alg\":\"ES256\",\"kid\":\"\xff\"}"), s[1], s[2]),
		"header-no-alg":      join(b64(`{"kid":"ec-256"}`), s[1], s[2]),
		"header-alg-number":  join(b64(`{"alg":256,"kid":"ec-256"}`), s[1], s[2]),
		"header-alg-null":    join(b64(`{"alg":null,"kid":"ec-256"}`), s[1], s[2]),
		"header-kid-number":  join(b64(`{"alg":"ES256","kid":7}`), s[1], s[2]),
		"header-kid-object":  join(b64(`{"alg":"ES256","kid":{"a":"`+Marker+`"}}`), s[1], s[2]),
		"header-typ-array":   join(b64(`{"alg":"ES256","kid":"ec-256","typ":["JWT"]}`), s[1], s[2]),
		"header-b64-string":  join(b64(`{"alg":"ES256","kid":"ec-256","b64":"false"}`), s[1], s[2]),
		"header-crit-empty":  join(b64(`{"alg":"ES256","kid":"ec-256","crit":[]}`), s[1], s[2]),
		"header-crit-string": join(b64(`{"alg":"ES256","kid":"ec-256","crit":"exp"}`), s[1], s[2]),
	} {
		add("malformed/"+name, tok, jwtverify.ErrMalformed, nil)
	}
	deep := join(b64(`{"alg":"ES256","x":`+strings.Repeat("[", 100000)+strings.Repeat("]", 100000)+`}`), s[1], s[2])
	add("too_large/header-100000-deep", deep, jwtverify.ErrTooLarge, nil)
	add("malformed/header-100000-deep-under-raised-limit", deep, jwtverify.ErrMalformed, func(cfg *jwtverify.Config) { cfg.MaxTokenBytes = 1 << 20 })

	// malformed: payloads with valid signatures (judged only after the signature)
	for name, payload := range map[string]string{
		"payload-not-json":     `not json`,
		"payload-array":        `[1,2]`,
		"payload-empty":        ``,
		"payload-dup-exp":      `{"iss":"` + Issuer + `","aud":"api","exp":1,"exp":4102444800}`,
		"payload-dup-nested":   `{"iss":"` + Issuer + `","aud":"api","exp":4102444800,"n":{"a":1,"a":2}}`,
		"payload-trailing":     `{"iss":"` + Issuer + `","aud":"api","exp":4102444800} x`,
		"payload-bad-utf8":     "{\"iss\":\"" + Issuer + "\",\"aud\":\"api\",\"exp\":4102444800,\"x\":\"\xc0\xaf\"}",
		"payload-lone-surrog":  `{"iss":"` + Issuer + `","aud":"api","exp":4102444800,"x":"\udc00"}`,
		"payload-deep":         `{"iss":"` + Issuer + `","aud":"api","exp":4102444800,"x":` + strings.Repeat(`{"a":`, 1000) + `1` + strings.Repeat(`}`, 1000) + `}`,
		"exp-string":           `{"iss":"` + Issuer + `","aud":"api","exp":"4102444800"}`,
		"exp-bool":             `{"iss":"` + Issuer + `","aud":"api","exp":true}`,
		"exp-null":             `{"iss":"` + Issuer + `","aud":"api","exp":null}`,
		"exp-array":            `{"iss":"` + Issuer + `","aud":"api","exp":[4102444800]}`,
		"exp-1e309":            `{"iss":"` + Issuer + `","aud":"api","exp":1e309}`,
		"exp-negative":         `{"iss":"` + Issuer + `","aud":"api","exp":-1}`,
		"exp-after-9999":       `{"iss":"` + Issuer + `","aud":"api","exp":253402300800}`,
		"nbf-string":           `{"iss":"` + Issuer + `","aud":"api","exp":4102444800,"nbf":"0"}`,
		"iat-object":           `{"iss":"` + Issuer + `","aud":"api","exp":4102444800,"iat":{}}`,
		"aud-number":           `{"iss":"` + Issuer + `","aud":7,"exp":4102444800}`,
		"aud-object":           `{"iss":"` + Issuer + `","aud":{"api":true},"exp":4102444800}`,
		"aud-array-of-numbers": `{"iss":"` + Issuer + `","aud":["api",7],"exp":4102444800}`,
		"iss-number":           `{"iss":1,"aud":"api","exp":4102444800}`,
		"sub-null":             `{"iss":"` + Issuer + `","aud":"api","exp":4102444800,"sub":null}`,
	} {
		add("malformed/"+name, f.SignRaw("ES256", "ec-256", `{"alg":"ES256","kid":"ec-256"}`, payload), jwtverify.ErrMalformed, nil)
	}

	// unsupported
	add("unsupported/jwe-5-segments", join(b64(`{"alg":"RSA-OAEP","enc":"A256GCM"}`), "AAAA", "AAAA", "AAAA", "AAAA"), jwtverify.ErrUnsupported, nil)
	add("unsupported/crit-unknown", f.Sign("ES256", map[string]any{"crit": []string{Marker}, Marker: true}, c), jwtverify.ErrUnsupported, nil)
	add("unsupported/crit-exp", f.Sign("ES256", map[string]any{"crit": []string{"exp"}, "exp": 1}, c), jwtverify.ErrUnsupported, nil)
	add("unsupported/b64-false", f.Sign("ES256", map[string]any{"b64": false, "crit": nil}, c), jwtverify.ErrUnsupported, nil)

	// type
	atOnly := func(cfg *jwtverify.Config) { cfg.Types = []string{"at+jwt"} }
	add("type/missing", es, jwtverify.ErrType, atOnly)
	add("type/id-token-as-access-token", f.Sign("ES256", map[string]any{"typ": "JWT"}, c), jwtverify.ErrType, atOnly)
	add("type/kelvin-sign-is-not-k", f.Sign("ES256", map[string]any{"typ": "\u212Aey+jwt"}, c), jwtverify.ErrType, func(cfg *jwtverify.Config) { cfg.Types = []string{"key+jwt"} })
	// The largest MaxAge and Leeway jwtverify.Config documents: 100 years of
	// 365 days and 5m.
	add("valid/max-age-100-years", f.Sign("ES256", nil, c), nil, func(cfg *jwtverify.Config) { cfg.MaxAge = 100 * 365 * 24 * time.Hour; cfg.Leeway = 5 * time.Minute })
	add("type/attacker-string", f.Sign("ES256", map[string]any{"typ": Marker}, c), jwtverify.ErrType, atOnly)

	// algorithm
	for name, alg := range map[string]string{"none": "none", "None": "None", "NONE": "NONE", "nOnE": "nOnE"} {
		add("algorithm/"+name, join(b64(`{"alg":"`+alg+`"}`), s[1], ""), jwtverify.ErrAlgorithm, nil)
		add("algorithm/"+name+"-with-sig", join(b64(`{"alg":"`+alg+`","kid":"ec-256"}`), s[1], s[2]), jwtverify.ErrAlgorithm, nil)
	}
	add("algorithm/escaped-none", join(b64(`{"alg":"\u006eone"}`), s[1], ""), jwtverify.ErrAlgorithm, nil)
	add("algorithm/unknown-name", join(b64(`{"alg":"`+Marker+`","kid":"ec-256"}`), s[1], s[2]), jwtverify.ErrAlgorithm, nil)
	add("algorithm/lowercase-rs256", join(b64(`{"alg":"rs256","kid":"rsa-1"}`), s[1], s[2]), jwtverify.ErrAlgorithm, nil)
	add("algorithm/ES256K", join(b64(`{"alg":"ES256K","kid":"ec-256"}`), s[1], s[2]), jwtverify.ErrAlgorithm, nil)
	rsaPEM := testkeys.PublicPEM(&f.Keys.RSA1.PublicKey)
	for name, secret := range map[string][]byte{
		"pem": rsaPEM,
		"der": pemBody(rsaPEM),
		"jwk": jwkJSON(&f.Keys.RSA1.PublicKey),
	} {
		tok, _ := mint.Token("HS256", secret, map[string]any{"kid": "rsa-1"}, c)
		add("algorithm/key-confusion-hs256-with-rsa-"+name, tok, jwtverify.ErrAlgorithm, nil)
		add("algorithm/key-confusion-hs256-with-rsa-"+name+"-no-hmac-keys", tok, jwtverify.ErrAlgorithm, func(cfg *jwtverify.Config) { cfg.Keys = f.publicOnly() })
	}
	add("algorithm/not-in-allowlist", es, jwtverify.ErrAlgorithm, func(cfg *jwtverify.Config) { cfg.Algorithms = []string{"RS256"} })
	add("algorithm/rs256-with-ec-kid", join(b64(`{"alg":"RS256","kid":"ec-256"}`), s[1], s[2]), jwtverify.ErrAlgorithm, nil)
	add("algorithm/es384-with-p256-kid", join(b64(`{"alg":"ES384","kid":"ec-256"}`), s[1], s[2]), jwtverify.ErrAlgorithm, nil)
	add("algorithm/eddsa-with-rsa-kid", join(b64(`{"alg":"EdDSA","kid":"rsa-1"}`), s[1], s[2]), jwtverify.ErrAlgorithm, nil)

	// unknown_key
	for name, kid := range map[string]string{
		"unknown": "nope-" + Marker, "path": "../../../../etc/passwd" + Marker, "sql": "' OR 1=1 --" + Marker,
		"huge": strings.Repeat("k", 8000) + Marker, "control-chars": "\x00\r\n" + Marker,
	} {
		add("unknown_key/kid-"+name, f.Sign("ES256", map[string]any{"kid": kid}, c), jwtverify.ErrUnknownKey, nil)
	}
	add("unknown_key/no-kid-two-rsa-keys", f.Sign("RS256", map[string]any{"kid": nil}, c), jwtverify.ErrUnknownKey, nil)
	add("unknown_key/no-kid-hmac-and-no-kid", f.Sign("PS256", map[string]any{"kid": ""}, c), jwtverify.ErrUnknownKey, nil)

	// Header members that name keys are never used: tokens signed with the
	// attacker's own key and pointing at it.
	attacker := f.Keys.RSA2 // a key the verifier has under another kid
	attackerJWK, _ := mint.JWK(&attacker.PublicKey, "", "")
	for name, h := range map[string]map[string]any{
		"embedded-jwk": {"kid": "rsa-1", "jwk": attackerJWK},
		"jku":          {"kid": "rsa-1", "jku": "https://attacker.example/jwks.json"},
		"x5u":          {"kid": "rsa-1", "x5u": "https://attacker.example/cert.pem"},
		"x5c":          {"kid": "rsa-1", "x5c": []string{"MIIB"}},
	} {
		tok, _ := mint.Token("RS256", attacker, h, c)
		add("signature/attacker-key-via-"+name, tok, jwtverify.ErrSignature, nil)
	}
	add("unknown_key/kid-empty-two-keys-fit", f.Sign("RS256", map[string]any{"kid": ""}, c), jwtverify.ErrUnknownKey, nil)
	add("unknown_key/kid-number-is-malformed-not-unknown", join(b64(`{"alg":"RS256","kid":12}`), s[1], s[2]), jwtverify.ErrMalformed, nil)

	// signature
	tampered := join(s[0], b64(`{"iss":"`+Issuer+`","aud":"api","exp":4102444800,"admin":true}`), s[2])
	add("signature/tampered-payload", tampered, jwtverify.ErrSignature, nil)
	add("signature/tampered-header-typ", join(b64(`{"alg":"ES256","kid":"ec-256","typ":"JWT"}`), s[1], s[2]), jwtverify.ErrSignature, nil)
	add("signature/expired-and-bad-signature", join(s[0], b64(`{"iss":"`+Issuer+`","aud":"api","exp":1}`), s[2]), jwtverify.ErrSignature, nil)
	add("signature/other-rsa-key", f.SignRaw("RS256", "rsa-2", `{"alg":"RS256","kid":"rsa-1"}`, `{"iss":"`+Issuer+`","aud":"api","exp":4102444800}`), jwtverify.ErrSignature, nil)
	add("signature/empty", join(s[0], s[1], ""), jwtverify.ErrSignature, nil)
	add("signature/ecdsa-r-s-zero", join(s[0], s[1], b64(string(make([]byte, 64)))), jwtverify.ErrSignature, nil)
	add("signature/ecdsa-r-s-n", join(s[0], s[1], b64(string(append(p256N(), p256N()...)))), jwtverify.ErrSignature, nil)
	add("signature/ecdsa-short", join(s[0], s[1], b64(string(decode(s[2])[:63]))), jwtverify.ErrSignature, nil)
	add("signature/ecdsa-der", join(s[0], s[1], b64(string(toDER(decode(s[2]))))), jwtverify.ErrSignature, nil)
	rs := segs(f.Sign("RS256", nil, c))
	add("signature/rsa-short", join(rs[0], rs[1], b64(string(decode(rs[2])[1:]))), jwtverify.ErrSignature, nil)
	add("signature/rsa-long", join(rs[0], rs[1], b64(string(append([]byte{0}, decode(rs[2])...)))), jwtverify.ErrSignature, nil)
	hs := segs(f.Sign("HS256", nil, c))
	add("signature/hmac-flipped-bit", join(hs[0], hs[1], b64(flip(decode(hs[2])))), jwtverify.ErrSignature, nil)
	other, _ := mint.Token("HS256", []byte(strings.Repeat("s", 64)), map[string]any{"kid": "hs"}, c)
	add("signature/hmac-other-secret", other, jwtverify.ErrSignature, nil)
	ed := segs(f.Sign("EdDSA", nil, c))
	add("signature/eddsa-flipped-bit", join(ed[0], ed[1], b64(flip(decode(ed[2])))), jwtverify.ErrSignature, nil)

	// missing_claim
	add("missing_claim/exp", f.Sign("ES256", nil, with(c, "exp", nil)), jwtverify.ErrMissingClaim, nil)
	add("missing_claim/iss", f.Sign("ES256", nil, with(c, "iss", nil)), jwtverify.ErrMissingClaim, nil)
	add("missing_claim/aud", f.Sign("ES256", nil, with(c, "aud", nil)), jwtverify.ErrMissingClaim, nil)
	add("missing_claim/iat-with-max-age", f.Sign("ES256", nil, with(c, "iat", nil)), jwtverify.ErrMissingClaim, func(cfg *jwtverify.Config) { cfg.MaxAge = time.Hour })
	add("missing_claim/custom", es, jwtverify.ErrMissingClaim, func(cfg *jwtverify.Config) { cfg.RequiredClaims = []string{"tenant"} })
	add("missing_claim/before-issuer", f.Sign("ES256", nil, with(c, "exp", nil, "iss", "other")), jwtverify.ErrMissingClaim, nil)

	// issuer
	for name, iss := range map[string]string{
		"other": "https://evil.example" + Marker, "trailing-slash": Issuer + "/", "case": strings.ToUpper(Issuer),
		"unicode-normalization": "https://issuer.exa\u0301mple", "empty": "", "prefix": Issuer + ".evil" + Marker,
	} {
		add("issuer/"+name, f.Sign("ES256", nil, with(c, "iss", iss)), jwtverify.ErrIssuer, nil)
	}
	add("issuer/before-audience", f.Sign("ES256", nil, with(c, "iss", "x", "aud", "y")), jwtverify.ErrIssuer, nil)

	// audience
	add("audience/other", f.Sign("ES256", nil, with(c, "aud", "other"+Marker)), jwtverify.ErrAudience, nil)
	add("audience/empty-array", f.Sign("ES256", nil, with(c, "aud", []string{})), jwtverify.ErrAudience, nil)
	add("audience/case", f.Sign("ES256", nil, with(c, "aud", []string{"API"})), jwtverify.ErrAudience, nil)
	add("audience/before-expiry", f.Sign("ES256", nil, with(c, "aud", "x", "exp", 1)), jwtverify.ErrAudience, nil)

	// expired
	add("expired/past", f.Sign("ES256", nil, with(c, "exp", Now().Add(-time.Hour).Unix())), jwtverify.ErrExpired, nil)
	add("expired/exactly-now", f.Sign("ES256", nil, with(c, "exp", Now().Unix())), jwtverify.ErrExpired, nil)
	add("expired/beyond-leeway", f.Sign("ES256", nil, with(c, "exp", Now().Add(-2*time.Minute).Unix())), jwtverify.ErrExpired, func(cfg *jwtverify.Config) { cfg.Leeway = time.Minute })
	add("expired/zero", f.Sign("ES256", nil, with(c, "exp", 0)), jwtverify.ErrExpired, nil)
	add("expired/max-age", f.Sign("ES256", nil, with(c, "iat", Now().Add(-2*time.Hour).Unix())), jwtverify.ErrExpired, func(cfg *jwtverify.Config) { cfg.MaxAge = time.Hour })

	// not_yet_valid, issued_in_future
	add("not_yet_valid/nbf-future", f.Sign("ES256", nil, with(c, "nbf", Now().Add(time.Hour).Unix())), jwtverify.ErrNotYetValid, nil)
	add("not_yet_valid/beyond-leeway", f.Sign("ES256", nil, with(c, "nbf", Now().Add(2*time.Minute).Unix())), jwtverify.ErrNotYetValid, func(cfg *jwtverify.Config) { cfg.Leeway = time.Minute })
	add("valid/nbf-within-leeway", f.Sign("ES256", nil, with(c, "nbf", Now().Add(30*time.Second).Unix())), nil, func(cfg *jwtverify.Config) { cfg.Leeway = time.Minute })
	add("issued_in_future/iat", f.Sign("ES256", nil, with(c, "iat", Now().Add(time.Hour).Unix())), jwtverify.ErrIssuedInFuture, nil)
	add("valid/iat-within-leeway", f.Sign("ES256", nil, with(c, "iat", Now().Add(30*time.Second).Unix())), nil, func(cfg *jwtverify.Config) { cfg.Leeway = time.Minute })

	// A key source that hands out the wrong key (a bug, or a third-party
	// source) must still never key HMAC with a public key.
	liar := func(cfg *jwtverify.Config) { cfg.Keys = liarSource{f.signerKey("rsa-1")} }
	confusedPEM, _ := mint.Token("HS256", rsaPEM, map[string]any{"kid": "rsa-1"}, c)
	add("algorithm/key-source-returns-rsa-key-for-hs256", confusedPEM, jwtverify.ErrAlgorithm, liar)

	// A key source whose errors carry two classes and echo the kid.
	joined := func(cfg *jwtverify.Config) { cfg.Keys = joinedSource{cfg.Keys} }
	add("unknown_key/source-error-sanitized", f.Sign("ES256", map[string]any{"kid": Marker}, c), jwtverify.ErrUnknownKey, joined)

	// keys_unavailable
	add("keys_unavailable/source-down", es, jwtverify.ErrKeysUnavailable, func(cfg *jwtverify.Config) { cfg.Keys = downSource{cfg.Keys} })
	return append(cases, f.edgeCases(c)...)
}

// publicOnly is the fixture's key set without the HMAC key.
func (f *Fixture) publicOnly() jwtverify.KeySource {
	var keys []jwtverify.Key
	for _, kid := range []string{"rsa-1", "rsa-2", "ec-256"} {
		k, _ := f.Static.Key(context.Background(), jwtverify.Lookup{KID: kid, Alg: map[string]string{"rsa-1": "RS256", "rsa-2": "RS256", "ec-256": "ES256"}[kid]})
		keys = append(keys, k)
	}
	s, err := keyset.NewStatic(keys...)
	if err != nil {
		panic(err)
	}
	return s
}

func (f *Fixture) signerKey(kid string) jwtverify.Key {
	k, err := f.Static.Key(context.Background(), jwtverify.Lookup{KID: kid, Alg: "RS256"})
	if err != nil {
		panic(err)
	}
	return k
}

// liarSource returns its one key for every lookup and claims every algorithm.
type liarSource struct{ key jwtverify.Key }

func (l liarSource) Key(context.Context, jwtverify.Lookup) (jwtverify.Key, error) { return l.key, nil }
func (liarSource) Algorithms() []string                                           { return jwtverify.Algorithms() }

// joinedSource fails every lookup with an error that matches two classes
// and contains the kid.
type joinedSource struct{ jwtverify.KeySource }

func (joinedSource) Key(_ context.Context, l jwtverify.Lookup) (jwtverify.Key, error) {
	return jwtverify.Key{}, errors.Join(fmt.Errorf("%w: kid %s", jwtverify.ErrUnknownKey, l.KID), jwtverify.ErrExpired)
}

// counting counts signature checks.
type counting struct {
	jwtverify.Backend
	calls atomic.Int32
}

func (c *counting) VerifySignature(alg string, key any, input string, sig []byte) error {
	c.calls.Add(1)
	return c.Backend.VerifySignature(alg, key, input, sig)
}

// downSource is a key source whose keys cannot be had.
type downSource struct{ jwtverify.KeySource }

func (downSource) Key(context.Context, jwtverify.Lookup) (jwtverify.Key, error) {
	return jwtverify.Key{}, errors.New("connection refused")
}

// Run runs every case against b and fails on any verdict or class other
// than the expected one, on accepted tokens whose claims were not decoded,
// and on error text that contains the token, a segment of it, or Marker.
func Run(t *testing.T, b jwtverify.Backend) {
	t.Helper()
	f, err := NewFixture()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range f.Cases() {
		t.Run(tc.Name, func(t *testing.T) {
			cb := &counting{Backend: b}
			tok, err := f.verify(cb, tc)
			CheckResult(t, tc, tok, err)
			// Rejections must be cheap: no signature check when an earlier
			// check decides.
			switch tc.Want {
			case jwtverify.ErrTooLarge, jwtverify.ErrUnsupported, jwtverify.ErrType, jwtverify.ErrAlgorithm,
				jwtverify.ErrKeysUnavailable, jwtverify.ErrUnknownKey:
				if n := cb.calls.Load(); n != 0 {
					t.Fatalf("%d signature checks for a token rejected as %v", n, tc.Want)
				}
			}
		})
	}
	t.Run("rfc", func(t *testing.T) { RunVectors(t, b) })
}

func (f *Fixture) verify(b jwtverify.Backend, tc Case) (*jwtverify.Token, error) {
	cfg := f.Config()
	if tc.Config != nil {
		tc.Config(&cfg)
	}
	v, err := jwtverify.New(b, cfg)
	if err != nil {
		return nil, err
	}
	return v.Verify(context.Background(), tc.Token)
}

// CheckResult checks one verification outcome against its case.
func CheckResult(t *testing.T, tc Case, tok *jwtverify.Token, err error) {
	t.Helper()
	if tc.Want == nil {
		if err != nil {
			t.Fatalf("Verify() error = %v, want valid", err)
		}
		if tok == nil || len(tok.Claims.Raw) == 0 || tok.Header.Algorithm == "" {
			t.Fatalf("Verify() accepted but returned %+v", tok)
		}
		if tok.Claims.Issuer != Issuer && !strings.HasPrefix(tc.Name, "valid/skip") {
			t.Fatalf("Issuer = %q, want %q", tok.Claims.Issuer, Issuer)
		}
		if tok.Claims.ExpiresAt.IsZero() && !strings.Contains(tc.Name, "no-exp") {
			t.Fatal("ExpiresAt not decoded")
		}
		return
	}
	if tok != nil {
		t.Fatalf("Verify() returned a token with error %v", err)
	}
	if !errors.Is(err, tc.Want) {
		t.Fatalf("Verify() error = %v, want class %v", err, tc.Want)
	}
	if got := jwtverify.Class(err); got != tc.Want.Error() {
		t.Fatalf("Class() = %q, want %q", got, tc.Want.Error())
	}
	n := 0
	for _, c := range []error{jwtverify.ErrTooLarge, jwtverify.ErrMalformed, jwtverify.ErrUnsupported, jwtverify.ErrType, jwtverify.ErrAlgorithm, jwtverify.ErrKeysUnavailable, jwtverify.ErrUnknownKey, jwtverify.ErrSignature, jwtverify.ErrMissingClaim, jwtverify.ErrIssuer, jwtverify.ErrAudience, jwtverify.ErrExpired, jwtverify.ErrNotYetValid, jwtverify.ErrIssuedInFuture} {
		if errors.Is(err, c) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("error %v matches %d classes, want exactly 1", err, n)
	}
	CheckErrorText(t, err, tc.Token)
}

// CheckErrorText fails if err's text contains the token, any segment of it
// of four or more bytes, any decoded header or payload value, or Marker.
func CheckErrorText(t *testing.T, err error, token string) {
	t.Helper()
	msg := err.Error()
	if !strings.HasPrefix(msg, jwtverify.Class(err)+": ") {
		t.Fatalf("error text %q does not have the shape CLASS: detail", msg)
	}
	if strings.Contains(msg, Marker) {
		t.Fatalf("error text echoes attacker-chosen content: %q", msg)
	}
	if len(token) >= 4 && strings.Contains(msg, token) {
		t.Fatalf("error text contains the token: %q", msg)
	}
	for _, seg := range strings.Split(token, ".") {
		if len(seg) >= 4 && strings.Contains(msg, seg) {
			t.Fatalf("error text contains a token segment: %q", msg)
		}
	}
}

// RunVectors checks the published vectors: A.1-A.3 verify as JWTs at
// RFCNow; every vector's signature verifies at the backend level and fails
// once a bit of it is flipped; A.4 and RFC 8037 are rejected as malformed
// (their payloads are not claim sets) only after their signature held.
func RunVectors(t *testing.T, b jwtverify.Backend) {
	vectors, err := Vectors()
	if err != nil {
		t.Fatal(err)
	}
	if len(vectors) != 5 {
		t.Fatalf("got %d vectors, want 5", len(vectors))
	}
	for _, vec := range vectors {
		t.Run(vec.Name, func(t *testing.T) {
			key, err := vec.Key()
			if err != nil {
				t.Fatal(err)
			}
			s := segs(vec.Token)
			input, sig := s[0]+"."+s[1], decode(s[2])
			var material any = key.Public()
			if material == nil {
				secret, _ := b64url.DecodeString(jwkK(vec.JWK))
				material = secret
			}
			if err := b.VerifySignature(vec.Alg, material, input, sig); err != nil {
				t.Fatalf("VerifySignature: %v", err)
			}
			if err := b.VerifySignature(vec.Alg, material, input, []byte(flip(sig))); err == nil {
				t.Fatal("VerifySignature accepted a flipped signature")
			}
			ks, err := keyset.NewStatic(key)
			if err != nil {
				t.Fatal(err)
			}
			v, err := jwtverify.New(b, jwtverify.Config{
				Keys: ks, SkipIssuerCheck: true, SkipAudienceCheck: true,
				Now: func() time.Time { return time.Unix(RFCNow, 0) },
			})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := v.Verify(context.Background(), vec.Token)
			if vec.JWT {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if tok.Claims.Issuer != "joe" || tok.Claims.ExpiresAt.Unix() != 1300819380 {
					t.Fatalf("claims = %+v", tok.Claims)
				}
				var custom map[string]any
				if err := tok.Claims.Decode(&custom); err != nil || custom["http://example.com/is_root"] != true {
					t.Fatalf("Decode = %v, %v", custom, err)
				}
				if _, err := v.Verify(context.Background(), vec.Token[:len(vec.Token)-2]+flipChar(vec.Token[len(vec.Token)-2:])); !errors.Is(err, jwtverify.ErrSignature) && !errors.Is(err, jwtverify.ErrMalformed) {
					t.Fatalf("tampered vector: %v", err)
				}
				return
			}
			if !errors.Is(err, jwtverify.ErrMalformed) {
				t.Fatalf("Verify() = %v, want malformed (payload is not a claim set)", err)
			}
		})
	}
}
