// Package jws is the front end every token goes through first: it splits a
// compact JWS (RFC 7515 §7.1) into its three segments and decodes them.
// jwtverify's Verify and the issuers package's routing (which reads the
// unverified iss to choose a verifier) both call [Parse], so a token's
// size, shape and encoding are judged in one place, with one set of error
// texts.
//
// # Checks
//
// Parse makes the first checks of the order that package jwtverify
// documents under "Check order and error classes", the one statement of
// that order: size (before anything is read), then the segment count (a
// JWE's five segments are unsupported), then strict unpadded base64url
// (package b64url) for each segment. It stops at the first failure.
//
// The errors are rejections of package reject, passed on unchanged; their
// text never contains the token.
//
// # The buffer and the string view
//
// The three segments are decoded into one buffer: header, payload, then
// signature. [Parse] allocates it, of exactly their decoded size;
// [Segments.Decode] may instead be given one by its caller (jwtverify
// allocates it together with the Token whose strings view it). The header
// and payload together are also viewed as one string (unsafe.String, no
// copy), from which [Parts.String] and [Parts.PayloadText] return
// substrings; the strings of a jwtverify.Token are such substrings. That
// is sound because of one invariant: after Decode returns, nothing writes
// to the buffer. Decode never does, and no caller may: Header, Payload and
// Signature are read-only (the JSON scanner only reads them; a Backend
// receives the signature read-only, and it lies outside the view anyway),
// and a caller that provides the buffer uses it for nothing else. The
// buffer is private to one call, so the view is shared with no other
// token.
package jws

import (
	"bytes"
	"strings"
	"unsafe"

	"github.com/jwtverify/jwtverify/internal/b64url"
	"github.com/jwtverify/jwtverify/internal/jsonx"
	"github.com/jwtverify/jwtverify/internal/reject"
)

// DefaultMaxBytes is the token size limit when none is configured: that of
// jwtverify.Config.MaxTokenBytes and of the issuers package's routing,
// which read the same tokens.
const DefaultMaxBytes = 16 << 10

// Parts is a compact JWS split and decoded by [Parse]. Header, Payload and
// Signature share one buffer and must not be modified (see the package
// documentation). The zero Parts holds an empty token.
type Parts struct {
	Header    []byte // the decoded protected header
	Payload   []byte // the decoded payload
	Signature []byte // the decoded signature
	// SigningInput is what the signature covers: the token up to its
	// second '.'.
	SigningInput string

	text string // Header and Payload as one string, viewing the buffer
}

// Parse splits token, of at most maxBytes bytes, into its three segments
// and decodes them into a new buffer (see the package documentation for
// the checks): [Split] then [Segments.Decode]. Errors are rejections of
// class too_large, malformed or unsupported.
func Parse(token string, maxBytes int) (Parts, error) {
	s, err := Split(token, maxBytes)
	if err != nil {
		return Parts{}, err
	}
	return s.Decode(nil)
}

// Segments is a token that passed the size and segment checks, split but
// not yet decoded: the first half of [Parse], for a caller that provides
// the buffer (jwtverify allocates it with the Token its strings belong
// to). The zero Segments is an empty token.
type Segments struct {
	token  string
	d1, d2 int // indexes of the two '.'
	hn, pn int // decoded lengths of the header and payload
	sn     int // decoded length of the signature
}

// Split makes the checks of [Parse] that read no segment's contents: the
// size, the segment count and each segment's length.
func Split(token string, maxBytes int) (Segments, error) {
	if len(token) > maxBytes {
		return Segments{}, reject.Newf(reject.ErrTooLarge, "token is %d bytes; the limit is %d", len(token), maxBytes)
	}
	// Three searches that together read the token once; the count, a
	// second pass, only for the error.
	d1 := strings.IndexByte(token, '.')
	d2 := -1
	if d1 >= 0 {
		if j := strings.IndexByte(token[d1+1:], '.'); j >= 0 {
			d2 = d1 + 1 + j
		}
	}
	if d2 < 0 || strings.IndexByte(token[d2+1:], '.') >= 0 {
		n := strings.Count(token, ".") + 1
		if n == 5 {
			return Segments{}, errJWE
		}
		return Segments{}, reject.Newf(reject.ErrMalformed, "token has %d segments; a compact JWS has 3", n)
	}
	hn, ok1 := b64url.DecodedLen(d1)
	pn, ok2 := b64url.DecodedLen(d2 - d1 - 1)
	sn, ok3 := b64url.DecodedLen(len(token) - d2 - 1)
	if !ok1 || !ok2 || !ok3 {
		return Segments{}, errSegment
	}
	return Segments{token: token, d1: d1, d2: d2, hn: hn, pn: pn, sn: sn}, nil
}

