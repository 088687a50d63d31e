package fuzz

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/backendtest"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/backends/jwx"
	"github.com/jwtverify/jwtverify/backends/native"
	"github.com/jwtverify/jwtverify/internal/ed25519pt"
	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/keyset"
)

// maxInput caps fuzz inputs: larger ones only exercise the size limit.
const maxInput = 64 << 10

// env is the fixed key set, policy and verifiers every target uses.
type env struct {
	fix       *backendtest.Fixture
	verifiers []*jwtverify.Verifier // golang-jwt, jwx
}

var loadEnv = sync.OnceValues(func() (*env, error) {
	fix, err := backendtest.NewFixture()
	if err != nil {
		return nil, err
	}
	jb, err := jwx.NewBackend()
	if err != nil {
		return nil, err
	}
	e := &env{fix: fix}
	for _, b := range []jwtverify.Backend{golangjwt.Backend{}, jb, native.Backend{}} {
		cfg := fix.Config()
		cfg.Leeway = 30 * time.Second
		v, err := jwtverify.New(b, cfg)
		if err != nil {
			return nil, err
		}
		e.verifiers = append(e.verifiers, v)
	}
	return e, nil
})

func getEnv(f *testing.F) *env {
	e, err := loadEnv()
	if err != nil {
		f.Fatal(err)
	}
	return e
}

var sampled atomic.Uint64

// checkOne verifies token with v and checks the properties every verdict
// must have: a token and no error, or no token and exactly one class; error
// text free of token content; allocation bounded by the input size.
func checkOne(t *testing.T, v *jwtverify.Verifier, token string) (*jwtverify.Token, error) {
	var tok *jwtverify.Token
	var err error
	verify := func() { tok, err = v.Verify(context.Background(), token) }
	if sampled.Add(1)%64 == 0 {
		if grew, ok := allocBounded(uint64(16*len(token)+64<<10), verify); !ok {
			t.Fatalf("%s: %d bytes allocated for a %d-byte token", v.BackendName(), grew, len(token))
		}
	} else {
		verify()
	}
	if err == nil {
		if tok == nil || len(tok.Claims.Raw) == 0 {
			t.Fatalf("%s: accepted without claims", v.BackendName())
		}
		return tok, nil
	}
	if tok != nil {
		t.Fatalf("%s: token returned with error %v", v.BackendName(), err)
	}
	n := 0
	for _, c := range []error{jwtverify.ErrTooLarge, jwtverify.ErrMalformed, jwtverify.ErrUnsupported, jwtverify.ErrType,
		jwtverify.ErrAlgorithm, jwtverify.ErrKeysUnavailable, jwtverify.ErrUnknownKey, jwtverify.ErrSignature,
		jwtverify.ErrMissingClaim, jwtverify.ErrIssuer, jwtverify.ErrAudience, jwtverify.ErrExpired,
		jwtverify.ErrNotYetValid, jwtverify.ErrIssuedInFuture} {
		if errors.Is(err, c) {
			n++
		}
	}
	if n != 1 || jwtverify.Class(err) == "" {
		t.Fatalf("%s: error %q matches %d classes", v.BackendName(), err, n)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, jwtverify.Class(err)+": ") {
		t.Fatalf("%s: error %q is not CLASS: detail", v.BackendName(), msg)
	}
	for _, seg := range strings.Split(token, ".") {
		if len(seg) >= 8 && strings.Contains(msg, seg) {
			t.Fatalf("%s: error text contains a token segment: %q", v.BackendName(), msg)
		}
	}
	return nil, err
}

// allocBounded runs f and reports whether it allocated at most limit bytes.
// Over the limit, f runs once more and only a second excess counts: the
// first call in a fresh process may build a process-wide table (the first
// P-384 verification builds a 255 KB generator table), which is not a cost
// of the input. It returns the bytes of the last measured run.
func allocBounded(limit uint64, f func()) (uint64, bool) {
	var grew uint64
	for range 2 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		if grew = after.TotalAlloc - before.TotalAlloc; grew <= limit {
			return grew, true
		}
	}
	return grew, false
}

func fuzzVerify(f *testing.F, backend int) {
	e := getEnv(f)
	f.Fuzz(func(t *testing.T, token string) {
		if len(token) > maxInput {
			return
		}
		checkOne(t, e.verifiers[backend], token)
	})
}

// FuzzVerifyGolangJWT sends arbitrary tokens through the golang-jwt backend.
func FuzzVerifyGolangJWT(f *testing.F) { fuzzVerify(f, 0) }

// FuzzVerifyJWX sends arbitrary tokens through the jwx backend.
func FuzzVerifyJWX(f *testing.F) { fuzzVerify(f, 1) }

