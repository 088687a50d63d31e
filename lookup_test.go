package jwtverify_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/backendtest"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
)

// recorder is a KeySource that records every Lookup and answers from next.
type recorder struct {
	next jwtverify.KeySource
	mu   sync.Mutex
	got  []jwtverify.Lookup
}

func (r *recorder) Key(ctx context.Context, l jwtverify.Lookup) (jwtverify.Key, error) {
	r.mu.Lock()
	r.got = append(r.got, l)
	r.mu.Unlock()
	return r.next.Key(ctx, l)
}

func (r *recorder) Algorithms() []string { return r.next.Algorithms() }

func (r *recorder) take() []jwtverify.Lookup {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

// TestLookup: Verify calls Key exactly once per token that reaches key
// lookup, never for one rejected before, with the token's kid and alg and
// with MayFetch set exactly when the token has a kid and its unverified
// payload is plausible: one strict JSON object, iss configured, exp
// present (unless AllowMissingExpiry) and not past beyond leeway. A
// payload the claims checks would refuse for another claim is judged on
// iss and exp alone, as before the contract had one method. Issuer is the
// token's iss when it has a kid and its payload is a strict object with a
// string iss, whatever the other claims.
func TestLookup(t *testing.T) {
	f := fixture(t)
	now := backendtest.Now()
	claims := func(kv ...any) map[string]any {
		c := backendtest.Claims()
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(c, kv[i].(string))
			} else {
				c[kv[i].(string)] = kv[i+1]
			}
		}
		return c
	}
	newKid := map[string]any{"kid": "new"}
	raw := func(payload string) string {
		return f.SignRaw("ES256", "ec-256", `{"alg":"ES256","kid":"new"}`, payload)
	}
	const iss, exp = `"iss":"` + backendtest.Issuer + `"`, `"exp":1767229200` // Now + 1h
	tests := []struct {
		name     string
		token    string
		mod      func(*jwtverify.Config)
		mayFetch bool
	}{
		{"plausible", f.Sign("ES256", newKid, claims()), nil, true},
		{"known kid, plausible", f.Sign("ES256", nil, claims()), nil, true},
		{"no kid", f.Sign("ES256", map[string]any{"kid": nil}, claims()), nil, false},
		{"other issuer", f.Sign("ES256", newKid, claims("iss", "https://evil.example")), nil, false},
		{"no iss", f.Sign("ES256", newKid, claims("iss", nil)), nil, false},
		{"no iss, issuer check skipped", f.Sign("ES256", newKid, claims("iss", nil)), func(c *jwtverify.Config) { c.Issuers, c.SkipIssuerCheck = nil, true }, true},
		{"iss not a string", raw(`{"iss":1,` + exp + `}`), nil, false},
		{"expired", f.Sign("ES256", newKid, claims("exp", now.Add(-time.Hour).Unix())), nil, false},
		{"exp exactly now", f.Sign("ES256", newKid, claims("exp", now.Unix())), nil, false},
		{"expired within leeway", f.Sign("ES256", newKid, claims("exp", now.Add(-30*time.Second).Unix())), func(c *jwtverify.Config) { c.Leeway = time.Minute }, true},
		{"no exp", f.Sign("ES256", newKid, claims("exp", nil)), nil, false},
		{"no exp, allowed", f.Sign("ES256", newKid, claims("exp", nil)), func(c *jwtverify.Config) { c.AllowMissingExpiry = true }, true},
		{"exp not a number", raw(`{` + iss + `,"exp":"tomorrow"}`), nil, false},
		{"payload not JSON", raw(`not json`), nil, false},
		{"duplicate exp", raw(`{` + iss + `,` + exp + `,"exp":1}`), nil, false},
		{"aud of the wrong type", raw(`{` + iss + `,` + exp + `,"aud":7}`), nil, true},
		{"nbf of the wrong type", raw(`{` + iss + `,` + exp + `,"nbf":"x"}`), nil, true},
		{"aud of the wrong type, expired", raw(`{` + iss + `,"exp":1,"aud":7}`), nil, false},
	}
	for _, tt := range tests {
		rec := &recorder{next: f.Static}
		cfg := f.Config()
		cfg.Keys = rec
		if tt.mod != nil {
			tt.mod(&cfg)
		}
		v, err := golangjwt.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		v.Verify(context.Background(), tt.token)
		got := rec.take()
		if len(got) != 1 {
			t.Errorf("%s: Key called %d times, want once", tt.name, len(got))
			continue
		}
		wantKid := "new"
		switch tt.name {
		case "known kid, plausible":
			wantKid = "ec-256"
		case "no kid":
			wantKid = ""
		}
		// Issuer is the token's iss when it has a kid and the payload is
		// a strict object with a string iss; "" otherwise.
		wantIss := ""
		switch tt.name {
		case "plausible", "known kid, plausible", "expired", "exp exactly now", "expired within leeway", "no exp", "no exp, allowed",
			"exp not a number", "aud of the wrong type", "nbf of the wrong type", "aud of the wrong type, expired":
			wantIss = backendtest.Issuer
		case "other issuer":
			wantIss = "https://evil.example"
		}
		if want := (jwtverify.Lookup{KID: wantKid, Alg: "ES256", MayFetch: tt.mayFetch, Issuer: wantIss}); got[0] != want {
			t.Errorf("%s: Lookup = %+v, want %+v", tt.name, got[0], want)
		}
	}

	// Tokens rejected before key lookup cost no lookup at all.
	rec := &recorder{next: f.Static}
	cfg := f.Config()
	cfg.Keys = rec
	v, err := golangjwt.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	good := f.Sign("ES256", newKid, claims())
	for name, tok := range map[string]string{
		"too large":        strings.Repeat("a", defaultMaxTokenBytes+1),
		"two segments":     "a.b",
		"header not JSON":  b64("x") + "." + strings.SplitN(good, ".", 2)[1],
		"alg none":         b64(`{"alg":"none","kid":"new"}`) + "." + strings.SplitN(good, ".", 2)[1],
		"alg not allowed":  f.SignRaw("HS256", "hs", `{"alg":"HS256","kid":"new"}`, `{}`),
		"crit":             f.Sign("ES256", map[string]any{"kid": "new", "crit": []string{"x"}}, claims()),
		"typ not accepted": f.Sign("ES256", map[string]any{"kid": "new", "typ": "JWT"}, claims()),
	} {
		v2 := v
		if name == "alg not allowed" || name == "typ not accepted" {
			c := cfg
			c.Algorithms = []string{"ES256"}
			c.Types = []string{"at+jwt"}
			if v2, err = golangjwt.New(c); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := v2.Verify(context.Background(), tok); err == nil {
			t.Fatalf("%s: accepted", name)
		}
		if got := rec.take(); len(got) != 0 {
			t.Errorf("%s: rejected before key lookup, yet Key was called %d times", name, len(got))
		}
	}
}

