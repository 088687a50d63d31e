// Package clientcert computes the RFC 8705 §3 certificate thumbprint
// (the "x5t#S256" member of a token's "cnf" claim) of a TLS client
// certificate, either from the certificate itself or from the header a
// TLS-terminating proxy sets to forward it.
//
// # Trust rule
//
// This package only parses. A forwarding header is as trustworthy as the
// peer that sent it: anyone who can reach the server directly can send any
// header they like, including a certificate they hold no key for. The caller
// must read the header only from connections whose peer is a configured,
// trusted proxy (checked on the connection, never on a header such as
// X-Forwarded-For), must ignore it on every other connection, and should use
// the TLS connection's own certificate ([Thumbprint] of
// r.TLS.PeerCertificates[0].Raw) when it terminates TLS itself. The trusted
// proxy must in turn overwrite, not pass through, whatever value its own
// client sent: Envoy's forward_client_cert_details SANITIZE_SET or
// APPEND_FORWARD, nginx proxy_set_header, Traefik's passTLSClientCert
// middleware (which replaces the header).
//
// # Strictness
//
// The header must appear exactly once (one field line; a second line is an
// error, not a choice), be at most [MaxHeaderLen] bytes long, contain no
// control characters, and decode to a DER certificate that
// [x509.ParseCertificate] accepts; a malformed header is rejected as a whole,
// even where the malformed part is one this package would otherwise ignore.
// Errors are fixed phrases wrapping the sentinel errors below: they never
// contain bytes of the header.
package clientcert

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"net/url"
	"strings"
)

// MaxHeaderLen is the largest header value, in bytes, that
// [ThumbprintFromHeader] accepts. It fits an Envoy XFCC header carrying the
// client certificate and a short chain for a couple of hops; anything longer
// is rejected before it is parsed.
const MaxHeaderLen = 16 << 10

// Sentinel errors, for errors.Is. Every error of [ThumbprintFromHeader]
// wraps exactly one of them.
var (
	// ErrMissing reports that the header is absent or its value is empty
	// (or only spaces and tabs).
	ErrMissing = errors.New("clientcert: no client certificate header")
	// ErrMultiple reports more than one field line of the header. Which one
	// a trusted proxy set cannot be told, so none is used.
	ErrMultiple = errors.New("clientcert: more than one client certificate header line")
	// ErrTooLarge reports a header value longer than MaxHeaderLen.
	ErrTooLarge = errors.New("clientcert: client certificate header too large")
	// ErrMalformed reports a header that does not follow its format or does
	// not carry a parseable X.509 certificate.
	ErrMalformed = errors.New("clientcert: malformed client certificate header")
	// ErrHashMismatch reports an Envoy XFCC element whose Hash is not the
	// SHA-256 of its Cert.
	ErrHashMismatch = errors.New("clientcert: XFCC Hash does not match Cert")
	// ErrUnknownFormat reports a Format value that is none of the constants.
	ErrUnknownFormat = errors.New("clientcert: unknown header format")
)

// malformed returns ErrMalformed with a fixed reason. reason must be a
// constant: never pass it anything derived from the header.
func malformed(reason string) error {
	return &reasonError{reason: reason}
}

type reasonError struct{ reason string }

func (e *reasonError) Error() string { return ErrMalformed.Error() + ": " + e.reason }
func (e *reasonError) Unwrap() error { return ErrMalformed }

// Format selects how [ThumbprintFromHeader] reads a header value.
type Format int

