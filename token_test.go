package jwtverify_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/backendtest"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
)

// TestValidityBounds checks that ValidFrom and ValidUntil are the instants
// at which Verify's verdict changes, to the nanosecond: accepted at
// ValidFrom and at ValidUntil − 1ns, rejected at ValidFrom − 1ns and at
// ValidUntil, for each date claim, with and without Leeway and MaxAge. The
// expected instants are written from the documented rules (expired at
// now ≥ exp + leeway and at now > iat + MaxAge + leeway; not yet valid at
// now < nbf − leeway; issued in the future at iat > now + leeway).
func TestValidityBounds(t *testing.T) {
	f := fixture(t)
	t0 := backendtest.Now()
	const ns = time.Nanosecond
	tests := []struct {
		name           string
		leeway, maxAge time.Duration
		noExpiry       bool
		claims         map[string]any // over iss, aud; nil removes
		from, until    time.Time      // zero: no bound
		before, after  error          // the class just outside each bound
	}{
		{
			name:   "exp only",
			claims: map[string]any{"exp": t0.Add(time.Hour).Unix()},
			until:  t0.Add(time.Hour), after: jwtverify.ErrExpired,
		},
		{
			name:   "exp and nbf with leeway",
			leeway: 30 * time.Second,
			claims: map[string]any{"exp": t0.Add(time.Hour).Unix(), "nbf": t0.Add(10 * time.Second).Unix()},
			from:   t0.Add(-20 * time.Second), before: jwtverify.ErrNotYetValid,
			until: t0.Add(time.Hour + 30*time.Second), after: jwtverify.ErrExpired,
		},
		{
			name:   "fractional exp",
			claims: map[string]any{"exp": float64(t0.Unix()) + 0.25},
			until:  t0.Add(250 * time.Millisecond), after: jwtverify.ErrExpired,
		},
		{
			name:   "MaxAge ends before exp",
			leeway: 30 * time.Second, maxAge: 10 * time.Minute,
			claims: map[string]any{"exp": t0.Add(time.Hour).Unix(), "iat": t0.Add(-2 * time.Minute).Unix()},
			from:   t0.Add(-2*time.Minute - 30*time.Second), before: jwtverify.ErrIssuedInFuture,
			// Accepted at exactly iat + MaxAge + leeway, rejected one nanosecond later.
			until: t0.Add(8*time.Minute + 30*time.Second + ns), after: jwtverify.ErrExpired,
		},
		{
			name:   "exp ends before MaxAge",
			leeway: 30 * time.Second, maxAge: time.Hour,
			claims: map[string]any{"exp": t0.Add(time.Minute).Unix(), "iat": t0.Add(-time.Minute).Unix()},
			from:   t0.Add(-90 * time.Second), before: jwtverify.ErrIssuedInFuture,
			until: t0.Add(90 * time.Second), after: jwtverify.ErrExpired,
		},
		{
			name:     "MaxAge without exp",
			noExpiry: true, maxAge: time.Minute,
			claims: map[string]any{"exp": nil, "iat": t0.Unix()},
			from:   t0, before: jwtverify.ErrIssuedInFuture,
			until: t0.Add(time.Minute + ns), after: jwtverify.ErrExpired,
		},
		{
			name:     "no bound",
			noExpiry: true,
			claims:   map[string]any{"exp": nil},
		},
		{
			name:   "iat later than nbf",
			leeway: time.Minute,
			claims: map[string]any{"exp": t0.Add(time.Hour).Unix(), "nbf": t0.Add(-time.Hour).Unix(), "iat": t0.Add(30 * time.Second).Unix()},
			from:   t0.Add(-30 * time.Second), before: jwtverify.ErrIssuedInFuture,
			until: t0.Add(time.Hour + time.Minute), after: jwtverify.ErrExpired,
		},
		{
			name:   "nbf later than iat",
			claims: map[string]any{"exp": t0.Add(time.Hour).Unix(), "nbf": t0.Add(-time.Second).Unix(), "iat": t0.Add(-time.Hour).Unix()},
			from:   t0.Add(-time.Second), before: jwtverify.ErrNotYetValid,
			until: t0.Add(time.Hour), after: jwtverify.ErrExpired,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := map[string]any{"iss": backendtest.Issuer, "aud": backendtest.Audience}
			for k, v := range tt.claims {
				if v == nil {
					delete(claims, k)
					continue
				}
				claims[k] = v
			}
			token := f.Sign("HS256", nil, claims)
			now := t0
			cfg := f.Config()
			cfg.Leeway, cfg.MaxAge, cfg.AllowMissingExpiry = tt.leeway, tt.maxAge, tt.noExpiry
			cfg.Now = func() time.Time { return now }
			v, err := golangjwt.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			verify := func(at time.Time) (*jwtverify.Token, error) {
				now = at
				return v.Verify(context.Background(), token)
			}
			tok, err := verify(t0)
			if err != nil {
				t.Fatalf("at t0: %v", err)
			}
			if !tok.ValidFrom().Equal(tt.from) || !tok.ValidUntil().Equal(tt.until) {
				t.Fatalf("ValidFrom %v, ValidUntil %v; want %v, %v", tok.ValidFrom(), tok.ValidUntil(), tt.from, tt.until)
			}
			if !tt.until.IsZero() {
				if _, err := verify(tt.until.Add(-ns)); err != nil {
					t.Errorf("at ValidUntil−1ns: %v", err)
				}
				if _, err := verify(tt.until); !errors.Is(err, tt.after) {
					t.Errorf("at ValidUntil: %v, want %v", err, tt.after)
				}
			}
			if !tt.from.IsZero() {
				if _, err := verify(tt.from); err != nil {
					t.Errorf("at ValidFrom: %v", err)
				}
				if _, err := verify(tt.from.Add(-ns)); !errors.Is(err, tt.before) {
					t.Errorf("at ValidFrom−1ns: %v, want %v", err, tt.before)
				}
			}
			// The bounds are fixed at verification: the caller's changes to
			// its claims do not move them.
			tok.Claims.ExpiresAt = tok.Claims.ExpiresAt.Add(time.Hour)
			tok.Claims.NotBefore = tok.Claims.NotBefore.Add(-time.Hour)
			if !tok.ValidFrom().Equal(tt.from) || !tok.ValidUntil().Equal(tt.until) {
				t.Errorf("bounds moved with the claims: %v, %v", tok.ValidFrom(), tok.ValidUntil())
			}
		})
	}
	// A Token no Verifier made has no recorded bounds.
	lit := &jwtverify.Token{Claims: jwtverify.Claims{ExpiresAt: t0}}
	if !lit.ValidUntil().IsZero() || !lit.ValidFrom().IsZero() {
		t.Error("a Token literal has bounds")
	}
}

