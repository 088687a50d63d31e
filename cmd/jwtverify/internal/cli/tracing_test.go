package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/jwtverify/jwtverify/backends/backendtest"
	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/tracing"
)

// TestProxyTracing: with a tracer provider (what OTEL_EXPORTER_OTLP_*
// turn on), the proxy records a fetch span per key-set request and a
// verification span per token, the latter a child of the caller's W3C
// trace context, carrying the result and never the token.
func TestProxyTracing(t *testing.T) {
	f, c := fixture(t)
	jwk, _ := mint.JWK(&f.Keys.P256.PublicKey, "ec-256", "ES256")
	jwks, _ := json.Marshal(map[string]any{"keys": []any{jwk}})
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(jwks) }))
	defer keys.Close()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer upstream.Close()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(t.Context())

	pf := parseProxyFlags(t, "--listen", "127.0.0.1:0", "--upstream", upstream.URL, "--jwks", keys.URL,
		"--issuer", backendtest.Issuer, "--audience", backendtest.Audience)
	pf.tracerProvider = tp
	addr, _, stop := startProxy(t, pf)
	token := f.Sign("ES256", nil, c)
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req, _ := http.NewRequest("GET", addr+"/orders", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Traceparent", "00-"+traceID+"-"+parentID+"-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var fetches, verifies int
	for _, s := range exp.GetSpans() {
		switch s.Name {
		case tracing.SpanFetch:
			fetches++
		case tracing.SpanVerify:
			verifies++
			if s.SpanContext.TraceID().String() != traceID || s.Parent.SpanID().String() != parentID {
				t.Fatalf("verify span in trace %s under %s, want the caller's %s/%s", s.SpanContext.TraceID(), s.Parent.SpanID(), traceID, parentID)
			}
			if !hasAttr(s.Attributes, string(tracing.AttrResult), "valid") {
				t.Fatalf("verify span attributes %v", s.Attributes)
			}
			for _, a := range s.Attributes {
				if a.Value.AsString() == token {
					t.Fatal("the token is in a span")
				}
			}
		}
	}
	if fetches < 1 || verifies != 1 {
		t.Fatalf("%d fetch spans, %d verify spans; want at least 1 and exactly 1", fetches, verifies)
	}
}

func hasAttr(attrs []attribute.KeyValue, key, value string) bool {
	for _, a := range attrs {
		if string(a.Key) == key && a.Value.AsString() == value {
			return true
		}
	}
	return false
}
