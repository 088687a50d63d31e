// Package tenantiss reads multi-tenant issuer templates, such as the
// issuer Microsoft Entra's common and organizations discovery documents
// name: "https://login.microsoftonline.com/{tenantid}/v2.0". Package
// issuers fills them from a token's tenant claim; package keyset matches a
// key's issuer member against a token's iss, and Discover a requested
// issuer against a document's. It holds no state.
package tenantiss

import "strings"

// Placeholder is the one placeholder of a template.
const Placeholder = "{tenantid}"

// maxTenant bounds a tenant value.
const maxTenant = 64

// IsTemplate reports whether s holds Placeholder exactly once, in its
// path: after "scheme://authority/". A placeholder in the authority
// would let a tenant choose the host; a string with none is a plain
// issuer, and one with two is refused.
func IsTemplate(s string) bool {
	if strings.Count(s, Placeholder) != 1 {
		return false
	}
	_, rest, ok := strings.Cut(s, "://")
	if !ok {
		return false
	}
	slash := strings.IndexByte(rest, '/')
	return slash >= 0 && strings.Index(rest, Placeholder) > slash
}

// ValidTenant reports whether t can fill a template: 1 to 64 bytes of
// A-Z a-z 0-9 - _, so that it is part of one path segment and cannot
// change the structure of the URL it is put in (no '/', '.', ':', '@',
// '?', '#', '%'). Entra's tenant IDs are GUIDs.
func ValidTenant(t string) bool {
	if t == "" || len(t) > maxTenant {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Fill returns template with its placeholder replaced by tenant, which
// must be valid (ValidTenant) and template a template (IsTemplate).
func Fill(template, tenant string) string {
	return strings.Replace(template, Placeholder, tenant, 1)
}

// Match reports whether iss is template filled by a valid tenant, and
// returns that tenant. A template that is not one (IsTemplate) matches
// nothing.
func Match(template, iss string) (tenant string, ok bool) {
	if !IsTemplate(template) {
		return "", false
	}
	before, after, _ := strings.Cut(template, Placeholder)
	if len(iss) < len(before)+len(after) || !strings.HasPrefix(iss, before) || !strings.HasSuffix(iss, after) {
		return "", false
	}
	tenant = iss[len(before) : len(iss)-len(after)]
	return tenant, ValidTenant(tenant)
}
