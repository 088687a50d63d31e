package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jwtverify/jwtverify/access"
	"github.com/jwtverify/jwtverify/internal/metrics"
	"github.com/jwtverify/jwtverify/internal/peer"
	"github.com/jwtverify/jwtverify/internal/redact"
	"github.com/jwtverify/jwtverify/internal/spiffeid"
	"github.com/jwtverify/jwtverify/keyset"
	"github.com/jwtverify/jwtverify/middleware"
)

type proxyFlags struct {
	verifyFlags
	listen, upstream, metricsListen, claimsHeader string
	requireScopes, requireSPIFFEIDs               list
	stripAuthorization, allowWebSocket            bool
	timeouts                                      timeouts
	binding                                       bindingFlags
	// transport carries requests upstream; nil: http.DefaultTransport.
	// Tests set an in-memory one.
	transport http.RoundTripper
}

// timeouts bound the connections of both listeners, the proxy's and the
// metrics', and the graceful shutdown. Zero read, write and idle mean no
// limit.
type timeouts struct {
	readHeader, read, write, idle, shutdown time.Duration
}

// Defaults of the timeouts, as the README states them. The write timeout
// bounds a whole exchange, upstream time included, so it also cuts a
// response that streams for longer: --write-timeout raises it.
const (
	defaultReadHeaderTimeout = 10 * time.Second
	defaultReadTimeout       = 60 * time.Second
	defaultWriteTimeout      = 60 * time.Second
	defaultIdleTimeout       = 30 * time.Second
	defaultShutdownTimeout   = 10 * time.Second
)

// proxy is a verifying reverse proxy, ready to serve.
type proxy struct {
	handler  http.Handler
	metrics  http.Handler
	tls      *tls.Config // nil: plain HTTP
	timeouts timeouts
	errorLog *log.Logger // the servers' own errors, into the slog logger
	close    func()
}

