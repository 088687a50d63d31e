package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
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

	"github.com/jwtverify/jwtverify/internal/metrics"
	"github.com/jwtverify/jwtverify/keyset"
	"github.com/jwtverify/jwtverify/middleware"
)

type proxyFlags struct {
	verifyFlags
	listen, upstream, metricsListen, claimsHeader string
	requireScopes                                 list
	stripAuthorization                            bool
}

// proxy is a verifying reverse proxy, ready to serve.
type proxy struct {
	handler http.Handler
	metrics http.Handler
	close   func()
}

// runProxy serves until SIGINT or SIGTERM, then shuts down gracefully.
func runProxy(args []string, stderr io.Writer) int {
	var f proxyFlags
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	fs.StringVar(&f.listen, "listen", "", "address to serve on, e.g. :8080 (required)")
	fs.StringVar(&f.upstream, "upstream", "", "URL of the service behind the proxy (required)")
	fs.Var(&f.requireScopes, "require-scope", "scope every request needs (repeatable: all of them)")
	fs.StringVar(&f.claimsHeader, "claims-header", "X-Jwt-Claims", "header carrying the verified claims upstream (base64url JSON)")
	fs.BoolVar(&f.stripAuthorization, "strip-authorization", false, "do not pass the Authorization header upstream")
	fs.StringVar(&f.metricsListen, "metrics-listen", "", "address for Prometheus metrics at /metrics")
	fs.DurationVar(&f.remoteCfg.MinRefresh, "refresh-min", 0, "remote key set: least refresh interval (default 5m)")
	fs.DurationVar(&f.remoteCfg.MaxRefresh, "refresh-max", 0, "remote key set: greatest refresh interval (default 24h)")
	fs.DurationVar(&f.remoteCfg.UnknownKIDInterval, "unknown-kid-interval", 0, "remote key set: least time between unknown-kid refreshes (default 30s)")
	fs.DurationVar(&f.remoteCfg.MaxStale, "max-stale", 0, "remote key set: oldest set served while refreshes fail (default 24h)")
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
		return usageErr(stderr, err.Error())
	}
	var mln net.Listener
	if f.metricsListen != "" {
		if mln, err = net.Listen("tcp", f.metricsListen); err != nil {
			ln.Close()
			return usageErr(stderr, err.Error())
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger.Info("proxy listening", "addr", ln.Addr().String(), "upstream", f.upstream)
	if err := serveProxy(ctx, p, ln, mln); err != nil {
		fmt.Fprintf(stderr, "jwtverify: proxy: %v\n", err)
		return ExitRejected
	}
	return ExitValid
}

// newProxy builds the verifier, middleware, reverse proxy and metrics.
func newProxy(f *proxyFlags, logger *slog.Logger) (*proxy, error) {
	if f.listen == "" || f.upstream == "" {
		return nil, errors.New("proxy needs --listen and --upstream")
	}
	up, err := url.Parse(f.upstream)
	if err != nil || (up.Scheme != "http" && up.Scheme != "https") || up.Host == "" {
		return nil, fmt.Errorf("--upstream %q is not an http(s) URL", f.upstream)
	}
	if f.claimsHeader == "" || strings.ContainsAny(f.claimsHeader, " :\r\n") {
		return nil, errors.New("--claims-header must be a header name")
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
	if len(f.issuers) == 0 && f.oidcIssuer == "" {
		logger.Warn("no --issuer: tokens of any issuer that the keys verify are accepted")
	}
	if len(f.audiences) == 0 {
		logger.Warn("no --audience: tokens for any audience are accepted")
	}
	closeFn := func() {}
	if r := f.remote; r != nil {
		closeFn = func() { r.Close() }
		reg.GaugeFunc("jwtverify_jwks_age_seconds", "Age of the key set in use (since its last 200 or 304).", func() (float64, bool) {
			age, ok := r.Age()
			return age.Seconds(), ok
		})
	}
	opts := middleware.Options{
		Realm:  "jwtverify",
		Logger: logger,
		Observe: func(o middleware.Outcome) {
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
	if len(f.requireScopes) > 0 {
		opts.Policy = middleware.Scopes(f.requireScopes...)
	}
	mw, err := middleware.New(v, opts)
	if err != nil {
		closeFn()
		return nil, err
	}
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
	}
	// The client's claims header is removed before anything else sees it,
	// in every spelling an upstream might read as the same name (CGI-style
	// servers map "_" and "-" alike).
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for name := range r.Header {
			if strings.EqualFold(strings.ReplaceAll(name, "_", "-"), f.claimsHeader) {
				r.Header.Del(name)
			}
		}
		mw(rp).ServeHTTP(w, r)
	})
	return &proxy{handler: h, metrics: reg.Handler(), close: closeFn}, nil
}

// compactJSON returns the verified payload without insignificant space.
func compactJSON(raw string) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, []byte(raw)) != nil {
		return []byte(raw) // cannot happen: the payload passed the strict scan
	}
	return buf.Bytes()
}

// serveProxy serves p on ln (and metrics on mln, if not nil) until ctx is
// done, then shuts down, letting requests in flight finish (10 s at most).
func serveProxy(ctx context.Context, p *proxy, ln, mln net.Listener) error {
	srv := &http.Server{Handler: p.handler, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	var msrv *http.Server
	if mln != nil {
		mux := http.NewServeMux()
		mux.Handle("/metrics", p.metrics)
		msrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- msrv.Serve(mln) }()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if msrv != nil {
		if merr := msrv.Shutdown(sctx); err == nil {
			err = merr
		}
	}
	return err
}
