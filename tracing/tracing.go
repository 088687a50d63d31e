// Package tracing is an OpenTelemetry adapter for jwtverify: it gives a
// span for each verification ([Tracer.Verifier]) and for each request a
// keyset.Remote makes for its JWKS ([Tracer.Remote]).
//
// A verification span, [SpanVerify], is a child of the caller's span and
// carries the token's alg, kid and iss when the token is valid, and the
// result class ([jwtverify.Class]) either way. It never carries the token,
// any other claim, or the text of an error. A fetch span, [SpanFetch], is
// the root of a trace of its own, because one request serves every caller
// that waits for it: it links to the span of the caller that triggered
// it, and the span of every caller that waits for it links to it. It
// carries the trigger, the outcome, the number of keys and the URL as
// keyset.Remote.URL shows it, without userinfo, query or fragment.
//
// The adapter reads no global state: it uses the trace.TracerProvider it
// is given (otel.GetTracerProvider() is one, for a program that sets the
// global provider) and sets nothing global.
package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/middleware"
)

// ScopeName is the instrumentation scope of the spans: the name of the
// tracer that New takes from its provider.
const ScopeName = "github.com/jwtverify/jwtverify/tracing"

// Names of the spans.
const (
	// SpanVerify is the span of one Verify call (trace.SpanKindInternal),
	// a child of the span in the caller's context.
	SpanVerify = "jwtverify.Verify"
	// SpanFetch is the span of one request for a JWKS
	// (trace.SpanKindClient), the root of a trace of its own.
	SpanFetch = "jwtverify.jwks.fetch"
)

// Attribute keys of the spans. The values are fixed sets of words, counts,
// durations, the verified token's alg, kid and iss, and the JWKS URL
// without its secrets: never token content beyond those three.
const (
	// AttrAlgorithm is the verified token's alg (SpanVerify, valid only).
	AttrAlgorithm attribute.Key = "jwt.alg"
	// AttrKeyID is the verified token's kid, when it has one (SpanVerify,
	// valid only).
	AttrKeyID attribute.Key = "jwt.kid"
	// AttrIssuer is the verified token's iss, when it has one (SpanVerify,
	// valid only).
	AttrIssuer attribute.Key = "jwt.iss"
	// AttrResult is the result of a verification (SpanVerify): "valid",
	// the rejection class ([jwtverify.Class]: "expired", "signature",
	// "keys_unavailable", ...), or "error" for a failure of no class.
	AttrResult attribute.Key = "jwtverify.result"

	// AttrTrigger is what made a request (SpanFetch): "initial",
	// "scheduled", "stale", "unknown_kid" or "manual" (see
	// keyset.RefreshEvent.Trigger).
	AttrTrigger attribute.Key = "jwtverify.jwks.trigger"
	// AttrOutcome is how a request ended (SpanFetch): "updated",
	// "not_modified" or "failed" (see keyset.RefreshEvent.Outcome).
	AttrOutcome attribute.Key = "jwtverify.jwks.outcome"
	// AttrKeys is the number of usable keys in the set in use after the
	// request (SpanFetch).
	AttrKeys attribute.Key = "jwtverify.jwks.keys"
	// AttrSkipped is the number of keys of the response that were refused
	// (SpanFetch).
	AttrSkipped attribute.Key = "jwtverify.jwks.skipped"
	// AttrDuration is the duration of the request in seconds (SpanFetch).
	AttrDuration attribute.Key = "jwtverify.jwks.duration"
	// AttrAge is the age in seconds of the set in use after the request,
	// 0 right after a success (SpanFetch).
	AttrAge attribute.Key = "jwtverify.jwks.age"
	// AttrURL is the JWKS URL without userinfo, query or fragment, as
	// keyset.Remote.URL shows it (SpanFetch), after OpenTelemetry's
	// semantic conventions.
	AttrURL attribute.Key = "url.full"
)

