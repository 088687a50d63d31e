package middleware

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/jwtverify/jwtverify/access"
	"github.com/jwtverify/jwtverify/dpop"
	"github.com/jwtverify/jwtverify/internal/clientcert"
	"github.com/jwtverify/jwtverify/internal/peer"
)

// This file is sender-constrained tokens: the binding of a verified token
// to a key the client holds, DPoP (RFC 9449) or a TLS client certificate
// (RFC 8705 §3), enforced after verification and before any policy.

// Outcome classes of binding refusals.
const (
	classBinding   = "binding"           // a bound token without its proof or certificate, or an unbound one where binding is required
	classProof     = "dpop_proof"        // the DPoP proof is missing, invalid, replayed, stale or mismatched
	classNonce     = "dpop_nonce"        // a server nonce is needed
	classStoreDown = "dpop_replay_store" // the replay store cannot answer
)

// checkBinding applies the binding rules to a verified token s.Token,
// presented as token with scheme: a refusal Outcome and true, or false.
//
//   - cnf["x5t#S256"]: the client certificate (the connection's, or from
//     ClientCertHeader on a request from TrustedProxies) must have that
//     thumbprint.
//   - cnf.jkt: the scheme must be DPoP (with Options.DPoP set), and the
//     request's one DPoP header a proof dpop.Checker accepts for this
//     request, token and key.
//   - no cnf.jkt: the scheme must be Bearer, and RequireDPoP unset.
//
// A cnf that is not an object, or whose members are not strings, refuses
// the token: it says the token is bound, to something unreadable.
func (m *Middleware) checkBinding(r *http.Request, scheme, token string, s *access.Subject) (Outcome, bool) {
	jkt, x5t, ok := confirmation(s)
	if !ok {
		return bindingRefusal("malformed cnf claim"), true
	}
	if x5t != "" {
		got, err := m.clientThumbprint(r)
		if err != nil || subtle.ConstantTimeCompare([]byte(got), []byte(x5t)) != 1 {
			return bindingRefusal("certificate-bound token without its client certificate"), true
		}
	}
	switch {
	case jkt == "" && scheme == schemeDPoP:
		return bindingRefusal("DPoP scheme with a token not bound to a key"), true
	case jkt == "" && m.opts.RequireDPoP:
		return bindingRefusal("a DPoP-bound token is required"), true
	case jkt == "":
		return Outcome{}, false
	case scheme != schemeDPoP:
		return bindingRefusal("DPoP-bound token sent as Bearer"), true
	}
	proofs := r.Header.Values("DPoP")
	if len(proofs) != 1 {
		return dpopRefusal(errors.New("the request needs exactly one DPoP header")), true
	}
	err := m.opts.DPoP.Check(r.Context(), proofs[0], dpop.Request{
		Method: r.Method, URL: m.publicURL(r), AccessToken: token, JKT: jkt,
	})
	if err != nil {
		return dpopRefusal(err), true
	}
	return Outcome{}, false
}

// confirmation reads cnf.jkt and cnf["x5t#S256"] of s. ok is false for a
// cnf present but not an object, empty, with a member of another name
// (jwk, kid, jku, x5t, a case variant: a binding this middleware cannot
// enforce), or whose members are not non-empty strings: such a token says
// it is bound, to something that cannot be checked, and is refused.
func confirmation(s *access.Subject) (jkt, x5t string, ok bool) {
	cnf, found := s.Lookup("cnf")
	if !found {
		return "", "", true
	}
	obj, isObj := cnf.(map[string]any)
	if !isObj || len(obj) == 0 {
		return "", "", false
	}
	for name, v := range obj {
		str, isStr := v.(string)
		if !isStr || str == "" {
			return "", "", false
		}
		switch name {
		case "jkt":
			jkt = str
		case "x5t#S256":
			x5t = str
		default:
			return "", "", false
		}
	}
	return jkt, x5t, true
}

func bindingRefusal(why string) Outcome {
	return Outcome{Status: http.StatusUnauthorized, Class: classBinding, Code: "invalid_token", Description: classBinding, Err: errors.New(why)}
}

// dpopRefusal is the Outcome of a proof dpop.Checker refused with err.
func dpopRefusal(err error) Outcome {
	switch {
	case errors.Is(err, dpop.ErrUnavailable):
		return Outcome{Status: http.StatusServiceUnavailable, Class: classStoreDown, Description: "replay store unavailable", Err: err}
	case errors.Is(err, dpop.ErrNonce):
		return Outcome{Status: http.StatusUnauthorized, Class: classNonce, Code: "use_dpop_nonce", Description: "a DPoP nonce is required", Err: err}
	}
	return Outcome{Status: http.StatusUnauthorized, Class: classProof, Code: "invalid_dpop_proof", Description: "invalid DPoP proof", Err: err}
}

// fromTrustedProxy reports whether r's peer is one of TrustedProxies.
func (m *Middleware) fromTrustedProxy(r *http.Request) bool {
	return peer.In(r.RemoteAddr, m.opts.TrustedProxies)
}

// clientThumbprint returns the x5t#S256 of the request's client
// certificate: from ClientCertHeader when the peer is a trusted proxy,
// else the TLS connection's leaf.
func (m *Middleware) clientThumbprint(r *http.Request) (string, error) {
	if m.opts.ClientCertHeader != "" && m.fromTrustedProxy(r) {
		return clientcert.ThumbprintFromHeader(clientcert.FormatAuto, r.Header.Values(m.opts.ClientCertHeader))
	}
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return "", clientcert.ErrMissing
	}
	return clientcert.Thumbprint(r.TLS.PeerCertificates[0].Raw), nil
}

// publicURL is the URL the client used for r, as a DPoP proof's htu names
// it: PublicURL, or the scheme and host the request shows (from a trusted
// proxy, its X-Forwarded-Proto and X-Forwarded-Host), with r's path.
func (m *Middleware) publicURL(r *http.Request) string {
	if m.opts.PublicURL != "" {
		return m.opts.PublicURL + r.URL.EscapedPath()
	}
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if m.fromTrustedProxy(r) {
		if p := lastValue(r.Header, "X-Forwarded-Proto"); p != "" {
			scheme = strings.ToLower(p)
		}
		if h := lastValue(r.Header, "X-Forwarded-Host"); h != "" {
			host = h
		}
	}
	return scheme + "://" + host + r.URL.EscapedPath()
}
