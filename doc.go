// Package jwtverify verifies JSON Web Tokens (compact JWS, RFC 7515 and RFC
// 7519) for services that verify many of them: fail-closed on every
// malformed or hostile input, with one error class per rejection and the
// same verdict from every signature backend.
//
// # Using it
//
// Build a key source (package keyset), a [Config] and a verifier from one of
// the backends (packages backends/golangjwt and backends/jwx), then call
// Verify. The verifier is immutable and safe for concurrent use:
//
//	keys, err := keyset.NewStatic(key)
//	v, err := golangjwt.New(jwtverify.Config{
//		Keys:      keys,
//		Issuers:   []string{"https://issuer.example"},
//		Audiences: []string{"api"},
//	})
//	tok, err := v.Verify(ctx, bearer)
//	switch {
//	case errors.Is(err, jwtverify.ErrKeysUnavailable): // 503: we cannot verify now
//	case err != nil:                                    // 401: jwtverify.Class(err) says why
//	}
//
// Around the core: keyset.NewRemote and keyset.Discover keep a JWKS fresh
// (singleflight refresh, bounded staleness, rate-limited unknown-kid
// refresh); package issuers routes tokens of several issuers; package
// jwtsvid verifies SPIFFE JWT-SVIDs by trust domain; package middleware
// protects net/http handlers with the policies of package access, which run
// after verification; cache.NewVerified remembers verified tokens; package
// jwttest mints tokens and runs a fake issuer for tests.
//
// # Security model
//
// The token is attacker-controlled input; the configuration is trusted.
// The verifier accepts only the compact serialization of a JWS with three
// strict base64url segments (no padding, whitespace or non-canonical
// trailing bits); a header and payload that are each exactly one JSON object
// in valid UTF-8 with no two member names at any depth that are equal or
// that encoding/json would match to one struct field (sub and Sub, or sub
// and "\u017fub"); an algorithm
// from the allowlist (never "none", in any spelling); a key selected from
// the configured source by kid and of the algorithm's own type (an HMAC
// algorithm is never keyed with a public key's bytes); and a signature of
// the exact length the algorithm and key need. Header members jku, x5u,
// jwk and x5c are never used. A crit header and b64=false are refused.
// Keys are validated when they are made: RSA of at least 2048 bits, EC
// points on their curve, HMAC secrets of at least the hash length.
//
// Only after the signature holds are the claims judged: unauthenticated
// claims are never reported, and are read before that only to tell the
// key source whether an unknown kid may cost a fetch ([Lookup.MayFetch]).
//
// # Check order and error classes
//
// This is the one statement of the check order; the code and the other
// documents refer to it. Verify checks in this order and stops at the
// first failure, so every rejection has exactly one class, a sentinel to
// test with errors.Is:
//
//	too_large         ErrTooLarge         longer than MaxTokenBytes (16 KiB by default),
//	                                      before anything is decoded
//	unsupported       ErrUnsupported      JWE (five segments)
//	malformed         ErrMalformed        not three segments; a segment not strict
//	                                      base64url (header, payload, signature)
//	malformed         ErrMalformed        header not one strict JSON object; no alg;
//	                                      alg, kid, typ, crit or b64 of the wrong type
//	unsupported       ErrUnsupported      crit, b64=false
//	type              ErrType             typ missing or not among Config.Types
//	algorithm         ErrAlgorithm        none, or not allowlisted
//	(key lookup)                          one call of KeySource.Key with a Lookup
//	keys_unavailable  ErrKeysUnavailable  the key source cannot supply keys
//	unknown_key       ErrUnknownKey       no key for kid (or no single key without kid)
//	algorithm         ErrAlgorithm        the key is not of the algorithm's type
//	signature         ErrSignature        wrong length or does not verify
//	malformed         ErrMalformed        payload not one strict JSON object; registered
//	                                      claims of the wrong type; dates not finite
//	                                      numbers in 1970..9999
//	missing_claim     ErrMissingClaim     exp (unless AllowMissingExpiry), iss or aud when
//	                                      configured, iat with MaxAge, RequiredClaims
//	issuer            ErrIssuer           iss not among Config.Issuers
//	audience          ErrAudience         no aud value among Config.Audiences
//	expired           ErrExpired          now ≥ exp + leeway
//	not_yet_valid     ErrNotYetValid      now < nbf − leeway
//	issued_in_future  ErrIssuedInFuture   iat > now + leeway
//	expired           ErrExpired          iat older than MaxAge + leeway
//
// The payload of a token with a kid is decoded before the key lookup, but
// judged, and its malformed class reported, only after the signature
// holds. What the lookup learns from the unverified claims is one bit,
// [Lookup.MayFetch]: whether an unknown kid may cost the key source a
// fetch.
//
// Error text has the form "class: detail". The detail never contains the
// token, a segment of it, or values taken from it (kid, iss, aud, typ, an
// unknown alg), nor key material, so errors are safe to log. [Class] returns
// the class name of an error. Access policies (scopes, roles) belong after
// Verify, never inside it.
//
// # Backends
//
// A [Backend] only checks signatures; [Verifier] does everything else,
// once, for every backend, so no backend can be laxer than another. The conformance
// suite in backends/backendtest runs every case against every backend.
//
// # Concurrency
//
// A [Verifier] and the keys it uses are immutable after construction;
// Verify takes no lock. [Config.Now] and the [KeySource] must be safe for
// concurrent use. Packages that accept a verifier (middleware, cache,
// issuers) declare the one method they need, Verify, as an interface of
// their own; a *Verifier satisfies each.
package jwtverify
