// Package dpop checks DPoP proofs (RFC 9449): the JWT a client signs, per
// request, with the private key its access token is bound to (the token's
// cnf.jkt), so that a stolen token is useless without that key.
//
// A [Checker] applies every check of RFC 9449 §4.3 to a proof, through the
// same strict front end and backend as jwtverify.Verifier (size limit,
// strict base64url and JSON, one class per rejection, no proof or token
// bytes in any error), in this order:
//
//  1. the proof is one compact JWS of at most MaxProofBytes whose header
//     has a jwk that is a public key (no private members, no oct; RSA of
//     at most 4096 bits) whose RFC 7638 thumbprint is the token's cnf.jkt,
//     typ dpop+jwt and an asymmetric alg of Config.Algorithms;
//  2. the signature verifies with that jwk (exp and nbf, when present,
//     hold within Leeway);
//  3. htm is the request's method and htu its URL (scheme, authority and
//     path; query and fragment ignored; both normalized, RFC 3986 §6);
//  4. iat is within Window of now, either side, plus Leeway;
//  5. with server nonces on, nonce is one the Checker issued within the
//     last two steps (else ErrNonce, with Nonce to send);
//  6. ath is the base64url SHA-256 of the access token;
//  7. jti, 1 to 256 bytes, has not been seen within the window: the
//     ReplayStore remembers it (else ErrProof; a store that cannot answer
//     is ErrUnavailable, never acceptance).
//
// The binding rules around proofs (which scheme a bound token must use,
// what an unbound one may do) are the middleware's; see package
// middleware.
package dpop

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/jsonx"
	"github.com/jwtverify/jwtverify/internal/jws"
	"github.com/jwtverify/jwtverify/keyset"
)

// The errors of Check: every error wraps exactly one of them. Their text
// and the detail they are wrapped with never contain proof or token
// bytes.
var (
	// ErrProof: the proof is missing, malformed, not signed by its jwk,
	// for another request, outside its window, replayed, or does not match
	// the access token (ath, cnf.jkt). The answer is 401 with
	// error="invalid_dpop_proof".
	ErrProof = errors.New("invalid_dpop_proof")
	// ErrNonce: server nonces are on and the proof has none, or an old or
	// foreign one. The answer is 401 with error="use_dpop_nonce" and a
	// DPoP-Nonce header holding Checker.Nonce().
	ErrNonce = errors.New("use_dpop_nonce")
	// ErrUnavailable: the ReplayStore cannot tell whether the proof was
	// seen. The answer is 503: the proof is never accepted.
	ErrUnavailable = errors.New("dpop_replay_store_unavailable")
)

// Defaults of Config, documented on its fields.
const (
	defaultWindow    = 60 * time.Second
	maxWindow        = 5 * time.Minute
	defaultNonceStep = 5 * time.Minute
	defaultMaxBytes  = 8 << 10
	maxJTIBytes      = 256
	maxRSABits       = 4096 // a client's proof key; larger ones cost a proof check far more
	minNonceSecret   = 32
)

// Algorithms returns the default allowlist of proof algorithms, in a new
// slice the caller owns: every asymmetric algorithm jwtverify supports.
func Algorithms() []string {
	var out []string
	for _, alg := range jwtverify.Algorithms() {
		if !strings.HasPrefix(alg, "HS") {
			out = append(out, alg)
		}
	}
	return out
}

// Config configures a Checker. The zero value is valid and safe: every
// zero field means its documented default. New keeps a copy.
type Config struct {
	// Algorithms allowlists the proofs' alg. Zero: Algorithms(). HMAC
	// algorithms and none are refused: a proof is signed by the client's
	// own key pair.
	Algorithms []string
	// Window is how far iat may be from now, either side (plus Leeway).
	// Zero: 60s. At most 5m.
	Window time.Duration
	// Leeway is the clock skew tolerated on top of Window. Zero: none. At
	// most 5m together with Window.
	Leeway time.Duration
	// Store remembers the proofs accepted. Nil: a MemoryStore of
	// DefaultMemoryEntries, owned by the Checker. A fleet of instances
	// needs one shared store (package dpop/redisstore).
	Store ReplayStore
	// NonceSecret, when set (at least 32 bytes), turns server nonces on
	// (RFC 9449 §8): a proof must carry a nonce the Checker made, which is
	// the HMAC-SHA256, under this secret, of the current time step or the
	// one before. Nothing is stored: every instance with the same secret
	// accepts the others' nonces. Zero: no nonces.
	NonceSecret []byte
	// NonceStep is the time step of nonces: a nonce is accepted for one
	// to two steps. Zero: 5m.
	NonceStep time.Duration
	// MaxProofBytes bounds a proof. Zero: 8 KiB.
	MaxProofBytes int
	// Now returns the current time. Nil: time.Now. It must be safe for
	// concurrent use.
	Now func() time.Time
}