// FuzzVerifyNative sends arbitrary tokens through the native backend.
func FuzzVerifyNative(f *testing.F) { fuzzVerify(f, 2) }

// FuzzBackendsAgree checks that every backend gives the same verdict, class
// and claims for the same input.
func FuzzBackendsAgree(f *testing.F) {
	e := getEnv(f)
	f.Fuzz(func(t *testing.T, token string) {
		if len(token) > maxInput {
			return
		}
		tok0, err0 := checkOne(t, e.verifiers[0], token)
		for _, v := range e.verifiers[1:] {
			tok, err := checkOne(t, v, token)
			if jwtverify.Class(err) != jwtverify.Class(err0) {
				t.Fatalf("%s says %v; %s says %v", e.verifiers[0].BackendName(), err0, v.BackendName(), err)
			}
			if err == nil && tok.Claims.Raw != tok0.Claims.Raw {
				t.Fatal("backends accept with different claims")
			}
		}
	})
}

// resignAlgs are the algorithms FuzzResign signs with, one fixture key each.
var resignAlgs = []string{"ES256", "EdDSA", "HS256", "RS256", "PS256", "ES384", "HS512"}

// FuzzResign mutates the header and payload JSON, signs them with the
// fixture key of an algorithm and verifies: this reaches the header rules,
// the claim policy and the JSON decoding, which random signatures never
// reach. An acceptance must satisfy an independent reference check, and
// the backends must agree.
func FuzzResign(f *testing.F) {
	e := getEnv(f)
	now := backendtest.Now().Unix()
	for i, alg := range resignAlgs {
		f.Add(uint8(i), `{"alg":"`+alg+`","kid":"`+kidFor(alg)+`"}`, `{"iss":"`+backendtest.Issuer+`","aud":"api","exp":`+itoa(now+3600)+`}`)
	}
	f.Add(uint8(0), `{"alg":"ES256","kid":"ec-256","typ":"JWT"}`, `{"iss":"`+backendtest.Issuer+`","aud":["x","api"],"exp":`+itoa(now+60)+`.5,"nbf":`+itoa(now)+`,"iat":`+itoa(now-5)+`,"sub":"s","jti":"j"}`)
	f.Add(uint8(1), `{"alg":"EdDSA"}`, `{"iss":"`+backendtest.Issuer+`","aud":"api","exp":1e10}`)
	f.Add(uint8(2), `{"alg":"HS256","kid":"hs","crit":["b64"],"b64":false}`, `{"iss":"`+backendtest.Issuer+`","aud":"api","exp":`+itoa(now+3600)+`}`)
	f.Add(uint8(0), `{"alg":"ES256","kid":"ec-256"}`, `{"iss":"`+backendtest.Issuer+`","aud":"api","exp":`+itoa(now+3600)+`,"exp":1}`)
	f.Add(uint8(0), `{"alg":"ES256","kid":"ec-256"}`, `{"iss":"`+backendtest.Issuer+`","aud":"api","exp":`+itoa(now-29)+`}`)
	f.Add(uint8(0), `{"alg":"ES256","kid":"ec-256"}`, `{"iss":"`+backendtest.Issuer+`","aud":"api","exp":`+itoa(now+3600)+`,"nbf":`+itoa(now+31)+`}`)
	f.Fuzz(func(t *testing.T, which uint8, header, payload string) {
		if len(header)+len(payload) > maxInput {
			return
		}
		alg := resignAlgs[int(which)%len(resignAlgs)]
		token := e.fix.SignRaw(alg, kidFor(alg), header, payload)
		var first *jwtverify.Token
		var firstErr error
		for i, v := range e.verifiers {
			tok, err := checkOne(t, v, token)
			if i == 0 {
				first, firstErr = tok, err
			} else if jwtverify.Class(err) != jwtverify.Class(firstErr) {
				t.Fatalf("%s says %v; %s says %v", e.verifiers[0].BackendName(), firstErr, v.BackendName(), err)
			}
		}
		if firstErr != nil {
			return
		}
		if why := reference(alg, header, payload, backendtest.Now(), 30*time.Second); why != "" {
			t.Fatalf("accepted, but the reference check says: %s", why)
		}
		checkClaims(t, first, payload)
	})
}