const (
	// FormatAuto detects the format from the value. The detection is
	// unambiguous for well-formed values: an XFCC value starts with one of
	// its keys and '=' ("By=", "Hash=", "Cert=", "Chain=", "Subject=",
	// "URI=", "DNS=", case-insensitively; an XFCC value starting with
	// another key is not detected); a PEM value starts with "-----", as is
	// or once percent-decoded and stripped of leading whitespace; base64 of a DER
	// certificate always starts with 'M' (DER SEQUENCE tag 0x30). Anything
	// else is read as FormatBase64DER and fails there. Configure the
	// explicit format when it is known.
	FormatAuto Format = iota

	// FormatXFCC is Envoy's X-Forwarded-Client-Cert: a comma-separated list
	// of elements, one per proxy hop, each a semicolon-separated list of
	// Key=Value pairs whose values may be double-quoted (inside quotes,
	// commas and semicolons do not split and a backslash escapes the next
	// character, so \" is a literal quote). Exactly one element is
	// accepted: what Envoy writes with forward_client_cert_details
	// SANITIZE_SET. More than one is refused, because Envoy writes the
	// certificate's URI and DNS names unquoted: a client certificate whose
	// URI SAN holds ",Hash=…" would otherwise end Envoy's element and add
	// one of the client's own, which no parser can tell from a real second
	// hop (APPEND_FORWARD is therefore not supported). In it, Cert (the URL-encoded PEM of
	// the client certificate) is decoded, parsed and hashed; if Hash (hex
	// SHA-256 of the DER, case-insensitive) is present too it must match,
	// else ErrHashMismatch. Without Cert, Hash alone is accepted and
	// converted: the certificate then cannot be checked, only the proxy's
	// word is taken. An element with neither is an error, and so is a
	// repeated Cert or Hash key. Other keys (By, Chain, Subject, URI, DNS,
	// and unknown ones) are checked for syntax only. Spaces and tabs are
	// allowed around ',' and ';', not around '='.
	FormatXFCC

	// FormatPEM is a percent-encoded PEM certificate, as nginx's
	// $ssl_client_escaped_cert (proxy_set_header X-SSL-Client-Cert
	// $ssl_client_escaped_cert). The value is percent-decoded (a '+' stays
	// a '+'), must then start with a CERTIFICATE block without PEM headers,
	// which is the client certificate; it may be followed by further
	// CERTIFICATE blocks (a chain, as some proxies send) that must parse as
	// well, and by nothing else but whitespace.
	FormatPEM

	// FormatBase64DER is the standard base64 of the DER certificate, the
	// PEM body without its BEGIN/END lines and line breaks, possibly
	// percent-encoded: Traefik's X-Forwarded-Tls-Client-Cert
	// (passTLSClientCert with pem: true), or HAProxy's
	// %[ssl_c_der,base64]. Several certificates may be comma-separated
	// (Traefik sends the peer's chain); the first is the client
	// certificate, and every one must parse. Padding is optional but, when
	// present, must be correct; whitespace and line breaks inside the
	// base64 are rejected.
	FormatBase64DER
)

// String returns the name of the format's constant without the "Format"
// prefix, e.g. "XFCC".
func (f Format) String() string {
	switch f {
	case FormatAuto:
		return "Auto"
	case FormatXFCC:
		return "XFCC"
	case FormatPEM:
		return "PEM"
	case FormatBase64DER:
		return "Base64DER"
	}
	return "Format(invalid)"
}