// Checker checks DPoP proofs. Make one with New; the zero Checker is not
// usable. It is immutable and safe for concurrent use by multiple
// goroutines; its Store is shared with the caller when the caller gave
// one.
type Checker struct {
	v        *jwtverify.Verifier // proofs: typ dpop+jwt, the allowlist, the key from the proof
	algs     []string
	window   time.Duration // Window + Leeway
	leeway   time.Duration
	store    ReplayStore
	nonceKey []byte
	step     time.Duration
	maxBytes int
	now      func() time.Time
}

// Request is what a proof is checked against. The zero Request matches no
// proof.
type Request struct {
	// Method is the request's method, compared with htm exactly.
	Method string
	// URL is the URL the client used for the request, as it saw it: its
	// scheme, authority and path (a query or fragment is ignored). Behind
	// a proxy that is the public URL, not the one the server sees.
	URL string
	// AccessToken is the access token the proof comes with; ath must be
	// its hash. Required.
	AccessToken string
	// JKT is the access token's verified cnf.jkt; the proof's jwk must
	// have this thumbprint. Required.
	JKT string
}

// New returns a Checker that verifies proofs' signatures with b under
// cfg. Errors wrap jwtverify.ErrInvalidConfig.
func New(b jwtverify.Backend, cfg Config) (*Checker, error) {
	bad := func(format string, args ...any) (*Checker, error) {
		return nil, fmt.Errorf("%w: dpop: %s", jwtverify.ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	algs := slices.Clone(cfg.Algorithms)
	if len(algs) == 0 {
		algs = Algorithms()
	}
	for _, alg := range algs {
		if !slices.Contains(Algorithms(), alg) {
			return bad("algorithm %q is not an asymmetric algorithm jwtverify supports", alg)
		}
	}
	cfg.Window = cmp.Or(cfg.Window, defaultWindow)
	switch {
	case cfg.Window < 0 || cfg.Leeway < 0 || cfg.NonceStep < 0 || cfg.MaxProofBytes < 0:
		return bad("negative Window, Leeway, NonceStep or MaxProofBytes")
	case cfg.Window+cfg.Leeway > maxWindow:
		return bad("Window plus Leeway is above %v", maxWindow)
	case cfg.NonceSecret != nil && len(cfg.NonceSecret) < minNonceSecret:
		return bad("NonceSecret must be at least %d bytes", minNonceSecret)
	}
	c := &Checker{
		algs:     algs,
		window:   cfg.Window + cfg.Leeway,
		leeway:   cfg.Leeway,
		store:    cfg.Store,
		nonceKey: slices.Clone(cfg.NonceSecret),
		step:     cmp.Or(cfg.NonceStep, defaultNonceStep),
		maxBytes: cmp.Or(cfg.MaxProofBytes, defaultMaxBytes),
		now:      cfg.Now,
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.store == nil {
		c.store = NewMemoryStore(0)
	}
	v, err := jwtverify.New(b, jwtverify.Config{
		Keys:               proofKeys{algs: algs},
		Algorithms:         algs,
		Types:              []string{"dpop+jwt"},
		SkipIssuerCheck:    true,
		SkipAudienceCheck:  true,
		AllowMissingExpiry: true,
		// The core refuses an iat later than now + Leeway; the window
		// is checked here, both ways.
		Leeway:        c.window,
		Now:           c.now,
		MaxTokenBytes: c.maxBytes,
	})
	if err != nil {
		return nil, err
	}
	c.v = v
	return c, nil
}

// Algorithms returns the proof algorithms c accepts, in a new slice the
// caller owns: the algs of a DPoP challenge.
func (c *Checker) Algorithms() []string { return slices.Clone(c.algs) }

// Nonce returns the server nonce a client must put in its next proofs, to
// send in a DPoP-Nonce header; "" when nonces are off. It changes every
// NonceStep.
func (c *Checker) Nonce() string {
	if c.nonceKey == nil {
		return ""
	}
	return c.nonceAt(c.stepOf(c.now()))
}

func (c *Checker) stepOf(t time.Time) int64 { return t.UnixNano() / int64(c.step) }

func (c *Checker) nonceAt(step int64) string {
	m := hmac.New(sha256.New, c.nonceKey)
	m.Write([]byte("jwtverify dpop nonce\x00"))
	m.Write(binary.BigEndian.AppendUint64(nil, uint64(step)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// validNonce reports whether n is the nonce of the current step or of the
// one before.
func (c *Checker) validNonce(n string) bool {
	step := c.stepOf(c.now())
	for _, s := range []int64{step, step - 1} {
		if subtle.ConstantTimeCompare([]byte(n), []byte(c.nonceAt(s))) == 1 {
			return true
		}
	}
	return false
}

// proofKeyCtx carries the proof's own key to proofKeys.
type proofKeyCtx struct{}

// proofKeys is the KeySource of proofs: the key in the proof's jwk
// header, which Check puts in the context.
type proofKeys struct{ algs []string }

func (p proofKeys) Algorithms() []string { return slices.Clone(p.algs) }

func (p proofKeys) Key(ctx context.Context, l jwtverify.Lookup) (jwtverify.Key, error) {
	k, ok := ctx.Value(proofKeyCtx{}).(jwtverify.Key)
	switch {
	case !ok:
		return jwtverify.Key{}, errNoJWK
	case !k.Supports(l.Alg):
		return jwtverify.Key{}, jwtverify.Reject(jwtverify.ErrAlgorithm, "the proof's jwk does not support its alg")
	}
	return k, nil
}

var errNoJWK = jwtverify.Reject(jwtverify.ErrUnknownKey, "the proof has no usable jwk header")

// proofErr wraps ErrProof with a fixed reason.
func proofErr(reason string) error { return fmt.Errorf("%w: %s", ErrProof, reason) }

// Check checks proof, the value of the request's one DPoP header, against
// r in the order the package documentation states. It returns nil when
// the proof is good and now remembered; otherwise an error wrapping
// exactly one of ErrProof, ErrNonce and ErrUnavailable. ctx bounds the
// ReplayStore's answer.
func (c *Checker) Check(ctx context.Context, proof string, r Request) error {
	if proof == "" {
		return proofErr("no DPoP proof")
	}
	if r.AccessToken == "" || r.JKT == "" {
		return proofErr("the access token is not bound to a key (cnf.jkt)")
	}
	key, thumb, err := c.proofKey(proof)
	if err != nil {
		return err
	}
	// The key must be the token's before any signature work: a proof key
	// of another holder costs nothing more than this comparison.
	if subtle.ConstantTimeCompare([]byte(thumb), []byte(r.JKT)) != 1 {
		return proofErr("the proof's key is not the one the access token is bound to (cnf.jkt)")
	}
	tok, err := c.v.Verify(context.WithValue(ctx, proofKeyCtx{}, key), proof)
	if err != nil {
		return fmt.Errorf("%w: proof: %v", ErrProof, err) // jwtverify's errors hold no token bytes
	}
	cl, err := proofClaims(tok.Claims.Raw)
	if err != nil {
		return err
	}
	switch {
	case cl.htm != r.Method:
		return proofErr("htm is not the request's method")
	case !sameURL(cl.htu, r.URL):
		return proofErr("htu is not the request's URL")
	}
	iat := tok.Claims.IssuedAt
	now := c.now()
	switch {
	case iat.IsZero():
		return proofErr("iat is required")
	case iat.Before(now.Add(-c.window)) || iat.After(now.Add(c.window)):
		return proofErr("iat is outside the proof window")
	// The core was given the window as its leeway, for iat; exp and nbf,
	// which proofs seldom carry, get only Config.Leeway.
	case !tok.Claims.ExpiresAt.IsZero() && !now.Before(tok.Claims.ExpiresAt.Add(c.leeway)):
		return proofErr("the proof has expired (exp)")
	case !tok.Claims.NotBefore.IsZero() && now.Before(tok.Claims.NotBefore.Add(-c.leeway)):
		return proofErr("the proof is not yet valid (nbf)")
	case c.nonceKey != nil && !c.validNonce(cl.nonce):
		return fmt.Errorf("%w: the proof needs the server's current nonce", ErrNonce)
	}
	ath := sha256.Sum256([]byte(r.AccessToken))
	if subtle.ConstantTimeCompare([]byte(cl.ath), []byte(base64.RawURLEncoding.EncodeToString(ath[:]))) != 1 {
		return proofErr("ath is not the hash of the access token")
	}
	id := sha256.Sum256([]byte(thumb + "\x00" + cl.jti))
	// The end of the window on the wall clock, which the stores read,
	// whatever Config.Now says.
	until := time.Now().Add(iat.Add(c.window).Sub(now))
	seen, err := c.store.Remember(ctx, base64.RawURLEncoding.EncodeToString(id[:]), until)
	switch {
	case err != nil:
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	case seen:
		return proofErr("jti was used within the proof window (replay)")
	}
	return nil
}

// proofKey reads the jwk header of proof, without verifying anything: the
// key the signature must then verify with, and its RFC 7638 thumbprint.
func (c *Checker) proofKey(proof string) (jwtverify.Key, string, error) {
	p, err := jws.Parse(proof, c.maxBytes)
	if err != nil {
		return jwtverify.Key{}, "", fmt.Errorf("%w: proof: %v", ErrProof, err)
	}
	var raw []byte
	err = jsonx.Object(p.Header, func(name, value []byte) error {
		if string(name) == "jwk" {
			raw = value
		}
		return nil
	})
	switch {
	case err != nil:
		return jwtverify.Key{}, "", proofErr("header is not one strict JSON object")
	case raw == nil:
		return jwtverify.Key{}, "", proofErr("header has no jwk")
	}
	key, err := keyset.ParseJWK(raw)
	if err != nil {
		// keyset's reasons may quote a member of the jwk: a fixed one.
		return jwtverify.Key{}, "", proofErr("jwk is not a usable public key")
	}
	if rsaKey, ok := key.Public().(*rsa.PublicKey); ok && rsaKey.N.BitLen() > maxRSABits {
		return jwtverify.Key{}, "", proofErr("jwk is an RSA key above 4096 bits")
	}
	thumb, err := keyset.Thumbprint(key)
	if err != nil {
		return jwtverify.Key{}, "", proofErr("jwk is not a usable public key")
	}
	return key, thumb, nil
}

// claims are the DPoP members of a verified proof's payload.
type claims struct {
	htm, htu, jti, ath, nonce string
}

// proofClaims reads the DPoP members of a verified payload: htm, htu and
// jti required, ath and nonce strings when present.
func proofClaims(raw string) (claims, error) {
	var cl claims
	var has [3]bool
	err := jsonx.Object([]byte(raw), func(name, value []byte) error {
		var dst *string
		switch string(name) {
		case "htm":
			dst, has[0] = &cl.htm, true
		case "htu":
			dst, has[1] = &cl.htu, true
		case "jti":
			dst, has[2] = &cl.jti, true
		case "ath":
			dst = &cl.ath
		case "nonce":
			dst = &cl.nonce
		default:
			return nil
		}
		var ok bool
		if *dst, ok = jsonx.String(value); !ok {
			return proofErr(fmt.Sprintf("%s is not a string", name))
		}
		return nil
	})
	switch {
	case err != nil && errors.Is(err, ErrProof):
		return claims{}, err
	case err != nil:
		return claims{}, proofErr("payload is not one strict JSON object")
	case !has[0] || !has[1] || !has[2]:
		return claims{}, proofErr("htm, htu and jti are required")
	case cl.jti == "" || len(cl.jti) > maxJTIBytes:
		return claims{}, proofErr("jti must be 1 to 256 bytes")
	}
	return cl, nil
}

// sameURL reports whether htu and the request's URL are the same HTTP URI
// once normalized (RFC 9449 §4.3 check 9).
func sameURL(htu, reqURL string) bool {
	a, err1 := normalizeHTU(htu)
	b, err2 := normalizeHTU(reqURL)
	return err1 == nil && err2 == nil && a == b
}