// runProxy serves until SIGINT or SIGTERM, then shuts down gracefully.
// Once the logger exists every line it writes is a slog record; a failure
// to listen or to serve exits ExitUsage, never ExitRejected.
func runProxy(args []string, stderr io.Writer) int {
	var f proxyFlags
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitValid
		}
		return ExitUsage
	}
	if fs.NArg() > 0 {
		return usageErr(stderr, "proxy takes no arguments")
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	p, err := newProxy(&f, logger)
	if err != nil {
		return usageErr(stderr, err.Error())
	}
	defer p.close()
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		logger.Error("proxy cannot listen", "err", err)
		return ExitUsage
	}
	var mln net.Listener
	if f.metricsListen != "" {
		if mln, err = net.Listen("tcp", f.metricsListen); err != nil {
			ln.Close()
			logger.Error("proxy cannot listen for metrics", "err", err)
			return ExitUsage
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger.Info("proxy listening", "addr", ln.Addr().String(), "upstream", redact.URL(f.upstream))
	if err := serveProxy(ctx, p, ln, mln); err != nil {
		logger.Error("proxy server failed", "err", err)
		return ExitUsage
	}
	return ExitValid
}

// register adds the proxy's flags, the verifier's included, to fs.
func (f *proxyFlags) register(fs *flag.FlagSet) {
	f.verifyFlags.register(fs)
	fs.StringVar(&f.listen, "listen", "", "address to serve on, e.g. :8080 (required)")
	fs.StringVar(&f.upstream, "upstream", "", "URL of the service behind the proxy (required)")
	fs.Var(&f.requireScopes, "require-scope", "scope every request needs (repeatable: all of them)")
	fs.Var(&f.requireSPIFFEIDs, "require-spiffe-id", "SPIFFE ID the token's sub must be: an ID, or ID/* for every ID under it (repeatable: any of them); others get 403")
	fs.StringVar(&f.claimsHeader, "claims-header", "X-Jwt-Claims", "header carrying the verified claims upstream (base64url JSON)")
	fs.BoolVar(&f.stripAuthorization, "strip-authorization", false, "do not pass the Authorization header upstream")
	fs.StringVar(&f.metricsListen, "metrics-listen", "", "address for Prometheus metrics at /metrics")
	fs.DurationVar(&f.remoteCfg.MinRefresh, "refresh-min", 0, "remote key set: least refresh interval (default 5m)")
	fs.DurationVar(&f.remoteCfg.MaxRefresh, "refresh-max", 0, "remote key set: greatest refresh interval (default 24h)")
	fs.DurationVar(&f.remoteCfg.UnknownKIDInterval, "unknown-kid-interval", 0, "remote key set: least time between unknown-kid refreshes (default 30s)")
	fs.DurationVar(&f.remoteCfg.MaxStale, "max-stale", 0, "remote key set: oldest set served while refreshes fail (default 24h)")
	fs.BoolVar(&f.allowWebSocket, "allow-websocket", false, "tunnel WebSocket upgrades of verified requests, until the token expires (any other upgrade is always refused)")
	f.binding.register(fs)
	fs.DurationVar(&f.timeouts.readHeader, "read-header-timeout", defaultReadHeaderTimeout, "time to read a request's header")
	fs.DurationVar(&f.timeouts.read, "read-timeout", defaultReadTimeout, "time to read a whole request, header and body (0: no limit)")
	fs.DurationVar(&f.timeouts.write, "write-timeout", defaultWriteTimeout, "time from the end of a request's header to the end of its response, upstream time included; a longer response is cut (0: no limit)")
	fs.DurationVar(&f.timeouts.idle, "idle-timeout", defaultIdleTimeout, "time a keep-alive connection may wait for its next request (0: no limit)")
	fs.DurationVar(&f.timeouts.shutdown, "shutdown-timeout", defaultShutdownTimeout, "on SIGTERM or SIGINT, time left to the requests in flight")
}

// check refuses timeouts the servers cannot use.
func (t timeouts) check() error {
	if t.readHeader <= 0 || t.shutdown <= 0 {
		return errors.New("--read-header-timeout and --shutdown-timeout must be positive")
	}
	if t.read < 0 || t.write < 0 || t.idle < 0 {
		return errors.New("--read-timeout, --write-timeout and --idle-timeout must be positive, or 0 for no limit")
	}
	return nil
}

// newProxy builds the verifier, middleware, reverse proxy and metrics.
func newProxy(f *proxyFlags, logger *slog.Logger) (*proxy, error) {
	if f.listen == "" || f.upstream == "" {
		return nil, errors.New("proxy needs --listen and --upstream")
	}
	up, err := url.Parse(f.upstream)
	if err != nil || (up.Scheme != "http" && up.Scheme != "https") || up.Host == "" {
		return nil, fmt.Errorf("--upstream %s is not an http(s) URL", redact.URL(f.upstream))
	}
	if f.claimsHeader == "" || strings.ContainsAny(f.claimsHeader, " :\r\n") {
		return nil, errors.New("--claims-header must be a header name")
	}
	if err := f.timeouts.check(); err != nil {
		return nil, err
	}
	var reg metrics.Registry
	verifications := reg.Counter("jwtverify_verifications_total", "Requests by verification result: valid, a rejection class, policy, missing, invalid_request or insecure.")
	duration := reg.Histogram("jwtverify_verify_duration_seconds", "Time to verify a token.",
		[]float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1})
	refreshes := reg.Counter("jwtverify_jwks_refresh_total", "Requests to the JWKS endpoint by trigger and outcome.")
	f.remoteCfg.OnRefresh = func(ev keyset.RefreshEvent) { refreshes.Inc("trigger", ev.Trigger, "outcome", ev.Outcome) }
	f.remoteCfg.Logger = logger

	v, err := f.verifier()
	if err != nil {
		return nil, err
	}
	if len(f.issuers) == 0 && f.oidcIssuer == "" && len(f.spiffeBundles) == 0 {
		logger.Warn("no --issuer: tokens of any issuer that the keys verify are accepted")
	}
	if len(f.audiences) == 0 {
		logger.Warn("no --audience: tokens for any audience are accepted")
	}
	if f.binding.dpopMode != "off" && f.binding.dpopPublicURL == "" {
		logger.Warn("no --dpop-public-url: DPoP proofs' htu is judged against the Host the client sends (or a --trusted-proxy's X-Forwarded-Host), so a proof made for another server that accepts the same token can be replayed here once; set --dpop-public-url")
	}
	closeFn := f.closeRemotes
	if remotes := f.remotes; len(remotes) > 0 {
		reg.GaugeFunc("jwtverify_jwks_age_seconds", "Age of the oldest key set in use (since its last 200 or 304).", func() (float64, bool) {
			var oldest time.Duration
			for _, r := range remotes {
				age, ok := r.Age()
				if !ok {
					return 0, false
				}
				oldest = max(oldest, age)
			}
			return oldest.Seconds(), true
		})
	}
	bind, err := f.binding.options(f.backend)
	if err != nil {
		closeFn()
		return nil, err
	}
	closeFn = func() { f.closeRemotes(); bind.close() }
	opts := middleware.Options{
		Realm:            "jwtverify",
		Logger:           logger,
		DPoP:             bind.checker,
		RequireDPoP:      bind.required,
		PublicURL:        bind.publicURL,
		TrustedProxies:   bind.trusted,
		ClientCertHeader: bind.certHeader,
		Observe: func(_ context.Context, o middleware.Outcome) {
			result := o.Class
			if result == "" {
				result = "valid"
			}
			verifications.Inc("result", result, "backend", f.backend)
			if o.Duration > 0 {
				duration.Observe(o.Duration.Seconds(), "backend", f.backend)
			}
		},
	}
	if opts.Policy, err = f.policy(); err != nil {
		closeFn()
		return nil, err
	}
	mw, err := middleware.New(v, opts)
	if err != nil {
		closeFn()
		return nil, err
	}
	errorLog := slog.NewLogLogger(logger.Handler(), slog.LevelError)
	redactedUpstream := redact.URL(f.upstream)
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(up)
			pr.SetXForwarded()
			pr.Out.Header.Del(f.claimsHeader) // never trust the client's copy
			if tok, ok := middleware.FromContext(pr.In.Context()); ok {
				pr.Out.Header.Set(f.claimsHeader, base64.RawURLEncoding.EncodeToString(compactJSON(tok.Claims.Raw)))
			}
			if f.stripAuthorization {
				pr.Out.Header.Del("Authorization")
			}
		},
		Transport: f.transport,
		ErrorLog:  errorLog,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			logger.Error("upstream request failed", "upstream", redactedUpstream, "method", r.Method, "path", r.URL.Path, "err", err)
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	// A verified request runs under a deadline. A WebSocket tunnel's is
	// the instant its token stops verifying (Token.ValidUntil: exp plus
	// the leeway, or any earlier bound the verifier enforces);
	// ReverseProxy closes the tunnel when the request's context ends. (The
	// verifier requires exp; were there no bound, the zero time would
	// close the tunnel at once.) Any other request's deadline
	// is the write timeout, so that an upstream that does not answer is
	// abandoned once the client can no longer be answered.
	forward := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var deadline time.Time
		if _, ws := upgradeOf(r); ws {
			tok, _ := middleware.FromContext(r.Context())
			deadline = tok.ValidUntil()
		} else if f.timeouts.write > 0 {
			deadline = time.Now().Add(f.timeouts.write)
		}
		if !deadline.IsZero() {
			ctx, cancel := context.WithDeadline(r.Context(), deadline)
			defer cancel()
			r = r.WithContext(ctx)
		}
		rp.ServeHTTP(w, r)
	}))
	// The client's claims header is removed before anything else sees it,
	// in every spelling an upstream might read as the same name (CGI-style
	// servers map "_" and "-" alike). A protocol upgrade is refused before
	// the token is looked at, unless it is a WebSocket one and
	// --allow-websocket is set: nothing inside a tunnel is verified.
	// A client certificate header (--client-cert-header, and Envoy's
	// X-Forwarded-Client-Cert) is kept only when a --trusted-proxy set it:
	// from any other peer it is the client's own claim, and an upstream
	// that trusts this proxy must not see it.
	certHeaders := []string{"X-Forwarded-Client-Cert"}
	if bind.certHeader != "" {
		certHeaders = append(certHeaders, bind.certHeader)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		trusted := peer.In(r.RemoteAddr, bind.trusted)
		for name := range r.Header {
			n := strings.ReplaceAll(name, "_", "-")
			if strings.EqualFold(n, f.claimsHeader) {
				r.Header.Del(name)
			}
			for _, c := range certHeaders {
				if !trusted && strings.EqualFold(n, c) {
					r.Header.Del(name)
				}
			}
		}
		if asked, ws := upgradeOf(r); asked && !(ws && f.allowWebSocket) {
			logger.Warn("request refused", "route", r.URL.Path, "method", r.Method, "status", http.StatusBadRequest, "reason", "protocol upgrade")
			w.Header().Set("Connection", "close")
			http.Error(w, "protocol upgrade refused", http.StatusBadRequest)
			return
		}
		forward.ServeHTTP(w, r)
	})
	return &proxy{handler: h, metrics: reg.Handler(), tls: bind.tls, timeouts: f.timeouts, errorLog: errorLog, close: closeFn}, nil
}