func kidFor(alg string) string {
	switch alg {
	case "ES256":
		return "ec-256"
	case "ES384":
		return "ec-384"
	case "EdDSA":
		return "ed"
	case "HS256", "HS512":
		return "hs"
	case "RS256":
		return "rsa-1"
	}
	return "rsa-2" // PS256
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// reference is the obviously-correct policy, written without the library:
// it returns why a token must not be accepted, or "" when it may be.
func reference(alg, header, payload string, now time.Time, leeway time.Duration) string {
	var h map[string]any
	if err := strictDecode(header, &h); err != nil {
		return "header: " + err.Error()
	}
	if h["alg"] != alg {
		return "header alg differs from the signing algorithm"
	}
	if _, ok := h["crit"]; ok {
		return "crit present"
	}
	if b, ok := h["b64"]; ok && b != true {
		return "b64 not true"
	}
	for _, name := range []string{"kid", "typ"} {
		if v, ok := h[name]; ok {
			if _, isStr := v.(string); !isStr {
				return name + " not a string"
			}
		}
	}
	var c map[string]any
	if err := strictDecode(payload, &c); err != nil {
		return "payload: " + err.Error()
	}
	if c["iss"] != backendtest.Issuer {
		return "iss"
	}
	audOK := false
	switch a := c["aud"].(type) {
	case string:
		audOK = a == backendtest.Audience
	case []any:
		for _, x := range a {
			s, isStr := x.(string)
			if !isStr {
				return "aud element not a string"
			}
			audOK = audOK || s == backendtest.Audience
		}
	}
	if !audOK {
		return "aud"
	}
	for _, name := range []string{"sub", "jti"} {
		if v, ok := c[name]; ok {
			if _, isStr := v.(string); !isStr {
				return name + " not a string"
			}
		}
	}
	date := func(name string) (float64, bool, string) {
		v, ok := c[name]
		if !ok {
			return 0, false, ""
		}
		n, isNum := v.(json.Number)
		if !isNum {
			return 0, true, name + " not a number"
		}
		x, err := n.Float64()
		if err != nil || math.IsInf(x, 0) || x < 0 || x > 253402300799 {
			return 0, true, name + " out of range"
		}
		return x, true, ""
	}
	t := float64(now.UnixNano()) / 1e9
	l := leeway.Seconds()
	exp, ok, bad := date("exp")
	if bad != "" || !ok || t >= exp+l {
		return "exp missing, bad or past: " + bad
	}
	if nbf, ok, bad := date("nbf"); bad != "" || (ok && t < nbf-l) {
		return "nbf bad or in the future: " + bad
	}
	if iat, ok, bad := date("iat"); bad != "" || (ok && iat > t+l) {
		return "iat bad or in the future: " + bad
	}
	return ""
}

// strictDecode decodes one JSON object with encoding/json and refuses what
// the library's rules refuse and encoding/json would let through:
// duplicate names and names equal under case folding (at any depth),
// invalid UTF-8, trailing data.
func strictDecode(s string, v *map[string]any) error {
	if !utf8.ValidString(s) {
		return errors.New("invalid UTF-8")
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data")
	}
	if *v == nil {
		return errors.New("not an object")
	}
	if dupes(json.NewDecoder(strings.NewReader(s))) {
		return errors.New("duplicate member, or two equal under case folding")
	}
	return nil
}

// dupes walks the token stream and reports, in any object, two names that
// encoding/json would decode into one struct field: equal, or equal under
// strings.EqualFold (the folding encoding/json applies to field names).
func dupes(dec *json.Decoder) bool {
	type frame struct {
		names []string
		isObj bool
		key   bool // the next string token is a name
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch x := tok.(type) {
		case json.Delim:
			switch x {
			case '{':
				if top != nil && top.isObj {
					top.key = true
				}
				stack = append(stack, &frame{isObj: true, key: true})
				continue
			case '[':
				if top != nil && top.isObj {
					top.key = true
				}
				stack = append(stack, &frame{})
				continue
			default:
				stack = stack[:len(stack)-1]
				continue
			}
		case string:
			if top != nil && top.isObj && top.key {
				for _, name := range top.names {
					if strings.EqualFold(name, x) {
						return true
					}
				}
				top.names = append(top.names, x)
				top.key = false
				continue
			}
		}
		if top != nil && top.isObj {
			top.key = true
		}
	}
}

// checkClaims compares the typed claims with the payload decoded by encoding/json.
func checkClaims(t *testing.T, tok *jwtverify.Token, payload string) {
	var c map[string]any
	if err := strictDecode(payload, &c); err != nil {
		t.Fatal(err)
	}
	if tok.Claims.Issuer != c["iss"] {
		t.Fatalf("Issuer %q, payload %v", tok.Claims.Issuer, c["iss"])
	}
	if s, _ := c["sub"].(string); tok.Claims.Subject != s {
		t.Fatalf("Subject %q, payload %v", tok.Claims.Subject, c["sub"])
	}
	got := float64(tok.Claims.ExpiresAt.Unix()) + float64(tok.Claims.ExpiresAt.Nanosecond())/1e9
	if exp, _ := c["exp"].(json.Number).Float64(); math.Abs(got-exp) > 1e-6*math.Max(1, exp) {
		t.Fatalf("ExpiresAt %v, payload %v", tok.Claims.ExpiresAt, c["exp"])
	}
}

// roundTrip serves one fixed body for every request.
type roundTrip []byte

func (b roundTrip) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(b)), Request: r}, nil
}

