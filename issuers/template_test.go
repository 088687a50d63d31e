package issuers_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/backends/jwx"
	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
	"github.com/jwtverify/jwtverify/issuers"
	"github.com/jwtverify/jwtverify/keyset"
)

// entra is an identity provider shaped like Microsoft Entra's
// multi-tenant endpoint: /organizations/v2.0's discovery document names
// the issuer template .../{tenantid}/v2.0 and one key set for every
// tenant, whose keys carry an issuer member: the template for the common
// keys ("common"), one tenant's issuer for a tenant's own key ("own"),
// and none for one key ("bare").
type entra struct {
	srv      *httptest.Server
	template string
	jwks     atomic.Int32 // key-set requests
}

func newEntra(t *testing.T) *entra {
	t.Helper()
	ks := testkeys.Load()
	e := &entra{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := e.srv.URL
		switch r.URL.Path {
		case "/organizations/v2.0/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]any{"issuer": base + "/{tenantid}/v2.0", "jwks_uri": base + "/common/discovery/v2.0/keys"})
		case "/common/discovery/v2.0/keys":
			e.jwks.Add(1)
			var keys []any
			for _, k := range []struct {
				kid, issuer string
				pub         any
			}{
				{"common", base + "/{tenantid}/v2.0", &ks.RSA1.PublicKey},
				{"own", base + "/tenant-b/v2.0", &ks.RSA2.PublicKey},
				{"bare", "", &ks.P256.PublicKey},
			} {
				m, _ := mint.JWK(k.pub, k.kid, "")
				if k.issuer != "" {
					m["issuer"] = k.issuer
				}
				keys = append(keys, m)
			}
			json.NewEncoder(w).Encode(map[string]any{"keys": keys})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(e.srv.Close)
	e.template = e.srv.URL + "/{tenantid}/v2.0"
	return e
}

func (e *entra) iss(tenant string) string {
	return strings.Replace(e.template, "{tenantid}", tenant, 1)
}

func TestTemplate(t *testing.T) {
	ks := testkeys.Load()
	e := newEntra(t)
	keys, err := keyset.Discover(context.Background(), e.srv.URL+"/organizations/v2.0", keyset.RemoteConfig{EnforceKeyIssuer: true})
	if err != nil {
		t.Fatalf("Discover of a template issuer: %v", err)
	}
	if keys.Issuer() != e.template {
		t.Fatalf("Remote.Issuer() = %q, want the template", keys.Issuer())
	}
	defer keys.Close()
	var asked atomic.Int32
	jb, err := jwx.NewBackend()
	if err != nil {
		t.Fatal(err)
	}
	tok := func(alg string, key any, kid string, claims map[string]any) string {
		c := map[string]any{"aud": "api", "exp": now.Add(time.Hour).Unix()}
		for k, v := range claims {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		h := map[string]any{}
		if kid != "" {
			h["kid"] = kid
		}
		s, err := mint.Token(alg, key, h, c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := e.iss("tenant-a"), e.iss("tenant-b")
	for _, tc := range []struct {
		name  string
		token string
		class string // "" for accepted
	}{
		{"tenant in the list, common key", tok("RS256", ks.RSA1, "common", map[string]any{"iss": a, "tid": "tenant-a"}), ""},
		{"tenant by Allow, common key", tok("RS256", ks.RSA1, "common", map[string]any{"iss": e.iss("tenant-c"), "tid": "tenant-c"}), ""},
		{"tenant's own key", tok("RS256", ks.RSA2, "own", map[string]any{"iss": b, "tid": "tenant-b"}), ""},
		{"key without issuer", tok("ES256", ks.P256, "bare", map[string]any{"iss": a, "tid": "tenant-a"}), ""},

		{"another tenant's own key", tok("RS256", ks.RSA2, "own", map[string]any{"iss": a, "tid": "tenant-a"}), "unknown_key"},
		{"bound key, no kid", tok("RS256", ks.RSA1, "", map[string]any{"iss": a, "tid": "tenant-a"}), "unknown_key"},
		{"tid does not match iss", tok("RS256", ks.RSA1, "common", map[string]any{"iss": b, "tid": "tenant-a"}), "issuer"},
		{"tenant refused", tok("RS256", ks.RSA1, "common", map[string]any{"iss": e.iss("tenant-x"), "tid": "tenant-x"}), "issuer"},
		{"iss of another host", tok("RS256", ks.RSA1, "common", map[string]any{"iss": "https://evil.example/tenant-a/v2.0", "tid": "tenant-a"}), "issuer"},
		{"iss the template itself", tok("RS256", ks.RSA1, "common", map[string]any{"iss": e.template, "tid": "{tenantid}"}), "malformed"},
		{"tid missing", tok("RS256", ks.RSA1, "common", map[string]any{"iss": a}), "missing_claim"},
		{"iss missing", tok("RS256", ks.RSA1, "common", map[string]any{"tid": "tenant-a"}), "missing_claim"},
		{"tid a number", tok("RS256", ks.RSA1, "common", map[string]any{"iss": a, "tid": 7}), "malformed"},
		{"tid with a slash", tok("RS256", ks.RSA1, "common", map[string]any{"iss": e.iss("tenant-a/x"), "tid": "tenant-a/x"}), "malformed"},
		{"iss a number", tok("RS256", ks.RSA1, "common", map[string]any{"iss": 7, "tid": "tenant-a"}), "malformed"},
		{"wrong audience", tok("RS256", ks.RSA1, "common", map[string]any{"iss": a, "tid": "tenant-a", "aud": "other"}), "audience"},
		{"signature of another key", tok("RS256", ks.RSA2, "common", map[string]any{"iss": a, "tid": "tenant-a"}), "signature"},
	} {
		for name, backend := range map[string]jwtverify.Backend{"golang-jwt": golangjwt.Backend{}, "jwx": jb} {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				v, err := issuers.NewTemplate(backend, issuers.TemplateConfig{
					Issuer:  e.template,
					Tenants: []string{"tenant-a", "tenant-b"},
					Allow:   func(tenant string) bool { asked.Add(1); return tenant == "tenant-c" },
					Config:  jwtverify.Config{Keys: keys, Audiences: []string{"api"}, Now: func() time.Time { return now }},
				})
				if err != nil {
					t.Fatal(err)
				}
				got, err := v.Verify(context.Background(), tc.token)
				if class := jwtverify.Class(err); class != tc.class {
					t.Fatalf("class %q (%v), want %q", class, err, tc.class)
				}
				if err == nil && !strings.HasSuffix(got.Claims.Issuer, "/v2.0") {
					t.Fatalf("iss %q", got.Claims.Issuer)
				}
				if err != nil && (strings.Contains(err.Error(), "tenant-") || strings.Contains(err.Error(), e.srv.URL)) {
					t.Fatalf("error %q shows token content", err)
				}
			})
		}
	}
	if asked.Load() == 0 {
		t.Error("Allow was never asked")
	}
	if n := e.jwks.Load(); n > 2 {
		t.Errorf("%d key-set requests; the refused tokens must cost none", n)
	}
}

// TestTemplateRefusedBeforeLookup: a tenant refused, or a tid that does
// not match iss, is rejected before any key lookup, so a flood of them
// costs the key set nothing.
func TestTemplateRefusedBeforeLookup(t *testing.T) {
	ks := testkeys.Load()
	e := newEntra(t)
	keys, err := keyset.Discover(context.Background(), e.srv.URL+"/organizations/v2.0", keyset.RemoteConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Close()
	v, err := issuers.NewTemplate(golangjwt.Backend{}, issuers.TemplateConfig{
		Issuer: e.template, Tenants: []string{"tenant-a"},
		Config: jwtverify.Config{Keys: keys, Audiences: []string{"api"}, Now: func() time.Time { return now }},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		for _, c := range []map[string]any{
			{"iss": e.iss("tenant-z"), "tid": "tenant-z"},
			{"iss": e.iss("tenant-z"), "tid": "tenant-a"},
		} {
			c["aud"], c["exp"] = "api", now.Add(time.Hour).Unix()
			tok, _ := mint.Token("RS256", ks.RSA1, map[string]any{"kid": "unknown-" + string(rune('a'+i%26))}, c)
			if _, err := v.Verify(context.Background(), tok); !errors.Is(err, jwtverify.ErrIssuer) {
				t.Fatalf("%v, want issuer", err)
			}
		}
	}
	if n := e.jwks.Load(); n != 0 {
		t.Fatalf("%d key-set requests for refused tenants, want 0", n)
	}
}

func TestNewTemplateRefuses(t *testing.T) {
	ks := testkeys.Load()
	k, _ := jwtverify.NewPublicKey("k", "", &ks.RSA1.PublicKey)
	keys, _ := keyset.NewStatic(k)
	base := jwtverify.Config{Keys: keys, Audiences: []string{"api"}}
	tmpl := "https://login.microsoftonline.com/{tenantid}/v2.0"
	for name, cfg := range map[string]issuers.TemplateConfig{
		"no placeholder":     {Issuer: "https://login.microsoftonline.com/common/v2.0", Tenants: []string{"a"}, Config: base},
		"two placeholders":   {Issuer: "https://{tenantid}/{tenantid}", Tenants: []string{"a"}, Config: base},
		"no tenants":         {Issuer: tmpl, Config: base},
		"bad tenant":         {Issuer: tmpl, Tenants: []string{"a/b"}, Config: base},
		"Issuers set":        {Issuer: tmpl, Tenants: []string{"a"}, Config: jwtverify.Config{Keys: keys, Issuers: []string{"x"}}},
		"SkipIssuerCheck":    {Issuer: tmpl, Tenants: []string{"a"}, Config: jwtverify.Config{Keys: keys, SkipIssuerCheck: true}},
		"claim iss":          {Issuer: tmpl, Claim: "iss", Tenants: []string{"a"}, Config: base},
		"no keys":            {Issuer: tmpl, Tenants: []string{"a"}},
		"negative max bytes": {Issuer: tmpl, Tenants: []string{"a"}, Config: jwtverify.Config{Keys: keys, MaxTokenBytes: -1}},
	} {
		if _, err := issuers.NewTemplate(golangjwt.Backend{}, cfg); !errors.Is(err, jwtverify.ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
}

// TestDiscoverTemplate: Discover accepts a document whose issuer is a
// template the requested issuer fills, and nothing looser.
func TestDiscoverTemplate(t *testing.T) {
	var doc atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(doc.Load().(string)))
	}))
	defer srv.Close()
	for _, tc := range []struct {
		docIssuer string
		ok        bool
	}{
		{srv.URL + "/{tenantid}/v2.0", true},
		{srv.URL + "/organizations/v2.0", true},
		{srv.URL + "/{tenantid}/v1.0", false},
		{"https://evil.example/{tenantid}/v2.0", false},
		{srv.URL + "/{tenantid}", false},
		{srv.URL + "/{tenantid}/{tenantid}/v2.0", false},
		{"{tenantid}", false},
	} {
		b, _ := json.Marshal(map[string]string{"issuer": tc.docIssuer, "jwks_uri": srv.URL + "/keys"})
		doc.Store(string(b))
		r, err := keyset.Discover(context.Background(), srv.URL+"/organizations/v2.0", keyset.RemoteConfig{})
		if (err == nil) != tc.ok {
			t.Errorf("document issuer %q: %v, want ok %v", tc.docIssuer, err, tc.ok)
		}
		if err == nil {
			r.Close()
		}
	}
}
