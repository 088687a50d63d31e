package cli

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jwtverify/jwtverify/access"
	"github.com/jwtverify/jwtverify/internal/redact"
	"github.com/jwtverify/jwtverify/keyset"
	"github.com/jwtverify/jwtverify/metrics"
	"github.com/jwtverify/jwtverify/middleware"
	"github.com/jwtverify/jwtverify/tracing"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

type proxyFlags struct {
	verifyFlags
	listen, upstream, metricsListen, claimsHeader string
	requireScopes, requireSPIFFEIDs               list
	stripAuthorization, allowWebSocket            bool
	timeouts                                      timeouts
	binding                                       bindingFlags
	forwardAuth                                   bool
	forwardClaims                                 list // CLAIM=HEADER
	configPath                                    string
	// file is the --config file, decoded; nil without one. Flags given
	// beside it override its values (mergeFile).
	file *fileConfig
	// providerFlagsSet: a flag describing the one provider of the flags
	// was given, which a file with providers refuses.
	providerFlagsSet bool
	// tracerProvider records the proxy's spans; nil: none (runProxy sets
	// it from the OTEL_* variables, tests directly).
	tracerProvider trace.TracerProvider
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
	// warmers fetch the key sets in the background; ready reports
	// whether every provider has a usable key set.
	warmers []*warmer
	ready   func() bool
	logger  *slog.Logger
	fetches readiness
	onFetch func() // after each successful fetch of a warmer
}

// waitReady waits until every provider has a usable key set, or ctx ends.
func (p *proxy) waitReady(ctx context.Context) error {
	for {
		ch := p.fetches.changed()
		if p.ready() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// runProxy serves until SIGINT or SIGTERM, then shuts down gracefully.
// Once the logger exists every line it writes is a slog record; a failure
// to listen or to serve exits ExitUsage, never ExitRejected.
func runProxy(args []string, stderr io.Writer) int {
	var f proxyFlags
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	setUsage(fs, "[flags]", `A verifying reverse proxy (--upstream URL), or with --forward-auth an
authorization service for nginx auth_request, Traefik ForwardAuth and Envoy
ext_authz. Providers and rules come from the flags (one provider) or a YAML
--config file; every flag also reads JWTVERIFY_<FLAG> (--metrics-listen:
JWTVERIFY_METRICS_LISTEN), and a flag beside the file overrides it. Metrics,
/healthz and /readyz on --metrics-listen. Exit 0 after SIGTERM or SIGINT
once requests in flight finish; 2: configuration error, or the proxy could
not listen or serve. docs/deployment.md has the recipes.`)
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		return usageErr(stderr, "proxy takes no arguments")
	}
	nowFlag := false
	fs.Visit(func(fl *flag.Flag) { nowFlag = nowFlag || fl.Name == "now" })
	if !nowFlag && os.Getenv(envVar("now")) != "" {
		// A clock frozen by a variable left in an environment would accept
		// expired tokens unseen: the proxy takes --now on its command line
		// only, for tests, and warns.
		return usageErr(stderr, "JWTVERIFY_NOW: the proxy takes --now from its command line only")
	}
	if err := applyEnv(fs, os.Getenv); err != nil {
		return usageErr(stderr, err.Error())
	}
	if err := f.loadFile(fs, os.Getenv); err != nil {
		return usageErr(stderr, err.Error())
	}
	tp, shutdownTracing, err := tracerProvider(context.Background())
	if err != nil {
		return usageErr(stderr, err.Error())
	}
	f.tracerProvider = tp
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	p, err := newProxy(&f, logger)
	if err != nil {
		return usageErr(stderr, err.Error())
	}
	defer p.close()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := shutdownTracing(ctx); err != nil {
			logger.Warn("traces not all exported at exit", "err", err)
		}
	}()
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
	if f.upstream != "" {
		logger.Info("proxy listening", "addr", ln.Addr().String(), "upstream", redact.URL(f.upstream))
	} else {
		logger.Info("forward-auth listening", "addr", ln.Addr().String())
	}
	if err := serveProxy(ctx, p, ln, mln); err != nil {
		logger.Error("proxy server failed", "err", err)
		return ExitUsage
	}
	return ExitValid
}

