package tracing_test

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/native"
	"github.com/jwtverify/jwtverify/jwttest"
	"github.com/jwtverify/jwtverify/keyset"
	"github.com/jwtverify/jwtverify/tracing"
)

// Spans of two verifications and of the JWKS request the first one waits
// for, recorded in memory here; a program gives New the provider of its
// exporter (OTLP, say).
func Example() {
	exporter := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	defer tp.Shutdown(context.Background())
	tr := tracing.New(tp)

	is := jwttest.NewIssuer("ES256") // a fake OpenID Provider on loopback
	defer is.Close()
	var cfg keyset.RemoteConfig
	tr.Remote(&cfg) // before NewRemote, which copies cfg
	keys, err := keyset.NewRemote(is.URL+"/jwks", cfg)
	if err != nil {
		panic(err)
	}
	defer keys.Close()
	inner, err := native.New(jwtverify.Config{
		Keys: keys, Algorithms: []string{"ES256"}, Issuers: []string{is.URL}, Audiences: []string{"api"},
	})
	if err != nil {
		panic(err)
	}
	v := tr.Verifier(inner)

	ctx := context.Background()
	for _, exp := range []time.Duration{time.Hour, -time.Hour} {
		v.Verify(ctx, is.Sign(nil, map[string]any{
			"iss": is.URL, "sub": "alice", "aud": "api", "exp": time.Now().Add(exp).Unix(),
		}))
	}

	spans := exporter.GetSpans()
	for _, s := range spans {
		set := attribute.NewSet(s.Attributes...)
		get := func(k attribute.Key) string { v, _ := set.Value(k); return v.String() }
		switch s.Name {
		case tracing.SpanFetch:
			fmt.Println(s.Name, get(tracing.AttrTrigger), get(tracing.AttrOutcome))
		case tracing.SpanVerify:
			fmt.Println(s.Name, get(tracing.AttrResult))
		}
	}
	// The first verification waited for the fetch: its span links to it.
	fmt.Println("linked:", spans[1].Links[0].SpanContext.Equal(spans[0].SpanContext))
	// Output:
	// jwtverify.jwks.fetch initial updated
	// jwtverify.Verify valid
	// jwtverify.Verify expired
	// linked: true
}