// TestTokenClone checks that a Clone shares nothing mutable with its
// original, for every shape of aud (absent, empty, inline, longer than the
// inline array), and that it keeps the validity bounds.
func TestTokenClone(t *testing.T) {
	f := fixture(t)
	cfg := f.Config()
	cfg.Audiences, cfg.SkipAudienceCheck = nil, true
	v, err := golangjwt.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, aud := range []any{nil, []string{}, "api", []string{"api", "b"}, []string{"api", "b", "c"}} {
		claims := backendtest.Claims()
		claims["aud"] = aud
		if aud == nil {
			delete(claims, "aud")
		}
		orig, err := v.Verify(context.Background(), f.Sign("ES256", nil, claims))
		if err != nil {
			t.Fatal(err)
		}
		wantAud := slices.Clone(orig.Claims.Audience)
		c := orig.Clone()
		if c == orig || c.Claims.Raw != orig.Claims.Raw || c.Claims.Subject != orig.Claims.Subject ||
			!slices.Equal(c.Claims.Audience, orig.Claims.Audience) || (c.Claims.Audience == nil) != (orig.Claims.Audience == nil) ||
			!c.ValidUntil().Equal(orig.ValidUntil()) || !c.ValidFrom().Equal(orig.ValidFrom()) || c.ValidUntil().IsZero() {
			t.Fatalf("aud %v: clone differs: %+v vs %+v", aud, c, orig)
		}
		c.Claims.Subject, c.Header.KeyID = "changed", "changed"
		if len(c.Claims.Audience) > 0 {
			c.Claims.Audience[0] = "changed"
		}
		c.Claims.Audience = append(c.Claims.Audience, "appended")
		if orig.Claims.Subject != "user-1" || orig.Header.KeyID != "ec-256" || !slices.Equal(orig.Claims.Audience, wantAud) {
			t.Fatalf("aud %v: changing the clone changed the original: %+v", aud, orig)
		}
		// And the other way round: the original's changes do not reach a clone.
		c2 := orig.Clone()
		if len(orig.Claims.Audience) > 0 {
			orig.Claims.Audience[0] = "changed-too"
		}
		orig.Claims.Audience = append(orig.Claims.Audience, "appended-too")
		if !slices.Equal(c2.Claims.Audience, wantAud) {
			t.Fatalf("aud %v: changing the original changed the clone: %v", aud, c2.Claims.Audience)
		}
	}
	if (*jwtverify.Token)(nil).Clone() != nil {
		t.Error("Clone of nil is not nil")
	}
}