// FuzzJWKS parses arbitrary documents as key sets, statically and through
// the remote key set's fetch path, and checks every key that comes out
// against independent validity rules.
func FuzzJWKS(f *testing.F) {
	e := getEnv(f)
	ks := e.fix.Keys
	var keys []any
	for i, pub := range []any{&ks.RSA1.PublicKey, &ks.P256.PublicKey, &ks.P384.PublicKey, &ks.P521.PublicKey, ks.Ed25519.Public()} {
		m, _ := mint.JWK(pub, string(rune('a'+i)), "")
		keys = append(keys, m)
	}
	all, _ := json.Marshal(map[string]any{"keys": keys})
	f.Add(all)
	for _, k := range keys {
		one, _ := json.Marshal(map[string]any{"keys": []any{k}})
		f.Add(one)
	}
	for _, s := range []string{`{"keys":[]}`, `{}`, `{"keys":[{"kty":"oct","k":"AAAA"}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}`,
		`{"keys":[{"kty":"EC","crv":"P-256","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}`,
		`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxInput {
			return
		}
		parsed, _, err := keyset.ParseJWKS(data)
		if err == nil {
			for _, k := range parsed {
				checkKey(t, k)
			}
		}
		r, rerr := keyset.NewRemote("https://jwks.example/keys", keyset.RemoteConfig{
			Client: &http.Client{Transport: roundTrip(data)},
		})
		if rerr != nil {
			t.Fatal(rerr)
		}
		defer r.Close()
		ferr := r.Refresh(context.Background())
		if (ferr == nil) != (err == nil) {
			t.Fatalf("static parse says %v, remote fetch says %v", err, ferr)
		}
		for _, k := range parsed {
			for _, alg := range k.Algorithms() {
				got, err := r.Key(context.Background(), jwtverify.Lookup{KID: k.ID(), Alg: alg})
				if err == nil {
					checkKey(t, got)
				}
			}
		}
	})
}

// checkKey applies the rules a usable key must meet, independently of the
// code that made it.
func checkKey(t *testing.T, k jwtverify.Key) {
	switch p := k.Public().(type) {
	case *rsa.PublicKey:
		if p.N.BitLen() < 2048 || p.E < 3 || p.E%2 == 0 {
			t.Fatalf("weak RSA key usable: %d bits, e=%d", p.N.BitLen(), p.E)
		}
	case *ecdsa.PublicKey:
		if _, err := p.ECDH(); err != nil {
			t.Fatalf("invalid EC key usable: %v", err)
		}
	case ed25519.PublicKey:
		if !ed25519pt.Valid(p) {
			t.Fatal("invalid Ed25519 key usable")
		}
	default:
		t.Fatalf("key of type %T from a JWKS", p)
	}
	for _, alg := range k.Algorithms() {
		if strings.HasPrefix(alg, "HS") {
			t.Fatal("a JWKS key supports HMAC")
		}
	}
}

// TestAllocBounded checks the fuzz targets' allocation check: a one-time
// process-wide allocation passes, an allocation on every call fails.
func TestAllocBounded(t *testing.T) {
	var sink []byte
	var once sync.Once
	oneTime := func() { once.Do(func() { sink = make([]byte, 1<<20) }) }
	if grew, ok := allocBounded(64<<10, oneTime); !ok {
		t.Errorf("one-time allocation counted against the input: %d bytes", grew)
	}
	every := func() { sink = make([]byte, 1<<20) }
	if grew, ok := allocBounded(64<<10, every); ok || grew < 1<<20 {
		t.Errorf("allocation on every call passed: %d bytes, ok=%v", grew, ok)
	}
	_ = sink
}

// TestStrictDecodeRefusesFolding: the reference FuzzResign trusts refuses
// what the core refuses as duplicates, so a core that let a folded pair
// through would be caught.
func TestStrictDecodeRefusesFolding(t *testing.T) {
	for _, s := range []string{
		`{"sub":"a","sub":"b"}`,
		`{"sub":"a","Sub":"b"}`,
		`{"sub":"a","\u017fub":"b"}`,
		`{"kid":"a","\u212aid":"b"}`,
		`{"x":[{"role":"a","ROLE":"b"}]}`,
	} {
		var v map[string]any
		if err := strictDecode(s, &v); err == nil {
			t.Errorf("strictDecode(%s) = nil, want a refusal", s)
		}
	}
	var v map[string]any
	if err := strictDecode(`{"sub":"a","sup":"b","x":{"sub":1}}`, &v); err != nil {
		t.Errorf("strictDecode of distinct names: %v", err)
	}
}
