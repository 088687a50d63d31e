package jwtverify

import (
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/jwtverify/jwtverify/internal/jsonx"
)

// Bounds of a NumericDate (RFC 7519 §2): seconds from 1970-01-01T00:00:00Z
// to 9999-12-31T23:59:59Z. Anything else is ErrMalformed.
const (
	minNumericDate = 0
	maxNumericDate = 253402300799
)

// claim bits, for presence tracking.
const (
	hasIss = 1 << iota
	hasAud
	hasExp
	hasIat
)

// checkClaims decodes the registered claims of a verified payload into cl
// and applies the policy, in this order: the payload is one strict JSON
// object with registered claims of the right types (ErrMalformed); required
// claims are present (ErrMissingClaim); iss (ErrIssuer); aud (ErrAudience);
// exp (ErrExpired); nbf (ErrNotYetValid); iat not in the future
// (ErrIssuedInFuture); iat not older than MaxAge (ErrExpired). It records
// on tok the span the dates allow (ValidFrom, ValidUntil), computed once and
// used for the checks themselves, so the two cannot disagree.
func (c *Core) checkClaims(payload []byte, text string, tok *Token) error {
	cl := &tok.Claims
	var has uint
	var required uint64
	err := jsonx.Object(payload, func(name, value []byte) error {
		for i, r := range c.required {
			if string(name) == r {
				required |= 1 << i
			}
		}
		var ok bool
		switch string(name) {
		case "iss":
			cl.Issuer, ok = jsonx.StringIn(value, payload, text)
			has |= hasIss
		case "sub":
			cl.Subject, ok = jsonx.StringIn(value, payload, text)
		case "jti":
			cl.ID, ok = jsonx.StringIn(value, payload, text)
		case "aud":
			// cl.Audience arrives empty, backed by the token's inline array.
			has |= hasAud
			if s, isStr := jsonx.StringIn(value, payload, text); isStr {
				cl.Audience, ok = append(cl.Audience[:0], s), true
				break
			}
			cl.Audience = cl.Audience[:0]
			isArr, err := jsonx.Array(value, func(e []byte) error {
				s, isStr := jsonx.StringIn(e, payload, text)
				if !isStr {
					return reject(ErrMalformed, "claim aud holds a non-string")
				}
				cl.Audience = append(cl.Audience, s)
				return nil
			})
			if err != nil {
				return err
			}
			ok = isArr
		case "exp":
			has |= hasExp
			return numericDate("exp", value, &cl.ExpiresAt)
		case "nbf":
			return numericDate("nbf", value, &cl.NotBefore)
		case "iat":
			has |= hasIat
			return numericDate("iat", value, &cl.IssuedAt)
		default:
			ok = true
		}
		if !ok {
			return rejectf(ErrMalformed, "claim %s has the wrong JSON type", name)
		}
		return nil
	})
	if err != nil {
		if Class(err) != "" {
			return err
		}
		return rejectf(ErrMalformed, "payload: %v", err)
	}

	switch {
	case c.needExp && has&hasExp == 0:
		return reject(ErrMissingClaim, "exp is required")
	case len(c.issuers) > 0 && has&hasIss == 0:
		return reject(ErrMissingClaim, "iss is required")
	case len(c.audiences) > 0 && has&hasAud == 0:
		return reject(ErrMissingClaim, "aud is required")
	case c.maxAge > 0 && has&hasIat == 0:
		return reject(ErrMissingClaim, "iat is required when MaxAge is set")
	}
	for i, r := range c.required {
		if required&(1<<i) == 0 {
			return rejectf(ErrMissingClaim, "required claim %q is missing", r)
		}
	}

	if len(c.issuers) > 0 && !slices.Contains(c.issuers, cl.Issuer) {
		return rejectf(ErrIssuer, "iss is not among the %d configured issuers", len(c.issuers))
	}
	if len(c.audiences) > 0 {
		found := false
		for _, a := range cl.Audience {
			if slices.Contains(c.audiences, a) {
				found = true
				break
			}
		}
		if !found {
			return rejectf(ErrAudience, "aud (%d values) has none of the %d configured audiences", len(cl.Audience), len(c.audiences))
		}
	}

	// The token is valid while from ≤ now < until; each check below is one
	// side of that, against the bound it records.
	now := c.now()
	if has&hasExp != 0 {
		tok.validUntil = cl.ExpiresAt.Add(c.leeway) // expired at now ≥ exp + leeway
		if !now.Before(tok.validUntil) {
			return rejectf(ErrExpired, "token expired %v ago (leeway %v)", now.Sub(cl.ExpiresAt).Truncate(time.Second), c.leeway)
		}
	}
	if !cl.NotBefore.IsZero() {
		tok.validFrom = cl.NotBefore.Add(-c.leeway) // not yet valid at now < nbf − leeway
		if now.Before(tok.validFrom) {
			return rejectf(ErrNotYetValid, "token not valid for another %v (leeway %v)", cl.NotBefore.Sub(now).Truncate(time.Second), c.leeway)
		}
	}
	if has&hasIat != 0 {
		// Issued in the future at iat > now + leeway, that is now < iat − leeway.
		from := cl.IssuedAt.Add(-c.leeway)
		if now.Before(from) {
			return rejectf(ErrIssuedInFuture, "iat is %v in the future (leeway %v)", cl.IssuedAt.Sub(now).Truncate(time.Second), c.leeway)
		}
		if from.After(tok.validFrom) {
			tok.validFrom = from
		}
		if c.maxAge > 0 {
			// Too old at now > iat + MaxAge + leeway: from one nanosecond
			// (time.Time's resolution) past it, an exclusive bound like exp's.
			end := cl.IssuedAt.Add(c.maxAge + c.leeway + 1)
			if !now.Before(end) {
				return rejectf(ErrExpired, "token issued %v ago; MaxAge is %v (leeway %v)", now.Sub(cl.IssuedAt).Truncate(time.Second), c.maxAge, c.leeway)
			}
			if tok.validUntil.IsZero() || end.Before(tok.validUntil) {
				tok.validUntil = end
			}
		}
	}
	return nil
}

