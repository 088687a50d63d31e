package keyset

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/jsonx"
	"github.com/jwtverify/jwtverify/internal/redact"
	"github.com/jwtverify/jwtverify/internal/tenantiss"
)

// maxDiscoveryBytes bounds an OpenID configuration document.
const maxDiscoveryBytes = 256 << 10

// maxQuotedBytes bounds a value of a fetched document quoted in an error.
const maxQuotedBytes = 256

// Discover returns a Remote for the JWKS of an OpenID Provider: it fetches
// issuer + "/.well-known/openid-configuration" (OpenID Connect Discovery
// 1.0 §4), checks that the document's issuer equals issuer exactly, and
// uses its jwks_uri. cfg configures the request and the Remote. The
// document's issuer may instead be a multi-tenant template that issuer
// fills, as Microsoft Entra's organizations and common documents name
// https://login.microsoftonline.com/{tenantid}/v2.0: the tokens' issuers
// are then checked by issuers.NewTemplate, not here.
//
// issuer must be https, or http to a loopback host (any host with
// cfg.AllowInsecureHTTP), without query or fragment. The jwks_uri, learned
// from the document, must be https whatever cfg.AllowInsecureHTTP says,
// unless it is on issuer's own http origin (same scheme, host and port):
// a document can neither downgrade the transport nor point the verifier at
// another plain-http host, its own loopback included.
//
// A fetch that fails wraps jwtverify.ErrKeysUnavailable; an issuer or a
// document that does not fit wraps jwtverify.ErrInvalidConfig. No error
// shows the userinfo or query of a URL.
//
// ctx bounds the discovery request only, not the Remote, which fetches the
// JWKS on its first lookup, as one from NewRemote does. The caller owns
// the Remote and closes it.
func Discover(ctx context.Context, issuer string, cfg RemoteConfig) (*Remote, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := checkURL(issuer, cfg.AllowInsecureHTTP); err != nil {
		return nil, err
	}
	from, _ := url.Parse(issuer) // checkURL parsed it
	if from.RawQuery != "" || from.ForceQuery || from.Fragment != "" {
		return nil, fmt.Errorf("%w: issuer %q has a query or fragment; an OpenID issuer has neither", jwtverify.ErrInvalidConfig, redact.URL(issuer))
	}
	client, err := clientFor(cfg.Client, cfg.FetchTimeout, cfg.AllowCrossHostRedirect, cfg.RootCAs)
	if err != nil {
		return nil, err
	}
	g := getter{
		client:     client,
		timeout:    cfg.FetchTimeout,
		maxBytes:   maxDiscoveryBytes,
		accept:     "application/json",
		bearerFile: cfg.BearerTokenFile,
	}
	resp, err := g.get(ctx, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", validators{})
	if err != nil {
		return nil, fmt.Errorf("%w: discovery: %w", jwtverify.ErrKeysUnavailable, err)
	}
	body := resp.body
	var docIssuer, jwksURI string
	err = jsonx.Object(body, func(name, value []byte) error {
		switch string(name) {
		case "issuer":
			docIssuer, _ = jsonx.String(value)
		case "jwks_uri":
			jwksURI, _ = jsonx.String(value)
		}
		return nil
	})
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: discovery document is not a strict JSON object: %v", jwtverify.ErrKeysUnavailable, err)
	case docIssuer != issuer && !templateOf(docIssuer, issuer):
		return nil, fmt.Errorf("%w: discovery document names another issuer (%q)", jwtverify.ErrInvalidConfig, quoted(docIssuer))
	case jwksURI == "":
		return nil, fmt.Errorf("%w: discovery document has no jwks_uri", jwtverify.ErrInvalidConfig)
	}
	u, err := url.Parse(jwksURI)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("%w: discovery document's jwks_uri %q is not an absolute http(s) URL", jwtverify.ErrInvalidConfig, quoted(jwksURI))
	}
	if !learnedURLAllowed(u, from) {
		return nil, fmt.Errorf("%w: discovery document's jwks_uri %q is not https (http only on the issuer's own origin, whatever AllowInsecureHTTP says)",
			jwtverify.ErrInvalidConfig, quoted(jwksURI))
	}
	r, err := newRemote(jwksURI, cfg, false)
	if err != nil {
		return nil, err
	}
	r.issuer = docIssuer
	return r, nil
}

// templateOf reports whether a discovery document's issuer is a
// multi-tenant template that the requested issuer fills: Microsoft Entra's
// https://login.microsoftonline.com/organizations/v2.0 (and common) name
// https://login.microsoftonline.com/{tenantid}/v2.0. Everything but the
// placeholder, one segment of the request, must then be equal.
func templateOf(docIssuer, issuer string) bool {
	_, ok := tenantiss.Match(docIssuer, issuer)
	return ok
}

// quoted returns a URL-like value of a fetched document fit for an error:
// redacted and at most maxQuotedBytes long.
func quoted(s string) string {
	s, cut := redact.Truncate(redact.URL(s), maxQuotedBytes)
	if cut {
		s += "…"
	}
	return s
}
