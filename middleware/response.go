package middleware

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/jwtverify/jwtverify/access"
)

// writeError sets WWW-Authenticate (except with 503: the token may be
// fine) and writes the refusal o, with Options.ErrorHandler or as JSON.
//
// With Options.DPoP set, a 401 also carries a DPoP challenge with the
// proof algorithms (RFC 9449 §7.1); a refused proof is answered with the
// DPoP challenge alone, with error="invalid_dpop_proof" or, with a
// DPoP-Nonce header, error="use_dpop_nonce".
func (m *Middleware) writeError(w http.ResponseWriter, r *http.Request, o Outcome) {
	if o.Status != http.StatusServiceUnavailable {
		dpopError := o.Class == classProof || o.Class == classNonce
		if !dpopError {
			challenge := `Bearer realm="` + m.opts.Realm + `"`
			if o.Code != "" {
				challenge += `, error="` + o.Code + `"`
				if o.Code == "invalid_token" {
					challenge += `, error_description="` + o.Description + `"`
				}
			}
			var d *access.Denied
			if errors.As(o.Err, &d) && d.Scope != "" && strings.IndexFunc(d.Scope, func(c rune) bool { return c == '"' || c == '\\' || c < 0x20 }) < 0 {
				challenge += `, scope="` + d.Scope + `"`
			}
			w.Header().Add("WWW-Authenticate", challenge)
		}
		if m.opts.DPoP != nil && o.Status == http.StatusUnauthorized {
			challenge := `DPoP realm="` + m.opts.Realm + `"`
			if dpopError {
				challenge += `, error="` + o.Code + `"`
			}
			challenge += `, algs="` + strings.Join(m.opts.DPoP.Algorithms(), " ") + `"`
			w.Header().Add("WWW-Authenticate", challenge)
			if o.Class == classNonce {
				w.Header().Set("DPoP-Nonce", m.opts.DPoP.Nonce())
			}
		}
	}
	if m.opts.ErrorHandler != nil {
		m.opts.ErrorHandler(w, r, o)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(o.Status)
	code := o.Code
	if code == "" {
		code = map[int]string{http.StatusUnauthorized: "unauthorized", http.StatusServiceUnavailable: "temporarily_unavailable"}[o.Status]
	}
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": o.Description})
}
