package keyset

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/redact"
)

// This file is the one HTTP GET of the package, used by Remote for the
// JWKS and by Discover for the discovery document: the URL rules, the
// redirect rules, the deadline, the status and size limits, the
// validators of a conditional request, and the freshness a response
// states. It keeps no state between requests.

// getter fetches documents within fixed limits. It is safe for concurrent
// use.
type getter struct {
	client   *http.Client // from clientFor: redirect rules applied
	timeout  time.Duration
	maxBytes int64
	accept   string
	// bearerFile, when set, names the file whose content, read on each
	// request, is sent as "Authorization: Bearer <content>".
	bearerFile string
}

// maxBearerBytes bounds a bearer token file.
const maxBearerBytes = 64 << 10

// validators are what a conditional request sends: the ETag and
// Last-Modified of the previous 200.
type validators struct {
	etag, lastModified string
}

// response is a successful answer: 200, or 304 to a conditional request.
type response struct {
	notModified bool   // 304: the previous body still stands
	body        []byte // for a 200
	valid       validators
	// lifetime is the freshness lifetime the response states (see
	// lifetime), not clamped; -1 when it states none.
	lifetime time.Duration
}

// get fetches rawURL, bounded by ctx and the timeout. A 304 is an answer
// only when prev holds a validator; any other status than 200 is an
// error, as is a body over maxBytes. Errors show no URL secret and no
// byte of the body.
func (g *getter) get(ctx context.Context, rawURL string, prev validators) (response, error) {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return response{}, redact.Error(err)
	}
	req.Header.Set("Accept", g.accept)
	if prev.etag != "" {
		req.Header.Set("If-None-Match", prev.etag)
	}
	if prev.lastModified != "" {
		req.Header.Set("If-Modified-Since", prev.lastModified)
	}
	if g.bearerFile != "" {
		token, err := readBearer(g.bearerFile)
		if err != nil {
			return response{}, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return response{}, redact.Error(err) // net/http's errors quote the URL, query included
	}
	defer resp.Body.Close()
	out := response{
		valid:    validators{resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")},
		lifetime: lifetime(resp.Header, time.Now()),
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && prev != (validators{}):
		out.notModified = true
		out.valid.etag = cmp.Or(out.valid.etag, prev.etag)
		out.valid.lastModified = cmp.Or(out.valid.lastModified, prev.lastModified)
		return out, nil
	case resp.StatusCode != http.StatusOK:
		return response{}, fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	out.body, err = io.ReadAll(io.LimitReader(resp.Body, g.maxBytes+1))
	if err != nil {
		return response{}, redact.Error(err)
	}
	if int64(len(out.body)) > g.maxBytes {
		return response{}, fmt.Errorf("response larger than %d bytes", g.maxBytes)
	}
	return out, nil
}

// readBearer reads the bearer token in file name, trimmed of surrounding
// white space. The token must be non-empty visible ASCII (no space or
// control character, which would let it change the request). Errors name
// the file, never a byte of its content.
func readBearer(name string) (string, error) {
	fh, err := os.Open(name)
	if err != nil {
		return "", fmt.Errorf("bearer token file: %w", err) // *os.PathError: the path and the cause
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxBearerBytes+1))
	if err != nil {
		return "", fmt.Errorf("bearer token file %s: %w", name, err)
	}
	if len(data) > maxBearerBytes {
		return "", fmt.Errorf("bearer token file %s is larger than %d bytes", name, maxBearerBytes)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return "", fmt.Errorf("bearer token file %s is empty", name)
	}
	for _, c := range data {
		if c <= ' ' || c > '~' {
			return "", fmt.Errorf("bearer token file %s holds a space or a character that is not visible ASCII", name)
		}
	}
	return string(data), nil
}

// lifetime is the freshness lifetime h states: Cache-Control max-age,
// else Expires minus Date (now when there is no Date); 0 for no-cache or
// no-store, whatever else the header says; -1 when h states none.
func lifetime(h http.Header, now time.Time) time.Duration {
	d, noCache := time.Duration(-1), false
	for _, dir := range strings.Split(strings.Join(h.Values("Cache-Control"), ","), ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(dir), "=")
		switch strings.ToLower(name) {
		case "max-age":
			if n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64); err == nil && n >= 0 && n < 1<<31 {
				d = time.Duration(n) * time.Second
			}
		case "no-cache", "no-store":
			noCache = true
		}
	}
	switch {
	case noCache:
		return 0
	case d >= 0:
		return d
	}
	exp, err := http.ParseTime(h.Get("Expires"))
	if err != nil {
		return -1
	}
	if t, err := http.ParseTime(h.Get("Date")); err == nil {
		now = t
	}
	return max(exp.Sub(now), 0)
}

