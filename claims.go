package jwtverify

import (
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/jwtverify/jwtverify/internal/jsonx"
	"github.com/jwtverify/jwtverify/internal/jws"
	"github.com/jwtverify/jwtverify/internal/reject"
	"github.com/jwtverify/jwtverify/internal/reltime"
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

// present records which claims a payload has: the registered claims the
// policy needs (bits has*) and Config.RequiredClaims (bit i for entry i).
type present struct {
	claims   uint
	required uint64
}

// decodeClaims decodes the registered claims of p's payload into tok: the
// payload must be one strict JSON object with registered claims of the
// right types and dates in range (ErrMalformed). It judges nothing; Verify
// calls it before the signature check and reports its error only after.
func (c *Verifier) decodeClaims(p *jws.Parts, tok *Token) (present, error) {
	payload := p.Payload
	cl := &tok.Claims
	var has present
	err := jsonx.Object(payload, func(name, value []byte) error {
		for i, r := range c.required {
			if string(name) == r {
				has.required |= 1 << i
			}
		}
		var ok bool
		switch string(name) {
		case "iss":
			cl.Issuer, ok = p.String(value)
			has.claims |= hasIss
		case "sub":
			cl.Subject, ok = p.String(value)
		case "jti":
			cl.ID, ok = p.String(value)
		case "aud":
			// cl.Audience arrives empty, backed by the token's inline array.
			has.claims |= hasAud
			if s, isStr := p.String(value); isStr {
				cl.Audience, ok = append(cl.Audience[:0], s), true
				break
			}
			cl.Audience = cl.Audience[:0]
			isArr, err := jsonx.Array(value, func(e []byte) error {
				s, isStr := p.String(e)
				if !isStr {
					return reject.New(ErrMalformed, "claim aud holds a non-string")
				}
				cl.Audience = append(cl.Audience, s)
				return nil
			})
			if err != nil {
				return err
			}
			ok = isArr
		case "exp":
			has.claims |= hasExp
			return numericDate("exp", value, &cl.ExpiresAt)
		case "nbf":
			return numericDate("nbf", value, &cl.NotBefore)
		case "iat":
			has.claims |= hasIat
			return numericDate("iat", value, &cl.IssuedAt)
		default:
			ok = true
		}
		if !ok {
			return reject.Newf(ErrMalformed, "claim %s has the wrong JSON type", name)
		}
		return nil
	})
	if err != nil {
		if Class(err) != "" {
			return has, err
		}
		return has, reject.Newf(ErrMalformed, "payload: %v", err)
	}
	return has, nil
}

// checkClaims applies the claim policy to the claims decodeClaims found,
// in the order the package documentation states. It records on tok the span the dates allow (ValidFrom,
// ValidUntil), computed once and used for the checks themselves, so the
// two cannot disagree.
func (c *Verifier) checkClaims(tok *Token, has present) error {
	cl := &tok.Claims
	switch {
	case c.needExp && has.claims&hasExp == 0:
		return reject.New(ErrMissingClaim, "exp is required")
	case len(c.issuers) > 0 && has.claims&hasIss == 0:
		return reject.New(ErrMissingClaim, "iss is required")
	case len(c.audiences) > 0 && has.claims&hasAud == 0:
		return reject.New(ErrMissingClaim, "aud is required")
	case c.maxAge > 0 && has.claims&hasIat == 0:
		return reject.New(ErrMissingClaim, "iat is required when MaxAge is set")
	}
	for i, r := range c.required {
		if has.required&(1<<i) == 0 {
			return reject.Newf(ErrMissingClaim, "required claim %q is missing", r)
		}
	}

	if len(c.issuers) > 0 && !slices.Contains(c.issuers, cl.Issuer) {
		return reject.Newf(ErrIssuer, "iss is not among the %d configured issuers", len(c.issuers))
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
			return reject.Newf(ErrAudience, "aud (%d values) has none of the %d configured audiences", len(cl.Audience), len(c.audiences))
		}
	}

	// The token is valid while from ≤ now < until; each check below is one
	// side of that, against the bound it records.
	now := c.now()
	if has.claims&hasExp != 0 {
		tok.validUntil = cl.ExpiresAt.Add(c.leeway) // expired at now ≥ exp + leeway
		if !now.Before(tok.validUntil) {
			return reject.Newf(ErrExpired, "token expired at %s, %s ago (leeway %v)", date(cl.ExpiresAt), reltime.Short(cl.ExpiresAt, now), c.leeway)
		}
	}
	if !cl.NotBefore.IsZero() {
		tok.validFrom = cl.NotBefore.Add(-c.leeway) // not yet valid at now < nbf − leeway
		if now.Before(tok.validFrom) {
			return reject.Newf(ErrNotYetValid, "token not valid until %s, in %s (leeway %v)", date(cl.NotBefore), reltime.Short(now, cl.NotBefore), c.leeway)
		}
	}
	if has.claims&hasIat != 0 {
		// Issued in the future at iat > now + leeway, that is now < iat − leeway.
		from := cl.IssuedAt.Add(-c.leeway)
		if now.Before(from) {
			return reject.Newf(ErrIssuedInFuture, "iat is %s, %s in the future (leeway %v)", date(cl.IssuedAt), reltime.Short(now, cl.IssuedAt), c.leeway)
		}
		if from.After(tok.validFrom) {
			tok.validFrom = from
		}
		if c.maxAge > 0 {
			// Too old at now > iat + MaxAge + leeway: from one nanosecond
			// (time.Time's resolution) past it, an exclusive bound like exp's.
			end := cl.IssuedAt.Add(c.maxAge + c.leeway + 1)
			if !now.Before(end) {
				return reject.Newf(ErrExpired, "token issued at %s, %s ago; MaxAge is %v (leeway %v)", date(cl.IssuedAt), reltime.Short(cl.IssuedAt, now), c.maxAge, c.leeway)
			}
			if tok.validUntil.IsZero() || end.Before(tok.validUntil) {
				tok.validUntil = end
			}
		}
	}
	return nil
}