// register adds the proxy's flags, the verifier's included, to fs.
func (f *proxyFlags) register(fs *flag.FlagSet) {
	f.verifyFlags.register(fs)
	fs.StringVar(&f.configPath, "config", "", "`FILE`: YAML configuration file: providers, rules and the settings below; flags given beside it override it")
	fs.StringVar(&f.listen, "listen", "", "`ADDR`: address to serve on, e.g. :8080 (required)")
	fs.StringVar(&f.upstream, "upstream", "", "`URL` of the service behind the proxy (required, except with --forward-auth)")
	fs.BoolVar(&f.forwardAuth, "forward-auth", false, "answer authorization checks (nginx auth_request, Traefik ForwardAuth, Envoy ext_authz) instead of proxying: 200, 401, 403 or 503")
	fs.Var(&f.forwardClaims, "forward-claim", "`CLAIM=HEADER`: send the verified claim (a dotted path) in HEADER, with the claims header (repeatable); upstream in proxy mode, in the answer with --forward-auth")
	fs.Var(&f.requireScopes, "require-scope", "`SCOPE` every request needs (repeatable: all of them)")
	fs.Var(&f.requireSPIFFEIDs, "require-spiffe-id", "`ID`: SPIFFE ID the token's sub must be: an ID, or ID/* for every ID under it (repeatable: any of them); others get 403")
	fs.StringVar(&f.claimsHeader, "claims-header", "X-Jwt-Claims", "`NAME`: header carrying the verified claims upstream (base64url JSON)")
	fs.BoolVar(&f.stripAuthorization, "strip-authorization", false, "do not pass the Authorization header upstream")
	fs.StringVar(&f.metricsListen, "metrics-listen", "", "`ADDR` for Prometheus metrics at /metrics, and /healthz and /readyz")
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

// newProxy builds the proxy that f describes: its providers (from the
// flags, or the --config file's), one middleware per rule, and the
// handler of its mode. It fetches nothing: serveProxy starts the
// warmers that fetch the key sets in the background.
func newProxy(f *proxyFlags, logger *slog.Logger) (*proxy, error) {
	forwardAuth := f.forwardAuth
	switch {
	case f.listen == "":
		return nil, errors.New("proxy needs --listen")
	case forwardAuth && f.upstream != "":
		return nil, errors.New("--forward-auth has no --upstream: it answers each check itself")
	case !forwardAuth && f.upstream == "":
		return nil, errors.New("proxy needs --upstream (or --forward-auth)")
	}
	var up *url.URL
	if !forwardAuth {
		var err error
		up, err = url.Parse(f.upstream)
		if err != nil || (up.Scheme != "http" && up.Scheme != "https") || up.Host == "" {
			return nil, fmt.Errorf("--upstream %s is not an http(s) URL", redact.URL(f.upstream))
		}
	}
	if !validHeaderName(f.claimsHeader) || reservedHeader(f.claimsHeader) {
		return nil, errors.New("--claims-header must be a header name, not one of HTTP's, the credentials' or the forwarding headers")
	}
	claims, err := parseForwardClaims(f.forwardClaims, append([]string{f.claimsHeader, "X-Forwarded-Client-Cert"}, f.binding.clientCertHeader)...)
	if err != nil {
		return nil, err
	}
	if err := f.timeouts.check(); err != nil {
		return nil, err
	}
	// Metrics: the families of package metrics, with the Go and process
	// collectors, in a registry of the proxy's own. Tracing, when the
	// OTEL_EXPORTER_OTLP_* variables turned it on (runProxy): a span per
	// verification and per key-set fetch, linked.
	m := metrics.New(f.backend)
	reg := prometheus.NewRegistry()
	reg.MustRegister(m, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	tr := tracing.New(f.tracerProvider)
	f.remoteCfg.OnRefresh = m.OnRefresh
	tr.Remote(&f.remoteCfg)
	f.remoteCfg.Logger = logger

	if f.now != "" {
		logger.Warn("--now: every token is judged as of a fixed time, not the clock; for tests only", "now", f.now)
	}
	providers, err := f.providers(logger)
	if err != nil {
		return nil, err
	}
	closeProviders := func() {
		for _, p := range providers {
			p.close()
		}
	}
	var warmers []*warmer
	for _, p := range providers {
		warmers = append(warmers, p.warmers...)
		p.verifier = tr.Verifier(p.verifier)
	}
	f.binding.wrapStore = m.ReplayStore
	if f.binding.dpopMode != "off" && f.binding.dpopPublicURL == "" {
		logger.Warn("no --dpop-public-url: DPoP proofs' htu is judged against the Host the client sends (or a --trusted-proxy's X-Forwarded-Host), so a proof made for another server that accepts the same token can be replayed here once; set --dpop-public-url")
	}
	bind, err := f.binding.options(f.backend)
	if err != nil {
		closeProviders()
		return nil, err
	}
	closeFn := func() { closeProviders(); bind.close() }
	opts := middleware.Options{
		Realm:            "jwtverify",
		Logger:           logger,
		DPoP:             bind.checker,
		RequireDPoP:      bind.required,
		PublicURL:        bind.publicURL,
		TrustedProxies:   bind.trusted,
		ClientCertHeader: bind.certHeader,
		Observe:          m.Observe,
	}
	rules, err := f.rules(providers, opts, logger)
	if err != nil {
		closeFn()
		return nil, err
	}
	errorLog := slog.NewLogLogger(logger.Handler(), slog.LevelError)
	p := &proxy{metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: errorLog}), tls: bind.tls, timeouts: f.timeouts, errorLog: errorLog, close: closeFn, warmers: warmers, logger: logger}
	// The age gauge reads the key sets once they all exist (a discovered
	// issuer's appears with its document).
	watchKeySets := func() {
		var remotes []*keyset.Remote
		for _, w := range warmers {
			r := w.remote()
			if r == nil {
				return
			}
			remotes = append(remotes, r)
		}
		m.KeySets(remotes...)
	}
	watchKeySets()
	p.onFetch = watchKeySets
	p.ready = func() bool {
		for _, pr := range providers {
			if !pr.ready() {
				return false
			}
		}
		return true
	}
	headers := strippedHeaders{claims: f.claimsHeader, forwarded: claims, certHeaders: []string{"X-Forwarded-Client-Cert"}, trusted: bind.trusted}
	if bind.certHeader != "" {
		headers.certHeaders = append(headers.certHeaders, bind.certHeader)
	}
	if forwardAuth {
		p.handler = forwardAuthHandler(rules, headers, f.claimsHeader, claims, logger)
	} else {
		p.handler = f.reverseProxy(up, rules, headers, claims, logger, errorLog)
	}
	if f.tracerProvider != nil {
		// A caller's W3C trace context makes the verification span its
		// child (nothing else of the request is traced).
		h, prop := p.handler, propagation.TraceContext{}
		p.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r.WithContext(prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))))
		})
	}
	return p, nil
}