// checkURL checks a URL the operator gave: https, and http only to
// loopback unless insecure.
func checkURL(rawURL string, insecure bool) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%w: %q is not an absolute URL", jwtverify.ErrInvalidConfig, redact.URL(rawURL))
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && (insecure || isLoopback(u.Hostname())):
		return nil
	}
	return fmt.Errorf("%w: %q: only https URLs (http to loopback) unless AllowInsecureHTTP", jwtverify.ErrInvalidConfig, redact.URL(rawURL))
}

// learnedURLAllowed reports whether u, learned from a response to a
// request for from, may be requested: https, or http on from's own origin
// (scheme, host and port), which names no host and no transport that from
// did not.
func learnedURLAllowed(u, from *url.URL) bool {
	return u.Scheme == "https" || (u.Scheme == "http" && from.Scheme == "http" && strings.EqualFold(u.Host, from.Host))
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// clientFor returns a copy of c (or a new client with timeout) whose
// redirects stay on the original host (unless crossHost) and go to https,
// or to http on the original origin (learnedURLAllowed), before any
// CheckRedirect of the caller's own runs. A redirect off the origin
// (scheme, host and port) of the first request drops its Authorization
// header, even to a subdomain or another port, which net/http would keep.
// With roots, TLS trusts roots instead of the system's: the transport
// (c's, or http.DefaultTransport) is cloned with them, and one that is
// not an *http.Transport, that dials TLS itself or that has RootCAs of
// its own is a configuration error.
func clientFor(c *http.Client, timeout time.Duration, crossHost bool, roots *x509.CertPool) (*http.Client, error) {
	var out http.Client
	if c != nil {
		out = *c
	} else {
		out.Timeout = timeout
	}
	if roots != nil {
		rt, err := transportWithRoots(out.Transport, roots)
		if err != nil {
			return nil, err
		}
		out.Transport = rt
	}
	theirs := out.CheckRedirect
	out.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		if !crossHost && req.URL.Host != via[0].URL.Host {
			return errors.New("redirect to another host refused")
		}
		if !learnedURLAllowed(req.URL, via[0].URL) {
			return errors.New("redirect to http refused: a redirect must go to https, or stay on the http origin requested")
		}
		if req.URL.Scheme != via[0].URL.Scheme || !strings.EqualFold(req.URL.Host, via[0].URL.Host) {
			req.Header.Del("Authorization")
		}
		if theirs != nil {
			return theirs(req, via)
		}
		return nil
	}
	out.Transport = locationGuard{out.Transport}
	return &out, nil
}

// transportWithRoots returns a clone of rt (nil: http.DefaultTransport)
// that trusts roots.
func transportWithRoots(rt http.RoundTripper, roots *x509.CertPool) (http.RoundTripper, error) {
	if rt == nil {
		rt = http.DefaultTransport
	}
	t, ok := rt.(*http.Transport)
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: RootCAs needs a Client whose Transport is nil or an *http.Transport, not %T: set the roots in your transport instead", jwtverify.ErrInvalidConfig, rt)
	case t.DialTLS != nil || t.DialTLSContext != nil: //lint:ignore SA1019 a deprecated DialTLS still bypasses TLSClientConfig
		return nil, fmt.Errorf("%w: RootCAs cannot apply to a Transport that dials TLS itself (DialTLS or DialTLSContext)", jwtverify.ErrInvalidConfig)
	case t.TLSClientConfig != nil && t.TLSClientConfig.RootCAs != nil:
		return nil, fmt.Errorf("%w: RootCAs is set and so is the Client's Transport.TLSClientConfig.RootCAs: set one", jwtverify.ErrInvalidConfig)
	}
	t = t.Clone()
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	t.TLSClientConfig.RootCAs = roots
	return t, nil
}

// locationGuard refuses a redirect whose Location does not parse, with
// text of its own: net/http's error for it quotes the whole header, which
// the server chose and may fill with credentials or megabytes.
type locationGuard struct{ rt http.RoundTripper }

// CloseIdleConnections passes on to the wrapped transport, for Remote.Close
// (http.Client.CloseIdleConnections finds it).
func (g locationGuard) CloseIdleConnections() {
	if c, ok := g.rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (g locationGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	rt := g.rt
	if rt == nil {
		rt = http.DefaultTransport
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		if loc := resp.Header.Get("Location"); loc != "" {
			if _, perr := req.URL.Parse(loc); perr != nil {
				resp.Body.Close()
				return nil, errors.New("redirect whose Location is not a URL")
			}
		}
	}
	return resp, nil
}