// Thumbprint returns the RFC 8705 §3.1 x5t#S256 value of a DER-encoded
// certificate: the base64url encoding, without padding, of its SHA-256.
// It does not check that der is a certificate.
func Thumbprint(der []byte) string {
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// ThumbprintFromHeader returns the x5t#S256 thumbprint (as [Thumbprint]
// computes it) of the client certificate a trusted TLS-terminating proxy
// forwarded in a header. values are the header's field lines, as
// http.Header.Values returns them: none or an empty value gives ErrMissing,
// more than one gives ErrMultiple. See [Format] for the formats and the
// package documentation for the trust rule, which is the caller's to
// enforce.
//
// The result is a thumbprint rather than the certificate because Envoy may
// forward only the certificate's hash (XFCC Hash without Cert), which binds
// a token just as well.
func ThumbprintFromHeader(format Format, values []string) (string, error) {
	if format < FormatAuto || format > FormatBase64DER {
		return "", ErrUnknownFormat
	}
	switch len(values) {
	case 0:
		return "", ErrMissing
	case 1:
	default:
		return "", ErrMultiple
	}
	v := values[0]
	if len(v) > MaxHeaderLen {
		return "", ErrTooLarge
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return "", malformed("control character")
		}
	}
	v = trimOWS(v)
	if v == "" {
		return "", ErrMissing
	}
	if format == FormatAuto {
		format = detect(v)
	}
	var (
		sum []byte
		err error
	)
	switch format {
	case FormatXFCC:
		sum, err = fromXFCC(v)
	case FormatPEM:
		sum, err = fromEscapedPEM(v)
	default:
		sum, err = fromBase64DER(v)
	}
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// xfccKeys are the keys Envoy emits, in lower case.
var xfccKeys = []string{"by", "hash", "cert", "chain", "subject", "uri", "dns"}

// detect picks the format of a non-empty, trimmed value.
func detect(v string) Format {
	if key, _, ok := strings.Cut(v, "="); ok {
		for _, k := range xfccKeys {
			if strings.EqualFold(key, k) {
				return FormatXFCC
			}
		}
	}
	if strings.HasPrefix(v, "-----") {
		return FormatPEM
	}
	if dec, err := url.PathUnescape(v); err == nil && strings.HasPrefix(strings.TrimLeft(dec, " \t\r\n"), "-----") {
		return FormatPEM
	}
	return FormatBase64DER
}

// fromEscapedPEM reads FormatPEM and returns the leaf's SHA-256.
func fromEscapedPEM(v string) ([]byte, error) {
	dec, err := url.PathUnescape(v)
	if err != nil {
		return nil, malformed("invalid percent-encoding")
	}
	der, err := pemLeaf([]byte(dec), true)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	return sum[:], nil
}

// pemLeaf returns the DER of the first CERTIFICATE block of b, which must
// start b (after whitespace). Further CERTIFICATE blocks are allowed, and
// must parse, only if chain is set; nothing but whitespace may follow.
func pemLeaf(b []byte, chain bool) ([]byte, error) {
	var leaf []byte
	for n := 0; ; n++ {
		b = bytes.TrimLeft(b, " \t\r\n")
		if len(b) == 0 {
			if leaf == nil {
				return nil, malformed("no PEM block")
			}
			return leaf, nil
		}
		if n == 1 && !chain {
			return nil, malformed("data after the PEM certificate")
		}
		// pem.Decode skips any text before "-----BEGIN"; refuse it.
		if !bytes.HasPrefix(b, []byte("-----BEGIN ")) {
			return nil, malformed("not a PEM block")
		}
		block, rest := pem.Decode(b)
		// pem.Decode also skips an invalid block and returns the next one:
		// the block must be the one that starts b.
		if block == nil || bytes.Count(b[:len(b)-len(rest)], []byte("-----BEGIN")) != 1 {
			return nil, malformed("invalid PEM block")
		}
		if block.Type != "CERTIFICATE" || len(block.Headers) != 0 {
			return nil, malformed("PEM block is not a certificate")
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return nil, malformed("certificate does not parse")
		}
		if leaf == nil {
			leaf = block.Bytes
		}
		b = rest
	}
}

// fromBase64DER reads FormatBase64DER and returns the leaf's SHA-256.
func fromBase64DER(v string) ([]byte, error) {
	dec, err := url.PathUnescape(v)
	if err != nil {
		return nil, malformed("invalid percent-encoding")
	}
	var leaf []byte
	for part := range strings.SplitSeq(dec, ",") {
		part = trimOWS(part)
		if part == "" {
			return nil, malformed("empty certificate in list")
		}
		der, err := decodeBase64(part)
		if err != nil {
			return nil, err
		}
		if _, err := x509.ParseCertificate(der); err != nil {
			return nil, malformed("certificate does not parse")
		}
		if leaf == nil {
			leaf = der
		}
	}
	sum := sha256.Sum256(leaf)
	return sum[:], nil
}

// decodeBase64 decodes standard base64, padded or not. encoding/base64
// skips '\r' and '\n' even in strict mode, so the alphabet is checked first.
func decodeBase64(s string) ([]byte, error) {
	body := strings.TrimRight(s, "=")
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return nil, malformed("invalid base64")
		}
	}
	enc := base64.RawStdEncoding
	if len(body) != len(s) {
		enc = base64.StdEncoding
	}
	der, err := enc.Strict().DecodeString(s)
	if err != nil {
		return nil, malformed("invalid base64")
	}
	return der, nil
}

