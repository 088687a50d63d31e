package middleware_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/jwtverify/jwtverify/access"
	"github.com/jwtverify/jwtverify/middleware"
)

// reports collects what a Middleware logs and observes.
type reports struct {
	logs     bytes.Buffer
	mu       sync.Mutex
	outcomes []middleware.Outcome
	contexts []context.Context
}

func (rep *reports) options(opts middleware.Options) middleware.Options {
	opts.Logger = slog.New(slog.NewJSONHandler(&rep.logs, nil))
	opts.Observe = func(ctx context.Context, o middleware.Outcome) {
		rep.mu.Lock()
		defer rep.mu.Unlock()
		rep.outcomes = append(rep.outcomes, o)
		rep.contexts = append(rep.contexts, ctx)
	}
	return opts
}

// customBody is an ErrorHandler that writes its own body.
func customBody(w http.ResponseWriter, r *http.Request, o middleware.Outcome) {
	w.WriteHeader(o.Status)
	io.WriteString(w, "custom "+o.Class)
}

// Issue 10, item 5: Require is a method of its Middleware and answers with that
// Middleware's Realm and ErrorHandler (it used to write realm "api" and the default
// body when no token was in the context), and its refusals are logged and observed.
func TestRequireUsesItsOptions(t *testing.T) {
	e := newEnv(t)
	var rep reports
	mw, err := middleware.New(e.v, rep.options(middleware.Options{Realm: "orders", Route: "orders", ErrorHandler: customBody}))
	if err != nil {
		t.Fatal(err)
	}
	write := mw.Require(access.Scopes("orders:write"))(ok)
	tok := e.token(nil)
	for _, tt := range []struct {
		name      string
		h         http.Handler
		auth      string
		status    int
		challenge string
		body      string
	}{
		{"Require refuses", mw.Handler(write), "Bearer " + tok, 403, `Bearer realm="orders", error="insufficient_scope", scope="orders:write"`, "custom policy"},
		{"Require allows", mw.Handler(mw.Require(access.Scopes("orders:read"))(ok)), "Bearer " + tok, 200, "", "hello alice"},
		{"Require without Handler", write, "Bearer " + tok, 401, `Bearer realm="orders"`, "custom missing"},
	} {
		r := httptest.NewRequest("POST", "/orders/1", nil)
		r.Header.Set("Authorization", tt.auth)
		w := serve(t, tt.h, r)
		if w.Code != tt.status || w.Header().Get("WWW-Authenticate") != tt.challenge || w.Body.String() != tt.body {
			t.Errorf("%s: %d %q %q, want %d %q %q", tt.name, w.Code, w.Header().Get("WWW-Authenticate"), w.Body, tt.status, tt.challenge, tt.body)
		}
	}
	// Handler's outcome, then the refusal by Require; Handler's; Require's alone.
	want := []middleware.Outcome{
		{Route: "orders"},
		{Route: "orders", Status: 403, Class: "policy", Code: "insufficient_scope", Description: "the token does not allow this request"},
		{Route: "orders"},
		{Route: "orders", Status: 401, Class: "missing", Description: "bearer token required"},
	}
	if len(rep.outcomes) != len(want) {
		t.Fatalf("outcomes %+v, want %+v", rep.outcomes, want)
	}
	for i, o := range rep.outcomes {
		var d *access.Denied
		if i == 1 && (!errors.As(o.Err, &d) || d.Reason != "missing scope orders:write") {
			t.Errorf("outcome %d: Err %v, want the policy's Denied", i, o.Err)
		}
		o.Err, o.Duration = nil, 0
		if o != want[i] {
			t.Errorf("outcome %d: %+v, want %+v", i, o, want[i])
		}
	}
	// A Require of another Middleware judges the token this one verified,
	// and answers with its own realm.
	admin, _ := middleware.New(e.v, middleware.Options{Realm: "admin"})
	r := httptest.NewRequest("GET", "/admin", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	if w := serve(t, mw.Handler(admin.Require(access.Roles("admin"))(ok)), r); w.Code != 403 || w.Header().Get("WWW-Authenticate") != `Bearer realm="admin", error="insufficient_scope"` {
		t.Errorf("another Middleware's Require: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	logs := rep.logs.String()
	if !strings.Contains(logs, `"msg":"request refused","route":"orders","method":"POST","kid":"k1","iss":"https://issuer.example","sub":"alice","status":403,"reason":"the token does not allow this request","policy":"missing scope orders:write"`) {
		t.Errorf("Require's refusal is not logged:\n%s", logs)
	}
	for _, seg := range strings.Split(tok, ".") {
		if strings.Contains(logs, seg) {
			t.Fatal("logs contain the token")
		}
	}
}

type ctxMark struct{}

// Issue 10, item 5: Observe gets the request's context, so that a tracer can annotate
// the request's span; for a request passed on, FromContext finds the token in it.
func TestObserveGetsTheRequestContext(t *testing.T) {
	e := newEnv(t)
	var rep reports
	mw, _ := middleware.New(e.v, rep.options(middleware.Options{}))
	// An outer middleware, as a tracer's, puts its span in the context.
	traced := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxMark{}, "span")))
		})
	}
	h := traced(mw.Handler(mw.Require(access.Scopes("orders:write"))(ok)))
	for _, auth := range []string{"Bearer " + e.token(nil), "Bearer " + e.token(map[string]any{"scope": "orders:write"}), ""} {
		r := httptest.NewRequest("GET", "/", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		serve(t, h, r)
	}
	if len(rep.contexts) != 4 {
		t.Fatalf("%d outcomes, want 4: %+v", len(rep.contexts), rep.outcomes)
	}
	for i, ctx := range rep.contexts {
		if ctx.Value(ctxMark{}) != "span" {
			t.Errorf("outcome %d (%+v): Observe did not get the request's context", i, rep.outcomes[i])
		}
		tok, found := middleware.FromContext(ctx)
		if verified := rep.outcomes[i].Class != "missing"; found != verified || found && tok.Claims.Subject != "alice" {
			t.Errorf("outcome %d (%+v): FromContext = %v, %v", i, rep.outcomes[i], tok, found)
		}
	}
}