// date formats a claim's date for a rejection text: RFC 3339 in UTC, with
// the fraction of a second only when the claim has one. A date is no
// secret (the texts have always told how far from it the clock is), and
// a reader needs it to see which side of it the clock stands.
func date(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// numericDate decodes a NumericDate: a finite JSON number, possibly
// fractional, within [minNumericDate, maxNumericDate].
func numericDate(name string, raw []byte, out *time.Time) error {
	if !jsonx.IsNumber(raw) {
		return reject.Newf(ErrMalformed, "claim %s is not a number", name)
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
		return reject.Newf(ErrMalformed, "claim %s is not a date between 1970 and 9999", name)
	}
	sec, frac := math.Modf(f)
	*out = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	return nil
}

// mayFetch computes Lookup.MayFetch and Lookup.Issuer for a token with a
// kid, from the claims decodeClaims found in p's payload (has, and its
// error).
func (c *Verifier) mayFetch(p *jws.Parts, cl *Claims, has present, decodeErr error) (bool, string) {
	if decodeErr == nil {
		return c.plausible(cl.Issuer, has.claims&hasIss != 0, cl.ExpiresAt, has.claims&hasExp != 0), cl.Issuer
	}
	// decodeClaims stopped at the first claim it refused, which may be one
	// the rule does not read (an aud of the wrong type): read iss and exp
	// alone, as the rule does.
	var iss string
	var exp time.Time
	hasIss, hasExp := false, false
	badExp := false
	err := jsonx.Object(p.Payload, func(name, value []byte) error {
		switch string(name) {
		case "iss":
			iss, hasIss = jsonx.String(value)
		case "exp":
			badExp = numericDate("exp", value, &exp) != nil // not plausible
			hasExp = true
		}
		return nil
	})
	if err != nil {
		return false, ""
	}
	return !badExp && c.plausible(iss, hasIss, exp, hasExp), iss
}

// plausible is the rule of Lookup.MayFetch for a payload that is one strict
// JSON object: its iss, when it is a string (hasIss), is configured (when
// Issuers is set), and its exp, when present (hasExp) or required, is not
// past beyond Leeway. It judges nothing: the answer only decides whether a
// request may be spent.
func (c *Verifier) plausible(iss string, hasIss bool, exp time.Time, hasExp bool) bool {
	switch {
	case len(c.issuers) > 0 && (!hasIss || !slices.Contains(c.issuers, iss)):
		return false
	case !hasExp:
		return !c.needExp
	}
	return c.now().Before(exp.Add(c.leeway))
}
