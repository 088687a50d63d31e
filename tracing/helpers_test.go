package tracing_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/native"
	"github.com/jwtverify/jwtverify/jwttest"
)

const (
	issuer   = "https://issuer.example"
	audience = "aud-orders"
	// jwksURL carries a user name, a password and a query, which no span
	// may show; shownURL is the URL as keyset.Remote.URL shows it.
	jwksURL  = "https://jwks-user:pa55word@issuer.example/jwks?api_key=qu3ry"
	shownURL = "https://issuer.example/jwks"
)

// urlSecrets returns the parts of jwksURL that no span may show.
func urlSecrets() []string { return []string{"jwks-user", "pa55word", "api_key", "qu3ry"} }

// keys holds the tests' Ed25519 keys: k1 is published as "k1", other is
// published nowhere.
type keys struct {
	k1, other ed25519.PrivateKey
}

func newKeys() keys {
	return keys{
		k1:    ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize)),
		other: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, ed25519.SeedSize)),
	}
}

// jwks is the JWKS publishing k1 as "k1".
func (k keys) jwks() []byte {
	pub := k.k1.Public().(ed25519.PublicKey)
	b, _ := json.Marshal(map[string]any{"keys": []any{map[string]any{
		"kty": "OKP", "crv": "Ed25519", "kid": "k1", "alg": "EdDSA", "use": "sig",
		"x": base64.RawURLEncoding.EncodeToString(pub),
	}}})
	return b
}

// claims returns the claims of a token the tests' verifiers accept, with
// values (sub, jti, a custom claim) no span may show, and the changes of
// extra (a nil value deletes a claim).
func claims(extra map[string]any) map[string]any {
	c := map[string]any{
		"iss": issuer, "aud": audience, "sub": "subject-alice", "jti": "jti-4711",
		"email": "alice@private.example", "exp": time.Now().Add(time.Hour).Unix(),
	}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// claimSecrets returns the claim values of claims that no span may show.
func claimSecrets() []string {
	return []string{"subject-alice", "jti-4711", "alice@private.example", audience}
}

// sign returns a token of c signed by key, naming kid when not empty.
func sign(key ed25519.PrivateKey, kid string, c map[string]any) string {
	h := map[string]any{}
	if kid != "" {
		h["kid"] = kid
	}
	return jwttest.Sign("EdDSA", key, h, c)
}

// newVerifier returns a verifier of EdDSA tokens of issuer for audience
// over ks.
func newVerifier(t *testing.T, ks jwtverify.KeySource) *jwtverify.Verifier {
	t.Helper()
	v, err := native.New(jwtverify.Config{
		Keys: ks, Algorithms: []string{"EdDSA"}, Issuers: []string{issuer}, Audiences: []string{audience},
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// newProvider returns an SDK provider whose spans rec records.
func newProvider(t *testing.T) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	return tp, rec
}

// named returns the spans of spans named name.
func named[S sdktrace.ReadOnlySpan](spans []S, name string) []S {
	var out []S
	for _, s := range spans {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// attrs returns the attributes of s as text.
func attrs(s sdktrace.ReadOnlySpan) map[string]string {
	m := map[string]string{}
	for _, kv := range s.Attributes() {
		m[string(kv.Key)] = kv.Value.String()
	}
	return m
}

// checkAttrs fails unless s has exactly the attributes want.
func checkAttrs(t *testing.T, s sdktrace.ReadOnlySpan, want map[string]string) {
	t.Helper()
	if got := attrs(s); !maps.Equal(got, want) {
		t.Errorf("span %s: attributes %v, want %v", s.Name(), got, want)
	}
}

// linked returns the span contexts s links to.
func linked(s sdktrace.ReadOnlySpan) []trace.SpanContext {
	var out []trace.SpanContext
	for _, l := range s.Links() {
		out = append(out, l.SpanContext)
	}
	return out
}

// checkNoLeak fails if any text of the spans (name, attributes, events,
// status, links' attributes) contains one of secrets: for a token, the
// token, each of its segments, and the values of its claims.
func checkNoLeak(t *testing.T, spans []sdktrace.ReadOnlySpan, secrets ...string) {
	t.Helper()
	var all []string
	for _, s := range secrets {
		all = append(all, s)
		if strings.Count(s, ".") == 2 { // a compact JWS
			for _, seg := range strings.Split(s, ".") {
				if len(seg) >= 8 {
					all = append(all, seg)
				}
			}
		}
	}
	for _, s := range spans {
		texts := []string{s.Name(), s.Status().Description}
		for _, kv := range s.Attributes() {
			texts = append(texts, string(kv.Key), kv.Value.String())
		}
		for _, e := range s.Events() {
			texts = append(texts, e.Name)
			for _, kv := range e.Attributes {
				texts = append(texts, string(kv.Key), kv.Value.String())
			}
		}
		for _, l := range s.Links() {
			for _, kv := range l.Attributes {
				texts = append(texts, string(kv.Key), kv.Value.String())
			}
		}
		for _, text := range texts {
			for _, secret := range all {
				if strings.Contains(text, secret) {
					t.Errorf("span %s shows %q in %q", s.Name(), secret, text)
				}
			}
		}
	}
}

// origin is a JWKS endpoint reached in memory, an http.RoundTripper (a
// loopback socket is not a durable block in a synctest bubble). It serves
// body, can hold requests until released, and records the span context
// each request carries.
type origin struct {
	body     []byte
	requests atomic.Int32

	mu      sync.Mutex
	fail    error         // when set, requests fail with it
	hang    chan struct{} // when set, requests block until it is closed or they are cancelled
	entered chan struct{} // receives one value per hanging request
	spans   []trace.SpanContext
}

// newOrigin returns an origin serving body; in a bubble it must be made
// inside it. t.Cleanup releases hanging requests.
func newOrigin(t *testing.T, body []byte) *origin {
	o := &origin{body: body}
	t.Cleanup(o.release)
	return o
}

func (o *origin) client() *http.Client { return &http.Client{Transport: o} }

func (o *origin) RoundTrip(req *http.Request) (*http.Response, error) {
	o.requests.Add(1)
	o.mu.Lock()
	fail, hang, entered := o.fail, o.hang, o.entered
	o.spans = append(o.spans, trace.SpanContextFromContext(req.Context()))
	o.mu.Unlock()
	if fail != nil {
		return nil, fail
	}
	if hang != nil {
		entered <- struct{}{}
		select {
		case <-hang:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(bytes.NewReader(o.body)),
		Request:    req,
	}, nil
}

// hangRequests makes the next requests block until release; each one
// sends a value on the returned channel once it is blocked.
func (o *origin) hangRequests() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.hang, o.entered = make(chan struct{}), make(chan struct{}, 16)
	return o.entered
}

// release lets hanging requests answer; later ones do not hang.
func (o *origin) release() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.hang != nil {
		close(o.hang)
		o.hang = nil
	}
}

// failWith makes the next requests fail with err, as a transport does.
func (o *origin) failWith(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.fail = err
}

// requestSpans returns the span contexts the requests carried.
func (o *origin) requestSpans() []trace.SpanContext {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]trace.SpanContext(nil), o.spans...)
}

// transportFailure is the text of the transport failure of
// origin.failWith.
const transportFailure = "connection refused"
