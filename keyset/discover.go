package keyset

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/jsonx"
)

// maxDiscoveryBytes bounds an OpenID configuration document.
const maxDiscoveryBytes = 256 << 10

// Discover returns a Remote for the JWKS of an OpenID Provider: it fetches
// issuer + "/.well-known/openid-configuration" (OpenID Connect Discovery
// 1.0 §4), checks that the document's issuer equals issuer exactly, and
// uses its jwks_uri. Both URLs must be https (http to loopback) unless
// cfg.AllowInsecureHTTP. cfg configures the request and the Remote. A
// fetch that fails wraps jwtverify.ErrKeysUnavailable; a document that
// does not fit wraps jwtverify.ErrInvalidConfig.
func Discover(ctx context.Context, issuer string, cfg RemoteConfig) (*Remote, error) {
	if err := checkURL(issuer, cfg.AllowInsecureHTTP); err != nil {
		return nil, err
	}
	timeout := cfg.FetchTimeout
	if timeout <= 0 {
		timeout = DefaultFetchTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	wellKnown := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, wellKnown, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", jwtverify.ErrInvalidConfig, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := clientFor(cfg.Client, timeout, cfg.AllowCrossHostRedirect, cfg.AllowInsecureHTTP).Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: discovery: %w", jwtverify.ErrKeysUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: discovery: HTTP status %d", jwtverify.ErrKeysUnavailable, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDiscoveryBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: discovery: %w", jwtverify.ErrKeysUnavailable, err)
	}
	if len(body) > maxDiscoveryBytes {
		return nil, fmt.Errorf("%w: discovery document larger than %d bytes", jwtverify.ErrKeysUnavailable, maxDiscoveryBytes)
	}
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
	case docIssuer != issuer:
		return nil, fmt.Errorf("%w: discovery document names another issuer (%q)", jwtverify.ErrInvalidConfig, docIssuer)
	case jwksURI == "":
		return nil, fmt.Errorf("%w: discovery document has no jwks_uri", jwtverify.ErrInvalidConfig)
	}
	return NewRemote(jwksURI, cfg)
}
