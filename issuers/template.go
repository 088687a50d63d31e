package issuers

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/jws"
	"github.com/jwtverify/jwtverify/internal/tenantiss"
)

// TemplateConfig configures a [Template]. NewTemplate reads it once and
// keeps copies of its slices; Allow and the key source of Config are
// shared with the caller.
type TemplateConfig struct {
	// Issuer is the issuer template, with "{tenantid}" exactly once, in
	// its path, as Microsoft Entra's multi-tenant discovery documents name
	// it: "https://login.microsoftonline.com/{tenantid}/v2.0". Required.
	Issuer string

	// Claim names the claim whose value, the tenant, fills the template.
	// Zero: "tid", Entra's tenant ID.
	Claim string

	// Tenants lists the tenants accepted. Allow, when set, is asked about
	// a tenant not in Tenants, with the value of the token's Claim before
	// the signature is checked (so it must not trust it, only judge it,
	// and be safe for concurrent use). At least one of the two is
	// required: a Template accepts no tenant by default. To accept every
	// tenant, say so: Allow: func(string) bool { return true }.
	Tenants []string
	Allow   func(tenant string) bool

	// Config is the rest of the verification: Keys (a keyset.Remote of the
	// multi-tenant key set, from keyset.Discover with EnforceKeyIssuer,
	// whose Issuer method gives the template for Issuer), Audiences, Algorithms,
	// Types, Leeway and the other fields of jwtverify.Config. Its Issuers
	// must be empty and SkipIssuerCheck false: the Template checks iss.
	Config jwtverify.Config
}

// Template verifies the tokens of a multi-tenant issuer whose issuer is a
// template filled by a tenant claim (Microsoft Entra's organizations or
// common endpoint). Make one with [NewTemplate]; the zero Template is not
// usable. It is immutable and safe for concurrent use by multiple
// goroutines; it shares its key source and owns nothing to close.
//
// Verify reads the token's unverified tenant claim and iss first, after
// the front-end checks of package jwtverify and before any key lookup or
// fetch: the claim or iss missing is jwtverify.ErrMissingClaim; the claim
// not a string, or not 1 to 64 bytes of A-Z a-z 0-9 - _,
// jwtverify.ErrMalformed; a tenant neither in Tenants nor allowed by
// Allow, or an iss not equal to the template filled with the tenant,
// jwtverify.ErrIssuer. Then the token is verified under Config. Its key
// lookup carries the token's iss (jwtverify.Lookup.Issuer), so with a
// key set of keyset.RemoteConfig.EnforceKeyIssuer, a key bound to
// another issuer (a JWK issuer member, as Entra publishes) never
// verifies it; after the signature, the verified iss is compared with
// the filled template again.
type Template struct {
	template string
	claim    string
	tenants  []string
	allow    func(string) bool
	v        *jwtverify.Verifier
	maxBytes int
}

var _ Verifier = (*Template)(nil)

// NewTemplate returns a Template that checks signatures with b under cfg.
// Errors wrap jwtverify.ErrInvalidConfig.
func NewTemplate(b jwtverify.Backend, cfg TemplateConfig) (*Template, error) {
	bad := func(msg string) (*Template, error) {
		return nil, fmt.Errorf("%w: %s", jwtverify.ErrInvalidConfig, msg)
	}
	switch {
	case !tenantiss.IsTemplate(cfg.Issuer):
		return bad(`TemplateConfig.Issuer must hold "{tenantid}" exactly once`)
	case cfg.Claim == "iss":
		return bad("TemplateConfig.Claim cannot be iss: the tenant fills iss")
	case len(cfg.Tenants) == 0 && cfg.Allow == nil:
		return bad("TemplateConfig needs Tenants or Allow: no tenant is accepted by default")
	case len(cfg.Config.Issuers) > 0 || cfg.Config.SkipIssuerCheck:
		return bad("TemplateConfig.Config must leave Issuers and SkipIssuerCheck unset: the Template checks iss")
	case cfg.Config.MaxTokenBytes < 0:
		return bad("MaxTokenBytes must not be negative")
	}
	for _, tenant := range cfg.Tenants {
		if !tenantiss.ValidTenant(tenant) {
			return bad(fmt.Sprintf("tenant %q is not 1 to 64 bytes of A-Z a-z 0-9 - _", tenant))
		}
	}
	vc := cfg.Config
	vc.SkipIssuerCheck = true // checked by Verify, before and after the signature
	v, err := jwtverify.New(b, vc)
	if err != nil {
		return nil, err
	}
	return &Template{
		template: cfg.Issuer,
		claim:    cmp.Or(cfg.Claim, "tid"),
		tenants:  slices.Clone(cfg.Tenants),
		allow:    cfg.Allow,
		v:        v,
		maxBytes: cmp.Or(cfg.Config.MaxTokenBytes, jws.DefaultMaxBytes),
	}, nil
}

// Verify verifies token in the order the Template documentation states
// and returns it, or nil and an error for which exactly one of
// jwtverify's rejection sentinels reports true under errors.Is. The error
// text never contains token content. The returned Token is the caller's.
// ctx bounds only the key lookup.
func (t *Template) Verify(ctx context.Context, token string) (*jwtverify.Token, error) {
	iss, err := t.issuerOf(token)
	if err != nil {
		return nil, err
	}
	tok, err := t.v.Verify(ctx, token)
	if err != nil {
		return nil, err
	}
	// The signature covers the payload read above, so this holds; a
	// verifier that let another iss through must not get it past here.
	if tok.Claims.Issuer != iss {
		return nil, errTemplateIssuer
	}
	return tok, nil
}

// Fixed rejections of Template: one immutable value each.
var (
	errNoTenant       = jwtverify.Reject(jwtverify.ErrMissingClaim, "the tenant claim is required")
	errTenantType     = jwtverify.Reject(jwtverify.ErrMalformed, "the tenant claim is not 1 to 64 bytes of A-Z a-z 0-9 - _")
	errTenantRefused  = jwtverify.Reject(jwtverify.ErrIssuer, "tenant is not accepted")
	errNoIssuer       = jwtverify.Reject(jwtverify.ErrMissingClaim, "iss is required")
	errTemplateIssuer = jwtverify.Reject(jwtverify.ErrIssuer, "iss is not the issuer template filled with the token's tenant")
)

// issuerOf reads the unverified tenant claim and iss of token and returns
// iss when it is the template filled with an accepted tenant.
func (t *Template) issuerOf(token string) (string, error) {
	p, err := jws.Parse(token, t.maxBytes)
	if err != nil {
		return "", err
	}
	var vals [2]string // iss, the tenant
	var has [2]bool
	if err := p.Strings([]string{"iss", t.claim}, vals[:], has[:]); err != nil {
		return "", err
	}
	iss, tenant := vals[0], vals[1]
	hasIss, hasTenant := has[0], has[1]
	switch {
	case !hasTenant:
		return "", errNoTenant
	case !tenantiss.ValidTenant(tenant):
		return "", errTenantType
	case !slices.Contains(t.tenants, tenant) && (t.allow == nil || !t.allow(tenant)):
		return "", errTenantRefused
	case !hasIss:
		return "", errNoIssuer
	case iss != tenantiss.Fill(t.template, tenant):
		return "", errTemplateIssuer
	}
	return iss, nil
}