// Issue 10, item 5: Options.Extract takes the token from where a framework keeps it.
// Its errors are 400 with a fixed description: their text could hold the token.
func TestExtract(t *testing.T) {
	e := newEnv(t)
	good := e.token(nil)
	var rep reports
	errBad := errors.New("bad X-Api-Token " + good)
	mw, err := middleware.New(e.v, rep.options(middleware.Options{Extract: func(r *http.Request) (string, error) {
		switch v := r.Header.Values("X-Api-Token"); {
		case len(v) > 1:
			return "", errBad
		case len(v) == 1:
			return v[0], nil
		}
		return "", nil
	}}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		headers []string // X-Api-Token values
		auth    string
		status  int
		body    string
	}{
		{"custom header", []string{good}, "", 200, "hello alice"},
		{"none", nil, "", 401, `"error":"unauthorized"`},
		{"Authorization is not read", nil, "Bearer " + good, 401, `"error":"unauthorized"`},
		{"rejected", []string{"abc.def.ghi"}, "", 401, `"error":"invalid_token","error_description":"malformed"`},
		{"extractor error", []string{good, good}, "", 400, `{"error":"invalid_request","error_description":"malformed credentials"}`},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		for _, v := range tt.headers {
			r.Header.Add("X-Api-Token", v)
		}
		if tt.auth != "" {
			r.Header.Set("Authorization", tt.auth)
		}
		w := serve(t, mw.Handler(ok), r)
		if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.body) {
			t.Errorf("%s: %d %s, want %d %s", tt.name, w.Code, w.Body, tt.status, tt.body)
		}
		for _, seg := range strings.Split(good, ".") {
			if strings.Contains(w.Body.String(), seg) || strings.Contains(w.Header().Get("WWW-Authenticate"), seg) {
				t.Fatalf("%s: the response echoes the token", tt.name)
			}
		}
	}
	last := rep.outcomes[len(rep.outcomes)-1]
	if last.Class != "invalid_request" || last.Code != "invalid_request" || !errors.Is(last.Err, errBad) {
		t.Errorf("extractor error outcome %+v", last)
	}
	for _, seg := range strings.Split(good, ".") {
		if strings.Contains(rep.logs.String(), seg) {
			t.Fatal("logs contain the token")
		}
	}
}