// TestRejectionTimes: the date rejections give the claim's date in RFC
// 3339 (UTC, with its fraction when it has one) and the distance between
// it and the clock in at most two short units (y of 365 days, d, h, m,
// s; whole seconds), counted from the dates themselves so that a date
// centuries away is told right too.
func TestRejectionTimes(t *testing.T) {
	f := fixture(t)
	t0 := backendtest.Now()
	tests := []struct {
		name           string
		leeway, maxAge time.Duration
		claim          string
		value          any
		want           string
	}{
		{"seconds", 0, 0, "exp", t0.Add(-42 * time.Second).Unix(), "expired: token expired at 2025-12-31T23:59:18Z, 42s ago (leeway 0s)"},
		{"minutes and seconds", 30 * time.Second, 0, "exp", t0.Add(-5*time.Minute - 30*time.Second).Unix(), "expired: token expired at 2025-12-31T23:54:30Z, 5m30s ago (leeway 30s)"},
		{"two units at most", 0, 0, "exp", t0.Add(-2*time.Hour + time.Second).Unix(), "expired: token expired at 2025-12-31T22:00:01Z, 1h59m ago (leeway 0s)"},
		{"days and hours", 0, 0, "exp", t0.Add(-(3*24*time.Hour + 4*time.Hour + 5*time.Minute)).Unix(), "expired: token expired at 2025-12-28T19:55:00Z, 3d4h ago (leeway 0s)"},
		{"whole days", 0, 0, "exp", t0.Add(-48 * time.Hour).Unix(), "expired: token expired at 2025-12-30T00:00:00Z, 2d ago (leeway 0s)"},
		{"years", 0, 0, "exp", time.Date(2010, 5, 1, 12, 0, 0, 0, time.UTC).Unix(), "expired: token expired at 2010-05-01T12:00:00Z, 15y248d ago (leeway 0s)"},
		{"fraction of a second", 0, 0, "exp", float64(t0.Unix()) - 0.25, "expired: token expired at 2025-12-31T23:59:59.75Z, 0s ago (leeway 0s)"},
		{"not yet valid", 0, 0, "nbf", t0.Add(90 * time.Second).Unix(), "not_yet_valid: token not valid until 2026-01-01T00:01:30Z, in 1m30s (leeway 0s)"},
		{"not valid before the year 9999", 0, 0, "nbf", int64(253402300799), "not_yet_valid: token not valid until 9999-12-31T23:59:59Z, in 7979y107d (leeway 0s)"},
		{"issued in the future", time.Minute, 0, "iat", t0.Add(time.Hour).Unix(), "issued_in_future: iat is 2026-01-01T01:00:00Z, 1h in the future (leeway 1m0s)"},
		{"older than MaxAge", 0, time.Hour, "iat", t0.Add(-26 * time.Hour).Unix(), "expired: token issued at 2025-12-30T22:00:00Z, 1d2h ago; MaxAge is 1h0m0s (leeway 0s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := backendtest.Claims()
			claims[tt.claim] = tt.value
			cfg := f.Config()
			cfg.Leeway, cfg.MaxAge = tt.leeway, tt.maxAge
			v, err := golangjwt.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(context.Background(), f.Sign("HS256", nil, claims))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}