// Values of AttrResult besides the rejection classes.
const (
	// ResultValid is the AttrResult of a valid token.
	ResultValid = "valid"
	// ResultError is the AttrResult of a failure with no rejection class:
	// a verifier that failed, or returned neither a token nor an error.
	ResultError = "error"
)

// Tracer makes the spans of verifications and JWKS requests with the
// tracer of one trace.TracerProvider.
//
// Make one with New. The zero Tracer, and a nil *Tracer, record nothing:
// they behave as New(nil). A Tracer is immutable and safe for concurrent
// use by multiple goroutines; the verifiers and hooks it returns may be
// used concurrently too. It does not own the provider: shutting the
// provider down (which flushes its spans) is the caller's job.
type Tracer struct {
	tracer trace.Tracer
}

// New returns a Tracer that makes its spans with tp's tracer named
// ScopeName. A nil tp is a no-op provider: the Tracer records nothing,
// and its verifiers and hooks only pass calls on. New keeps tp's tracer,
// which must be safe for concurrent use (the SDK's is); the caller still
// owns tp.
func New(tp trace.TracerProvider) *Tracer {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return &Tracer{tracer: tp.Tracer(ScopeName)}
}

// tr returns the tracer of t, a no-op one for a nil or zero Tracer.
func (t *Tracer) tr() trace.Tracer {
	if t == nil || t.tracer == nil {
		return noop.Tracer{}
	}
	return t.tracer
}

// Verifier returns a middleware.Verifier that runs each Verify of v in a
// span named SpanVerify, a child of the span in the caller's context,
// and passes v a context that carries the new span, so that the key
// lookup sees it (a keyset.Remote with the hooks of [Tracer.Remote] links
// it to the request it waits for). The token and the error are returned
// unchanged.
//
// The span's attributes are, for a valid token, AttrResult "valid",
// AttrAlgorithm, and AttrKeyID and AttrIssuer when not empty; for a
// failure, AttrResult alone, the error's class, and the status Error with
// that class as its description. Neither the token, nor any claim but
// iss, nor the error's text is recorded.
//
// v must not be nil (Verifier panics) and must be safe for concurrent use,
// as middleware.Verifier says; the returned Verifier is then too. The
// caller keeps ownership of v.
func (t *Tracer) Verifier(v middleware.Verifier) middleware.Verifier {
	if v == nil {
		panic("tracing: Verifier of a nil middleware.Verifier")
	}
	return &verifier{tracer: t.tr(), next: v}
}

// verifier is the middleware.Verifier of Tracer.Verifier.
type verifier struct {
	tracer trace.Tracer
	next   middleware.Verifier
}

func (v *verifier) Verify(ctx context.Context, token string) (*jwtverify.Token, error) {
	ctx, span := v.tracer.Start(ctx, SpanVerify, trace.WithSpanKind(trace.SpanKindInternal))
	defer span.End()
	tok, err := v.next.Verify(ctx, token)
	if !span.IsRecording() {
		return tok, err
	}
	if err == nil && tok != nil {
		attrs := make([]attribute.KeyValue, 0, 4)
		attrs = append(attrs, AttrResult.String(ResultValid), AttrAlgorithm.String(tok.Header.Algorithm))
		if tok.Header.KeyID != "" {
			attrs = append(attrs, AttrKeyID.String(tok.Header.KeyID))
		}
		if tok.Claims.Issuer != "" {
			attrs = append(attrs, AttrIssuer.String(tok.Claims.Issuer))
		}
		span.SetAttributes(attrs...)
		return tok, err
	}
	// A failure: its class only. The error's text is not recorded, nor
	// anything of the token: it was not accepted, so even its alg, kid
	// and iss are whatever its sender wrote.
	class := jwtverify.Class(err)
	if class == "" {
		class = ResultError // no class, or neither a token nor an error
	}
	span.SetAttributes(AttrResult.String(class))
	span.SetStatus(codes.Error, class)
	return tok, err
}