// fromXFCC reads FormatXFCC, one element, and returns the SHA-256 of its
// certificate.
func fromXFCC(v string) ([]byte, error) {
	elems, err := parseXFCC(v)
	if err != nil {
		return nil, err
	}
	if len(elems) != 1 {
		return nil, malformed("XFCC has more than one element (only SANITIZE_SET is supported)")
	}
	var cert, hash *string
	for _, p := range elems[0] {
		switch {
		case strings.EqualFold(p.key, "cert"):
			if cert != nil {
				return nil, malformed("repeated XFCC Cert")
			}
			cert = &p.value
		case strings.EqualFold(p.key, "hash"):
			if hash != nil {
				return nil, malformed("repeated XFCC Hash")
			}
			hash = &p.value
		}
	}
	var claimed []byte
	if hash != nil {
		// hex.DecodeString accepts either case.
		if len(*hash) != 2*sha256.Size {
			return nil, malformed("XFCC Hash is not a hex SHA-256")
		}
		if claimed, err = hex.DecodeString(*hash); err != nil {
			return nil, malformed("XFCC Hash is not a hex SHA-256")
		}
	}
	if cert == nil {
		if claimed == nil {
			return nil, malformed("XFCC element has neither Cert nor Hash")
		}
		return claimed, nil
	}
	pemText, err := url.PathUnescape(*cert)
	if err != nil {
		return nil, malformed("invalid percent-encoding in XFCC Cert")
	}
	der, err := pemLeaf([]byte(pemText), false)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	if claimed != nil && !bytes.Equal(claimed, sum[:]) {
		return nil, ErrHashMismatch
	}
	return sum[:], nil
}

type pair struct{ key, value string }

// parseXFCC splits an XFCC value into elements of key/value pairs,
// unquoting quoted values. It returns at least one element, each with at
// least one pair, or an error.
func parseXFCC(s string) ([][]pair, error) {
	var (
		elems [][]pair
		elem  []pair
		i     int
	)
	for {
		i = skipOWS(s, i)
		start := i
		for i < len(s) && isKeyChar(s[i]) {
			i++
		}
		if i == start {
			return nil, malformed("XFCC: missing key")
		}
		key := s[start:i]
		if i == len(s) || s[i] != '=' {
			return nil, malformed("XFCC: missing '=' after key")
		}
		i++
		var value string
		if i < len(s) && s[i] == '"' {
			var b strings.Builder
			i++
			closed := false
			for i < len(s) && !closed {
				switch c := s[i]; c {
				case '"':
					closed = true
				case '\\':
					i++
					if i == len(s) {
						return nil, malformed("XFCC: unterminated quoted value")
					}
					// \" and \\ stand for the character; any other escape
					// (an RFC 4514 "\," in Subject, say) is kept as written.
					if s[i] != '"' && s[i] != '\\' {
						b.WriteByte('\\')
					}
					b.WriteByte(s[i])
				default:
					b.WriteByte(c)
				}
				i++
			}
			if !closed {
				return nil, malformed("XFCC: unterminated quoted value")
			}
			value = b.String()
			i = skipOWS(s, i)
		} else {
			start := i
			for i < len(s) && s[i] != ';' && s[i] != ',' {
				if s[i] == '"' {
					return nil, malformed("XFCC: quote inside unquoted value")
				}
				i++
			}
			value = trimOWS(s[start:i])
		}
		elem = append(elem, pair{key, value})
		if i == len(s) {
			return append(elems, elem), nil
		}
		switch s[i] {
		case ';':
		case ',':
			elems = append(elems, elem)
			elem = nil
		default:
			return nil, malformed("XFCC: text after quoted value")
		}
		i++
	}
}

// isKeyChar reports whether c may appear in an XFCC key (an RFC 9110 token
// character).
func isKeyChar(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func skipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

func trimOWS(s string) string { return strings.Trim(s, " \t") }
