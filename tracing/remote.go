package tracing

import (
	"context"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/jwtverify/jwtverify/keyset"
)

// Remote installs in cfg the hooks that give each request of a
// keyset.Remote made from cfg a span named SpanFetch, before NewRemote,
// NewSPIFFERemote or Discover copies cfg. cfg must not be nil.
//
// The span starts as the request does (RemoteConfig.OnFetch) as the root
// of a trace of its own (the request serves every caller waiting for it,
// and none of them may end it), of kind trace.SpanKindClient, with the
// attribute AttrTrigger and a link to the span of the caller that
// triggered the request, when that caller's context has one. The span is
// current in the request's context, so the HTTP request carries it (an
// instrumented http.Client propagates it). Each caller about to wait for
// the request (RemoteConfig.OnWait), the triggering one included, gets a
// link from its span to the fetch span: with [Tracer.Verifier], the
// caller's span is the SpanVerify of its verification. When the request
// ends (RemoteConfig.OnRefresh), the span gets AttrOutcome, AttrKeys,
// AttrSkipped, AttrDuration, AttrAge and AttrURL, and, for a failed
// request, the status Error with the error's text as its description,
// which the keyset package keeps free of URL secrets and response bytes;
// then it ends. A request whose span is not recorded (a sampler dropped
// it, or the Tracer records nothing) gets no links.
//
// Hooks already set in cfg are kept and called too, before this Tracer's
// own, with what they would get without it (the request's context then
// holds this Tracer's span besides their values): so another adapter
// (metrics, or another Tracer) may be installed in cfg before or after
// this one. The context the previous OnFetch returns is the one the span
// starts in. Remote may be called more than once on one cfg; each call installs
// hooks of its own. It keeps nothing of cfg but the hooks it chains, and
// the hooks are safe for concurrent use.
func (t *Tracer) Remote(cfg *keyset.RemoteConfig) {
	h := &hooks{
		tracer:    t.tr(),
		onFetch:   cfg.OnFetch,
		onWait:    cfg.OnWait,
		onRefresh: cfg.OnRefresh,
	}
	cfg.OnFetch, cfg.OnWait, cfg.OnRefresh = h.fetch, h.wait, h.refresh
}

// hooks is one installation of Tracer.Remote: its tracer and the hooks it
// chains. It is immutable.
type hooks struct {
	tracer    trace.Tracer
	onFetch   func(ctx context.Context, trigger string) context.Context
	onWait    func(caller, request context.Context)
	onRefresh func(ctx context.Context, ev keyset.RefreshEvent)
}

// fetchKey is the key under which the request's context holds the fetch
// span of one installation: its own, whatever span other hooks make
// current after it.
type fetchKey struct{ h *hooks }

// fetch is the OnFetch hook: it starts the fetch span. Called with the
// Remote's lock held, it only starts a span.
func (h *hooks) fetch(ctx context.Context, trigger string) context.Context {
	// The triggering caller's span, before a previous hook makes a span
	// of its own current.
	caller := trace.SpanContextFromContext(ctx)
	if h.onFetch != nil {
		if c := h.onFetch(ctx, trigger); c != nil {
			ctx = c
		}
	}
	opts := []trace.SpanStartOption{
		trace.WithNewRoot(),
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(AttrTrigger.String(trigger)),
	}
	if caller.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: caller}))
	}
	ctx, span := h.tracer.Start(ctx, SpanFetch, opts...)
	if span.IsRecording() {
		ctx = context.WithValue(ctx, fetchKey{h}, span)
	}
	return ctx
}

// span returns the fetch span that ctx, a request's context, holds for
// this installation, if it is recorded.
func (h *hooks) span(ctx context.Context) (trace.Span, bool) {
	s, ok := ctx.Value(fetchKey{h}).(trace.Span)
	return s, ok
}

// wait is the OnWait hook: it links the caller's span to the fetch span.
func (h *hooks) wait(caller, request context.Context) {
	if h.onWait != nil {
		h.onWait(caller, request)
	}
	fetch, ok := h.span(request)
	if !ok {
		return
	}
	// The fetch span may have ended by now (the request can finish
	// before a caller that joined it gets here): its SpanContext stays
	// valid, and the link is as true.
	if span := trace.SpanFromContext(caller); span.IsRecording() && span.SpanContext().IsValid() {
		span.AddLink(trace.Link{SpanContext: fetch.SpanContext()})
	}
}

// refresh is the OnRefresh hook: it records the outcome and ends the
// fetch span.
func (h *hooks) refresh(ctx context.Context, ev keyset.RefreshEvent) {
	if h.onRefresh != nil {
		h.onRefresh(ctx, ev)
	}
	span, ok := h.span(ctx)
	if !ok {
		return
	}
	span.SetAttributes(
		AttrURL.String(ev.URL),
		AttrOutcome.String(ev.Outcome),
		AttrKeys.Int(ev.Keys),
		AttrSkipped.Int(len(ev.Skipped)),
		AttrDuration.Float64(ev.Duration.Seconds()),
		AttrAge.Float64(ev.Age.Seconds()),
	)
	if ev.Outcome == "failed" {
		desc := "failed"
		if ev.Err != nil {
			desc = ev.Err.Error()
		}
		span.SetStatus(codes.Error, desc)
	}
	span.End()
}