// numericDate decodes a NumericDate: a finite JSON number, possibly
// fractional, within [minNumericDate, maxNumericDate].
func numericDate(name string, raw []byte, out *time.Time) error {
	if !jsonx.IsNumber(raw) {
		return rejectf(ErrMalformed, "claim %s is not a number", name)
	}
	// Fast path: a plain integer of at most 11 digits (always in range).
	if len(raw) <= 11 && raw[0] != '-' {
		var n int64
		for _, d := range raw {
			if d < '0' || d > '9' {
				n = -1
				break
			}
			n = n*10 + int64(d-'0')
		}
		if n >= 0 {
			*out = time.Unix(n, 0).UTC()
			return nil
		}
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || f < minNumericDate || f > maxNumericDate {
		return rejectf(ErrMalformed, "claim %s is not a date between 1970 and 9999", name)
	}
	sec, frac := math.Modf(f)
	*out = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	return nil
}

// mayRefresh reports whether an unverified payload is plausible enough to
// let an unknown kid make the key source fetch: a strict JSON object whose
// iss is configured (when Issuers is set) and whose exp, when present or
// required, is a date not in the past (beyond leeway). It judges nothing:
// the answer only decides whether a request may be spent.
func (c *Core) mayRefresh(payload []byte) bool {
	var iss string
	var exp time.Time
	hasIss, hasExp := false, false
	err := jsonx.Object(payload, func(name, value []byte) error {
		switch string(name) {
		case "iss":
			iss, hasIss = jsonx.String(value)
		case "exp":
			if numericDate("exp", value, &exp) != nil {
				return ErrMalformed // not plausible: no refresh
			}
			hasExp = true
		}
		return nil
	})
	switch {
	case err != nil:
		return false
	case len(c.issuers) > 0 && (!hasIss || !slices.Contains(c.issuers, iss)):
		return false
	case !hasExp:
		return !c.needExp
	}
	return c.now().Before(exp.Add(c.leeway))
}
