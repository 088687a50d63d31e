package tracing_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/native"
	"github.com/jwtverify/jwtverify/keyset"
	"github.com/jwtverify/jwtverify/middleware"
	"github.com/jwtverify/jwtverify/tracing"
)

// staticKeys is a key source holding k1 as "k1".
func staticKeys(t *testing.T, k keys) *keyset.Static {
	t.Helper()
	key, err := jwtverify.NewPublicKey("k1", "EdDSA", k.k1.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	ks, err := keyset.NewStatic(key)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// verifyIn verifies token with v in a span "caller" of tp and returns
// the caller span's context, the token and the error.
func verifyIn(tp trace.TracerProvider, v middleware.Verifier, token string) (trace.SpanContext, *jwtverify.Token, error) {
	ctx, parent := tp.Tracer("test").Start(context.Background(), "caller")
	defer parent.End()
	tok, err := v.Verify(ctx, token)
	return parent.SpanContext(), tok, err
}

// checkVerifySpan fails unless s is a SpanVerify span, internal, a child
// of parent.
func checkVerifySpan(t *testing.T, s sdktrace.ReadOnlySpan, parent trace.SpanContext) {
	t.Helper()
	if s.Name() != tracing.SpanVerify || s.SpanKind() != trace.SpanKindInternal {
		t.Errorf("span %q of kind %v, want %q, internal", s.Name(), s.SpanKind(), tracing.SpanVerify)
	}
	if !s.Parent().Equal(parent) || s.SpanContext().TraceID() != parent.TraceID() {
		t.Errorf("span %s: parent %v, want the caller's span %v", s.Name(), s.Parent(), parent)
	}
	if s.InstrumentationScope().Name != tracing.ScopeName {
		t.Errorf("span %s: scope %q, want %q", s.Name(), s.InstrumentationScope().Name, tracing.ScopeName)
	}
}

// TestVerifyValid: a valid token's span is a child of the caller's with
// alg, kid, iss and the result "valid", exactly, an unset status, and
// nothing of the token or its other claims; the token is returned as the
// wrapped verifier returned it.
func TestVerifyValid(t *testing.T) {
	tp, rec := newProvider(t)
	k := newKeys()
	v := tracing.New(tp).Verifier(newVerifier(t, staticKeys(t, k)))
	token := sign(k.k1, "k1", claims(nil))
	parent, tok, err := verifyIn(tp, v, token)
	if err != nil || tok == nil || tok.Claims.Subject != "subject-alice" {
		t.Fatalf("Verify: %v, %v", tok, err)
	}
	spans := named(rec.Ended(), tracing.SpanVerify)
	if len(spans) != 1 {
		t.Fatalf("%d verify spans, want 1", len(spans))
	}
	s := spans[0]
	checkVerifySpan(t, s, parent)
	checkAttrs(t, s, map[string]string{
		"jwt.alg": "EdDSA", "jwt.kid": "k1", "jwt.iss": issuer, "jwtverify.result": "valid",
	})
	if st := s.Status(); st.Code != codes.Unset || st.Description != "" {
		t.Errorf("status %v, want unset", st)
	}
	if len(s.Events()) != 0 || len(s.Links()) != 0 {
		t.Errorf("events %v, links %v, want none", s.Events(), s.Links())
	}
	checkNoLeak(t, rec.Ended(), append([]string{token}, claimSecrets()...)...)
}

// TestVerifyValidWithoutKidOrIss: a token without kid or iss gets no
// empty jwt.kid or jwt.iss attribute.
func TestVerifyValidWithoutKidOrIss(t *testing.T) {
	tp, rec := newProvider(t)
	k := newKeys()
	inner, err := jwtverify.New(native.Backend{}, jwtverify.Config{
		Keys: staticKeys(t, k), Algorithms: []string{"EdDSA"}, SkipIssuerCheck: true, Audiences: []string{audience},
	})
	if err != nil {
		t.Fatal(err)
	}
	v := tracing.New(tp).Verifier(inner)
	token := sign(k.k1, "", claims(map[string]any{"iss": nil}))
	parent, _, err := verifyIn(tp, v, token)
	if err != nil {
		t.Fatal(err)
	}
	spans := named(rec.Ended(), tracing.SpanVerify)
	if len(spans) != 1 {
		t.Fatalf("%d verify spans, want 1", len(spans))
	}
	checkVerifySpan(t, spans[0], parent)
	checkAttrs(t, spans[0], map[string]string{"jwt.alg": "EdDSA", "jwtverify.result": "valid"})
}

// fakeVerifier returns tok and err, whatever the token, and records the
// span its context carried.
type fakeVerifier struct {
	tok  *jwtverify.Token
	err  error
	span trace.SpanContext
}

func (f *fakeVerifier) Verify(ctx context.Context, _ string) (*jwtverify.Token, error) {
	f.span = trace.SpanContextFromContext(ctx)
	return f.tok, f.err
}

// TestVerifyRejected: a rejection's span carries the class alone, as
// jwtverify.result and as the Error status's description, and nothing of
// the token, its claims (not even alg, kid or iss: the token was not
// accepted) or the error's text; an error of no class, and a verifier
// that returns neither a token nor an error, are "error". The error is
// returned unchanged.
func TestVerifyRejected(t *testing.T) {
	k := newKeys()
	good := claims(nil)
	expired := claims(map[string]any{"exp": time.Now().Add(-time.Hour).Unix()})
	quoted := sign(k.k1, "k1", good)
	for _, tc := range []struct {
		name, token, class string
		fake               *fakeVerifier // nil: the real verifier
	}{
		{name: "expired", token: sign(k.k1, "k1", expired), class: "expired"},
		{name: "signature", token: sign(k.other, "k1", good), class: "signature"},
		{name: "unknown key", token: sign(k.other, "k2", good), class: "unknown_key"},
		{name: "malformed", token: sign(k.k1, "k1", claims(map[string]any{"exp": "tomorrow-at-noon"})), class: "malformed"},
		{name: "issuer", token: sign(k.k1, "k1", claims(map[string]any{"iss": "https://evil-issuer.example"})), class: "issuer"},
		// An error that quotes the token, as no error of jwtverify does:
		// the span must not show its text.
		{name: "no class", token: quoted, class: "error", fake: &fakeVerifier{err: fmt.Errorf("backend failed on %s", quoted)}},
		{name: "no token and no error", token: quoted, class: "error", fake: &fakeVerifier{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp, rec := newProvider(t)
			var inner middleware.Verifier = newVerifier(t, staticKeys(t, k))
			if tc.fake != nil {
				inner = tc.fake
			}
			parent, tok, err := verifyIn(tp, tracing.New(tp).Verifier(inner), tc.token)
			switch {
			case tok != nil:
				t.Fatalf("Verify returned a token %v (%v)", tok, err)
			case tc.fake == nil && jwtverify.Class(err) != tc.class:
				t.Fatalf("Verify: class %q, want %q (%v)", jwtverify.Class(err), tc.class, err)
			case tc.fake != nil && err != tc.fake.err:
				t.Fatalf("Verify returned %v, want the wrapped verifier's error %v unchanged", err, tc.fake.err)
			}
			spans := named(rec.Ended(), tracing.SpanVerify)
			if len(spans) != 1 {
				t.Fatalf("%d verify spans, want 1", len(spans))
			}
			s := spans[0]
			checkVerifySpan(t, s, parent)
			checkAttrs(t, s, map[string]string{"jwtverify.result": tc.class})
			if st := s.Status(); st.Code != codes.Error || st.Description != tc.class {
				t.Errorf("status %v, want Error %q", st, tc.class)
			}
			if len(s.Events()) != 0 {
				t.Errorf("events %v, want none", s.Events())
			}
			secrets := append([]string{tc.token, "evil-issuer", "backend failed", "tomorrow-at-noon"}, claimSecrets()...)
			checkNoLeak(t, rec.Ended(), secrets...)
		})
	}
}

// TestVerifyContextCarriesSpan: the wrapped verifier gets a context whose
// span is the verification's, so that a key lookup sees it.
func TestVerifyContextCarriesSpan(t *testing.T) {
	tp, rec := newProvider(t)
	fake := &fakeVerifier{tok: &jwtverify.Token{Header: jwtverify.Header{Algorithm: "ES256"}}}
	if _, _, err := verifyIn(tp, tracing.New(tp).Verifier(fake), "t"); err != nil {
		t.Fatal(err)
	}
	spans := named(rec.Ended(), tracing.SpanVerify)
	if len(spans) != 1 || !fake.span.Equal(spans[0].SpanContext()) {
		t.Fatalf("the wrapped verifier's context has span %v, want the verify span", fake.span)
	}
	checkAttrs(t, spans[0], map[string]string{"jwt.alg": "ES256", "jwtverify.result": "valid"})
}

// TestNoopTracer: New(nil), the zero Tracer and a nil *Tracer record
// nothing and pass the verifier's results through, and the caller's span
// stays the current one for the wrapped verifier.
func TestNoopTracer(t *testing.T) {
	tp, rec := newProvider(t)
	errBoom := errors.New("boom")
	for name, tr := range map[string]*tracing.Tracer{"New(nil)": tracing.New(nil), "zero": {}, "nil": nil} {
		t.Run(name, func(t *testing.T) {
			want := &jwtverify.Token{}
			for _, fake := range []*fakeVerifier{{tok: want}, {err: errBoom}} {
				parent, tok, err := verifyIn(tp, tr.Verifier(fake), "t")
				if tok != fake.tok || err != fake.err {
					t.Fatalf("Verify: %v, %v, want %v, %v", tok, err, fake.tok, fake.err)
				}
				if !fake.span.Equal(parent) {
					t.Fatalf("the wrapped verifier's context has span %v, want the caller's %v", fake.span, parent)
				}
			}
		})
	}
	if n := len(named(rec.Ended(), tracing.SpanVerify)); n != 0 {
		t.Fatalf("%d verify spans, want none", n)
	}
}

// TestVerifierNil: wrapping a nil verifier panics at once, not at the
// first Verify.
func TestVerifierNil(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Verifier(nil) did not panic")
		}
	}()
	tracing.New(nil).Verifier(nil)
}