// providers builds the proxy's providers: the file's, or the one the
// flags describe (named "default").
func (f *proxyFlags) providers(logger *slog.Logger) (_ []*provider, err error) {
	var out []*provider
	defer func() {
		if err != nil {
			for _, p := range out {
				p.close()
			}
		}
	}()
	if f.file == nil || len(f.file.Providers) == 0 {
		if len(f.issuers) == 0 && f.oidcIssuer == "" && len(f.spiffeBundles) == 0 {
			logger.Warn("no --issuer: tokens of any issuer that the keys verify are accepted")
		}
		if len(f.audiences) == 0 {
			logger.Warn("no --audience: tokens for any audience are accepted")
		}
		p, err := buildProvider("default", &f.verifyFlags)
		if err != nil {
			return nil, err
		}
		return append(out, p), nil
	}
	if f.providerFlagsSet {
		return nil, errProviderFlags
	}
	remotes := 0
	for _, pc := range f.file.Providers {
		if pc.remote() {
			remotes++
		}
	}
	if f.bearerFile != "" && remotes > 1 {
		return nil, errors.New("--fetch-bearer-file would send its token to every provider's key endpoint: give fetch_bearer_file to the provider that needs it")
	}
	for _, name := range slices.Sorted(maps.Keys(f.file.Providers)) {
		pc := f.file.Providers[name]
		vf := verifyFlags{
			remoteCfg: f.remoteCfg, backend: f.backend, now: f.now,
			audiences: pc.Audiences, algs: pc.Algorithms, types: pc.Types, leeway: pc.Leeway,
		}
		if pc.remote() {
			vf.caFile, vf.bearerFile = cmp.Or(pc.CAFile, f.caFile), cmp.Or(pc.FetchBearerFile, f.bearerFile)
		}
		if pc.SPIFFE != nil {
			vf.spiffeBundles = list{pc.SPIFFE.TrustDomain + "=" + pc.SPIFFE.Bundle}
		} else {
			vf.issuers = list{pc.Issuer}
			vf.jwks, vf.key, vf.secretFile = pc.JWKS, pc.Keys, pc.SecretFile
			if pc.Discovery {
				vf.oidcIssuer = pc.Issuer
			}
		}
		p, err := buildProvider(name, &vf)
		if err != nil {
			return nil, fmt.Errorf("--config: line %d: provider %s: %w", f.file.providerLines[name], name, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// proxyRule is one rule, built: what it matches, and the middleware that
// verifies and judges the requests it matches (nil: anonymous).
type proxyRule struct {
	prefix  string
	methods []string
	mw      *middleware.Middleware
}

// matches reports whether the rule applies to a request with method and
// path (a canonical path and method: see canonicalPath). A rule that
// verifies matches its prefix in any ASCII letter case, because many
// servers route without regard to case (/ADMIN reaches /admin's handler);
// an anonymous rule matches only exactly, so a case variant of its path
// falls to a later rule and needs a token. methodIn says which methods a
// rule's list admits.
func (r *proxyRule) matches(method, path string) bool {
	prefix := r.prefix
	if r.mw != nil {
		prefix, path = asciiLower(prefix), asciiLower(path)
	}
	return prefixMatches(prefix, path) && methodIn(r.methods, method)
}

// asciiLower is s with ASCII letters in lower case, and nothing else
// changed (canonicalPath has refused the runes whose case reaches ASCII).
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// methodIn reports whether methods (none: every method) admit method:
// HEAD is admitted by GET, which servers answer it with, and POST by PUT,
// PATCH and DELETE, which frameworks run for a POST with a _method
// parameter (Rails, Laravel, Symfony, Spring's HiddenHttpMethodFilter).
func methodIn(methods []string, method string) bool {
	switch {
	case len(methods) == 0 || slices.Contains(methods, method):
		return true
	case method == http.MethodHead:
		return slices.Contains(methods, http.MethodGet)
	case method == http.MethodPost:
		return slices.ContainsFunc(methods, func(m string) bool {
			return m == http.MethodPut || m == http.MethodPatch || m == http.MethodDelete
		})
	}
	return false
}

// rules builds the rules: the file's, or with the flags one rule for
// every request, with the policy of --require-scope and
// --require-spiffe-id.
func (f *proxyFlags) rules(providers []*provider, opts middleware.Options, logger *slog.Logger) ([]proxyRule, error) {
	byName := map[string]*provider{}
	for _, p := range providers {
		byName[p.name] = p
	}
	if f.file == nil || len(f.file.Rules) == 0 {
		pol, err := f.policy()
		if err != nil {
			return nil, err
		}
		opts.Policy = pol
		mw, err := middleware.New(providers[0].verifier, opts)
		if err != nil {
			return nil, err
		}
		return []proxyRule{{prefix: "/", mw: mw}}, nil
	}
	if len(f.requireScopes) > 0 || len(f.requireSPIFFEIDs) > 0 {
		return nil, errors.New("--config with rules: --require-scope and --require-spiffe-id go in the file's rules instead")
	}
	var out []proxyRule
	for i, rc := range f.file.Rules {
		r := proxyRule{prefix: rc.Match.Prefix, methods: rc.Match.Methods}
		if !rc.AllowAnonymous {
			names := rc.Providers
			if len(rc.RequireSPIFFEIDs) > 0 {
				// A SPIFFE ID is a workload's only when a trust domain's
				// bundle verified it: an issuer's token whose sub happens
				// to be a spiffe:// URI must not satisfy the rule.
				names = slices.DeleteFunc(slices.Clone(names), func(n string) bool { return byName[n].trustDomain == "" })
				if len(names) < len(rc.Providers) {
					logger.Warn("rule with require_spiffe_ids: its issuer providers never satisfy it", "line", f.file.ruleLines[i])
				}
			}
			var v middleware.Verifier
			if len(names) == 1 {
				v = byName[names[0]].verifier
			} else {
				rt := &route{byIssuer: map[string]middleware.Verifier{}, byTD: map[string]middleware.Verifier{}}
				for _, name := range names {
					p := byName[name]
					if p.trustDomain != "" {
						rt.byTD[p.trustDomain] = p.verifier
					} else {
						rt.byIssuer[p.issuer] = p.verifier
					}
				}
				v = rt
			}
			o := opts
			o.Policy = rulePolicy(&rc)
			mw, err := middleware.New(v, o)
			if err != nil {
				return nil, fmt.Errorf("--config: line %d: rule %d: %w", f.file.ruleLines[i], i+1, err)
			}
			r.mw = mw
		}
		out = append(out, r)
	}
	return out, nil
}

// rulePolicy is the access policy of a rule's require_ members (all of
// them; any of the SPIFFE IDs), or nil for none.
func rulePolicy(rc *ruleConfig) access.Policy {
	var all []access.Policy
	if len(rc.RequireScopes) > 0 {
		all = append(all, access.Scopes(rc.RequireScopes...))
	}
	for _, path := range slices.Sorted(maps.Keys(rc.RequireClaims)) {
		values, _ := claimValues(rc.RequireClaims[path]) // validated
		all = append(all, access.Claim(path, values...))
	}
	if len(rc.RequireSPIFFEIDs) > 0 {
		all = append(all, access.SPIFFEID(rc.RequireSPIFFEIDs...))
	}
	if len(all) == 0 {
		return nil
	}
	return access.AllOf(all...)
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

// serveProxy serves p on ln (and metrics, /healthz and /readyz on mln,
// if not nil) until ctx is done, fetching the key sets in the background
// (p.warmers) from the start. When ctx ends (SIGTERM), /readyz turns 503
// at once, requests in flight finish (for the shutdown timeout at most; a
// WebSocket tunnel is not waited for), the metrics listener closes last,
// and one line is logged.
func serveProxy(ctx context.Context, p *proxy, ln, mln net.Listener) error {
	srv := p.server(p.handler)
	if p.tls != nil {
		// HTTP/1.1 only: the proxy refuses every other protocol (see
		// upgradeOf), so HTTP/2 is not offered in ALPN.
		srv.TLSConfig = p.tls
		srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
		ln = tls.NewListener(ln, p.tls)
	}
	warmCtx, stopWarming := context.WithCancel(context.Background())
	var warming sync.WaitGroup
	for _, w := range p.warmers {
		warming.Go(func() {
			w.run(warmCtx, p.logger, func() {
				if p.onFetch != nil {
					p.onFetch()
				}
				p.fetches.fetched()
			})
		})
	}
	defer func() { stopWarming(); warming.Wait() }()
	var draining atomic.Bool
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	var msrv *http.Server
	if mln != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", p.metrics)
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-store")
			io.WriteString(w, "ok\n")
		})
		mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-store")
			switch {
			case draining.Load():
				w.WriteHeader(http.StatusServiceUnavailable)
				io.WriteString(w, "shutting down\n")
			case p.ready != nil && !p.ready():
				w.WriteHeader(http.StatusServiceUnavailable)
				io.WriteString(w, "waiting for keys\n")
			default:
				io.WriteString(w, "ready\n")
			}
		})
		msrv = p.server(mux)
		go func() { errc <- msrv.Serve(mln) }()
	}
	select {
	case err := <-errc:
		// One server failed: the other must not go on serving alone.
		srv.Close()
		if msrv != nil {
			msrv.Close()
		}
		return err
	case <-ctx.Done():
	}
	draining.Store(true)
	start := time.Now()
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
	if p.logger != nil {
		p.logger.Info("proxy stopped: requests in flight finished", "drain", time.Since(start).Round(time.Millisecond))
	}
	return nil
}