// DecodedLen is the size of the buffer [Segments.Decode] needs.
func (s Segments) DecodedLen() int { return s.hn + s.pn + s.sn }

// Decode decodes the three segments into buf when its length is at least
// s.DecodedLen() (its first s.DecodedLen() bytes; buf must not be used for
// anything else afterwards), or into a new buffer when buf is shorter.
func (s Segments) Decode(buf []byte) (Parts, error) {
	hn, pn, n := s.hn, s.pn, s.DecodedLen()
	if len(buf) < n {
		buf = make([]byte, n)
	}
	h64, p64, s64 := s.token[:s.d1], s.token[s.d1+1:s.d2], s.token[s.d2+1:]
	var p Parts
	var err1, err2, err3 error
	p.Header, err1 = b64url.Decode(buf[:hn:hn], h64)
	p.Payload, err2 = b64url.Decode(buf[hn:hn+pn:hn+pn], p64)
	p.Signature, err3 = b64url.Decode(buf[hn+pn:n:n], s64)
	switch {
	case err1 != nil:
		return Parts{}, errHeader
	case err2 != nil:
		return Parts{}, errPayload
	case err3 != nil:
		return Parts{}, errSignature
	}
	if hn+pn > 0 {
		p.text = unsafe.String(&buf[0], hn+pn)
	}
	p.SigningInput = s.token[:s.d2]
	return p, nil
}

// The fixed rejections: one immutable value each, so hostile tokens that
// hit them cost no allocation for the error.
var (
	errJWE       = reject.New(reject.ErrUnsupported, "JWE (5 segments) is not supported; only compact JWS")
	errSegment   = reject.New(reject.ErrMalformed, "segment is not strict base64url")
	errHeader    = reject.New(reject.ErrMalformed, "header is not strict base64url")
	errPayload   = reject.New(reject.ErrMalformed, "payload is not strict base64url")
	errSignature = reject.New(reject.ErrMalformed, "signature is not strict base64url")
)

// String returns the JSON string value raw as a Go string, and false when
// raw is not a string. raw is a validated JSON value, as jsonx.Object and
// jsonx.Array hand them out. When raw lies in p.Header or p.Payload and
// has no escapes, the result is a substring of the decoded text, made
// without a copy; otherwise it is a copy.
func (p *Parts) String(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	if len(body) == 0 || bytes.IndexByte(body, '\\') >= 0 {
		return jsonx.String(raw)
	}
	if off, ok := p.offset(body); ok {
		return p.text[off : off+len(body)], true
	}
	return string(body), true
}

// offset returns where b, non-empty, lies in the decoded text, and false
// when it does not lie entirely inside it.
func (p *Parts) offset(b []byte) (int, bool) {
	if len(p.text) == 0 {
		return 0, false
	}
	base := uintptr(unsafe.Pointer(unsafe.StringData(p.text)))
	at := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if at < base || at-base > uintptr(len(p.text)) || uintptr(len(b)) > uintptr(len(p.text))-(at-base) {
		return 0, false
	}
	return int(at - base), true
}

// Strings reads, without verifying anything, the members names of the
// payload into vals and has (vals[i] and has[i] for names[i]; both at
// least as long as names): what routing by an unverified claim needs
// (issuers by iss, Template by iss and a tenant claim, jwtsvid by sub)
// before any key lookup. The payload must be one strict JSON object, and
// a named member a string; otherwise the error is malformed, "claim NAME
// has the wrong JSON type" for the first named member that is not.
func (p *Parts) Strings(names []string, vals []string, has []bool) error {
	err := jsonx.Object(p.Payload, func(name, value []byte) error {
		for i, n := range names {
			if string(name) != n {
				continue
			}
			var ok bool
			if vals[i], ok = jsonx.String(value); !ok {
				return reject.Newf(reject.ErrMalformed, "claim %s has the wrong JSON type", n)
			}
			has[i] = true
		}
		return nil
	})
	if _, ours := err.(*reject.Error); err != nil && !ours { // jsonx passes the callback's error on as it is
		return reject.New(reject.ErrMalformed, "payload: "+err.Error())
	}
	return err
}

// PayloadText returns the decoded payload as a string viewing the buffer
// (no copy).
func (p *Parts) PayloadText() string { return p.text[len(p.Header):] }