// failing is a KeySource that fails every lookup with err.
type failing struct{ err error }

func (s failing) Key(context.Context, jwtverify.Lookup) (jwtverify.Key, error) {
	return jwtverify.Key{}, s.err
}
func (failing) Algorithms() []string { return []string{"ES256"} }

// TestRejectInvalidClass: Reject with anything but a rejection sentinel
// (nil, an unrelated error, a wrapped sentinel) fails closed with class
// keys_unavailable, and says so in its text instead of passing for a real
// keys_unavailable; the invalid class's own text is not used. Verify
// passes such an error from a key source on with its text.
func TestRejectInvalidClass(t *testing.T) {
	for name, class := range map[string]error{
		"nil":              nil,
		"unrelated":        io.EOF,
		"wrapped sentinel": errors.Join(jwtverify.ErrExpired, errors.New("secret-ish text")),
		"config error":     jwtverify.ErrInvalidConfig,
	} {
		err := jwtverify.Reject(class, "detail")
		if jwtverify.Class(err) != "keys_unavailable" || !errors.Is(err, jwtverify.ErrKeysUnavailable) {
			t.Errorf("%s: Reject = %v, class %q; want keys_unavailable", name, err, jwtverify.Class(err))
		}
		if want := "keys_unavailable: jwtverify.Reject was given an invalid rejection class: detail"; err.Error() != want {
			t.Errorf("%s: text %q, want %q", name, err, want)
		}
		if class != nil && errors.Is(err, class) && class != jwtverify.ErrKeysUnavailable {
			t.Errorf("%s: the error wraps the invalid class", name)
		}
	}
	// Every sentinel is a valid class: text "class: detail", that class only.
	for _, c := range []error{jwtverify.ErrTooLarge, jwtverify.ErrMalformed, jwtverify.ErrUnsupported, jwtverify.ErrType,
		jwtverify.ErrAlgorithm, jwtverify.ErrKeysUnavailable, jwtverify.ErrUnknownKey, jwtverify.ErrSignature,
		jwtverify.ErrMissingClaim, jwtverify.ErrIssuer, jwtverify.ErrAudience, jwtverify.ErrExpired,
		jwtverify.ErrNotYetValid, jwtverify.ErrIssuedInFuture} {
		err := jwtverify.Reject(c, "d")
		if jwtverify.Class(err) != c.Error() || err.Error() != c.Error()+": d" {
			t.Errorf("Reject(%v) = %v", c, err)
		}
	}

	f := fixture(t)
	cfg := f.Config()
	cfg.Keys = failing{jwtverify.Reject(io.EOF, "lookup bug")}
	v, err := golangjwt.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(context.Background(), f.Sign("ES256", nil, backendtest.Claims()))
	if want := "keys_unavailable: jwtverify.Reject was given an invalid rejection class: lookup bug"; err == nil || err.Error() != want {
		t.Fatalf("Verify = %v, want %q", err, want)
	}
}

// TestZeroVerifier: the zero Verifier rejects every token, without a
// panic, and names no backend.
func TestZeroVerifier(t *testing.T) {
	f := fixture(t)
	var v jwtverify.Verifier
	for _, tok := range []string{"", "a.b.c", f.Sign("ES256", nil, backendtest.Claims())} {
		if _, err := v.Verify(context.Background(), tok); jwtverify.Class(err) == "" {
			t.Errorf("zero Verifier: Verify(%.10q) = %v, want a rejection", tok, err)
		}
	}
	if v.BackendName() != "" || len(v.Algorithms()) != 0 {
		t.Errorf("zero Verifier: BackendName %q, Algorithms %v", v.BackendName(), v.Algorithms())
	}
	real, err := golangjwt.New(f.Config())
	if err != nil {
		t.Fatal(err)
	}
	if real.BackendName() != "golang-jwt" {
		t.Errorf("BackendName = %q", real.BackendName())
	}
	algs := real.Algorithms()
	algs[0] = "changed"
	if real.Algorithms()[0] == "changed" {
		t.Error("Algorithms returns the Verifier's own slice")
	}
}