// policy returns the access policy of --require-scope and
// --require-spiffe-id (all scopes, and any of the IDs), or nil for none.
func (f *proxyFlags) policy() (access.Policy, error) {
	var all []access.Policy
	if len(f.requireScopes) > 0 {
		all = append(all, access.Scopes(f.requireScopes...))
	}
	if len(f.requireSPIFFEIDs) > 0 {
		for _, p := range f.requireSPIFFEIDs {
			if _, err := spiffeid.ParsePattern(p); err != nil {
				return nil, fmt.Errorf("--require-spiffe-id %q: %v", p, err)
			}
		}
		all = append(all, access.SPIFFEID(f.requireSPIFFEIDs...))
	}
	if len(all) == 0 {
		return nil, nil
	}
	return access.AllOf(all...), nil
}

// upgradeOf reports whether r asks to switch protocols at all (an Upgrade
// header, or the HTTP/2 preface "PRI * HTTP/2.0" of h2c with prior
// knowledge, which net/http's HTTP/1 server hands to handlers), and
// whether the request is exactly a WebSocket handshake: a GET of HTTP/1.1
// with "upgrade" in Connection and one Upgrade value, "websocket" in any
// case. Anything else that asks (h2c, a list such as "websocket, h2c", an
// Upgrade without Connection) is not WebSocket.
func upgradeOf(r *http.Request) (asked, webSocket bool) {
	var upgrades []string
	connUpgrade := false
	for name, values := range r.Header {
		switch {
		case strings.EqualFold(name, "Upgrade"):
			upgrades = append(upgrades, values...)
		case strings.EqualFold(name, "Connection"):
			for _, v := range values {
				for opt := range strings.SplitSeq(v, ",") {
					connUpgrade = connUpgrade || strings.EqualFold(strings.TrimSpace(opt), "upgrade")
				}
			}
		}
	}
	// "upgrade" in Connection alone asks for nothing: ReverseProxy drops
	// it and forwards a plain request (nginx sets it on every request in
	// many WebSocket set-ups), and an upstream that switches anyway gets
	// a 502.
	asked = len(upgrades) > 0 || r.ProtoMajor != 1
	webSocket = connUpgrade && len(upgrades) == 1 && strings.EqualFold(strings.TrimSpace(upgrades[0]), "websocket") &&
		r.Method == http.MethodGet && r.ProtoMajor == 1 && r.ProtoMinor >= 1
	return asked, webSocket
}

