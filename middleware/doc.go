// Package middleware protects net/http handlers with a jwtverify verifier:
// it takes the request's bearer token (RFC 6750), verifies it, applies an
// access policy (package [github.com/jwtverify/jwtverify/access]) and puts
// the verified token in the request's context, where [FromContext] finds it.
//
//	v, _ := golangjwt.New(jwtverify.Config{...})
//	mw, _ := middleware.New(v, middleware.Options{Realm: "orders"})
//	mux.Handle("GET /orders", mw.Require(access.Scopes("orders:read"))(list))
//	mux.Handle("POST /orders", mw.Require(access.Scopes("orders:write"))(create))
//	http.ListenAndServe(addr, mw.Handler(mux))
//
// # Answers
//
// No credentials: 401 with WWW-Authenticate: Bearer realm="…". A rejected
// token: 401 with error="invalid_token" and the rejection class as
// error_description. A policy refusal: 403 with error="insufficient_scope"
// (and scope="…" when the policy names one). Keys that cannot be had (the
// verifier's error is jwtverify.ErrKeysUnavailable, for example a key set
// past its staleness bound) or a verifier that fails without a rejection
// class: 503 with Retry-After and no challenge, since the token may be
// fine. A malformed request (two credentials; an Authorization header of
// scheme Bearer that is not "Bearer", one space and an RFC 6750 b64token; a
// query or cookie value that is not a b64token): 400 with
// error="invalid_request". Options.RequireTLS and a request not over TLS:
// 403 with error="invalid_request". Bodies are JSON {"error",
// "error_description"} unless Options.ErrorHandler writes them. No
// response and no log record ever contains the token, and none contains a
// claim value.
//
// # Sender-constrained tokens
//
// A token bound to a key (RFC 9449 DPoP, cnf.jkt) or to a client
// certificate (RFC 8705, cnf["x5t#S256"]) is accepted only with that key
// or certificate, checked after verification and before any policy:
//
//   - cnf.jkt: only as "Authorization: DPoP <token>" with Options.DPoP set
//     and one DPoP header holding a proof the dpop.Checker accepts for this
//     request (method, URL from Options.PublicURL or the request, token,
//     key). Sent as Bearer it is 401 invalid_token, whether or not DPoP is
//     set. A refused proof is 401 with WWW-Authenticate: DPoP
//     error="invalid_dpop_proof", algs="…" (or error="use_dpop_nonce" and
//     a DPoP-Nonce header); a replay store that cannot answer is 503.
//   - cnf["x5t#S256"]: the TLS connection's client certificate, or the one
//     a trusted proxy passes in Options.ClientCertHeader, must have that
//     SHA-256 thumbprint; otherwise 401 invalid_token.
//   - No cnf.jkt: the DPoP scheme is 401 invalid_token, and so is any
//     token with Options.RequireDPoP.
//
// With Options.DPoP set, every 401 also offers a DPoP challenge. A
// [RequestPolicy] (see [Middleware.RequireRequest]) judges the request as
// well as the token, for checks of its own.
//
// # Other frameworks
//
// [Middleware.Handler] and the functions [Middleware.Require] returns have
// the shape func(http.Handler) http.Handler, which routers built on
// net/http take as they are (chi: r.Use(mw.Handler)) and other frameworks
// adapt in a line or a few:
//
//	// echo
//	e.Use(echo.WrapMiddleware(mw.Handler))
//
//	// gin
//	func Verify(mw *middleware.Middleware) gin.HandlerFunc {
//		return func(c *gin.Context) {
//			passed := false
//			mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//				passed = true
//				c.Request = r // carries the token for middleware.FromContext
//				c.Next()
//			})).ServeHTTP(c.Writer, c.Request)
//			if !passed {
//				c.Abort() // the middleware has answered
//			}
//		}
//	}
//
// When the framework, not the Authorization header, holds the token (a
// header of its own, a WebSocket subprotocol, a session), Options.Extract
// takes it from the request instead of the RFC 6750 rules.
//
// A server without an *http.Request, such as a gRPC interceptor, needs no
// adapter: it takes the token from its metadata, calls the Verifier and an
// access policy itself, and answers errors.Is(err,
// jwtverify.ErrKeysUnavailable) as unavailable, any other Verify error as
// unauthenticated and a policy's error as permission denied:
//
//	tok, err := v.Verify(ctx, token)
//	...
//	err = policy(&access.Subject{Token: tok})
package middleware