// compactJSON returns the verified payload without insignificant space.
func compactJSON(raw string) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, []byte(raw)) != nil {
		return []byte(raw) // cannot happen: the payload passed the strict scan
	}
	return buf.Bytes()
}

// server returns an http.Server for h with the proxy's timeouts, its own
// errors logged through slog.
func (p *proxy) server(h http.Handler) *http.Server {
	idle := p.timeouts.idle
	if idle == 0 {
		idle = -1 // no limit; zero would make http.Server use ReadTimeout
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: p.timeouts.readHeader,
		ReadTimeout:       p.timeouts.read,
		WriteTimeout:      p.timeouts.write,
		IdleTimeout:       idle,
		ErrorLog:          p.errorLog,
	}
}

// serveProxy serves p on ln (and metrics on mln, if not nil) until ctx is
// done, then shuts down, letting requests in flight finish (for the
// shutdown timeout at most; a WebSocket tunnel is not waited for).
func serveProxy(ctx context.Context, p *proxy, ln, mln net.Listener) error {
	srv := p.server(p.handler)
	if p.tls != nil {
		// HTTP/1.1 only: the proxy refuses every other protocol (see
		// upgradeOf), so HTTP/2 is not offered in ALPN.
		srv.TLSConfig = p.tls
		srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
		ln = tls.NewListener(ln, p.tls)
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	var msrv *http.Server
	if mln != nil {
		mux := http.NewServeMux()
		mux.Handle("/metrics", p.metrics)
		msrv = p.server(mux)
		go func() { errc <- msrv.Serve(mln) }()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), p.timeouts.shutdown)
	defer cancel()
	err := srv.Shutdown(sctx)
	if msrv != nil {
		if merr := msrv.Shutdown(sctx); err == nil {
			err = merr
		}
	}
	if err != nil {
		return fmt.Errorf("shutdown: requests still in flight after %v: %w", p.timeouts.shutdown, err)
	}
	return nil
}
