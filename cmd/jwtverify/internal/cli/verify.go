package cli

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/jsonx"
	"github.com/jwtverify/jwtverify/internal/redact"
	"github.com/jwtverify/jwtverify/internal/spiffeid"
	"github.com/jwtverify/jwtverify/internal/tenantiss"
	"github.com/jwtverify/jwtverify/jwtsvid"
	"github.com/jwtverify/jwtverify/keyset"
	"github.com/jwtverify/jwtverify/middleware"
)

// Limits of the command's inputs.
const (
	maxStdinBytes = 4 << 20 // larger input is cut and then fails as too_large
	maxKeyBytes   = 1 << 20 // key files
	fetchTimeout  = 10 * time.Second
)

// list is a repeatable string flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

type verifyFlags struct {
	jwks, key, secretFile string
	oidcIssuer            string
	remoteCfg             keyset.RemoteConfig // for --jwks URL, --oidc-issuer and bundle endpoints
	remotes               []*keyset.Remote    // the remote key sets in use, set by verifier
	// lazy: key sets are not fetched when built (the proxy fetches them in
	// the background, see warmer); discovered holds the --oidc-issuer
	// sources built so.
	lazy               bool
	discovered         []*discovered
	spiffeBundles      list // TD=SOURCE
	issuers, audiences list
	algs               list
	types              list
	caFile, bearerFile string // for --jwks URL and --oidc-issuer
	leeway             time.Duration
	now                string
	backend            string
}

// register adds the key and policy flags that verify and proxy share.
func (f *verifyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.jwks, "jwks", "", "`SOURCE`: JWKS: an http(s) URL or a local file")
	fs.StringVar(&f.key, "key", "", "`FILE`: a PEM public key (SPKI or PKCS#1) or certificate, a single JWK, or a JWKS file")
	fs.StringVar(&f.secretFile, "secret-file", "", "`FILE`: HMAC secret: the file's raw bytes")
	fs.StringVar(&f.oidcIssuer, "oidc-issuer", "", "`URL`: OpenID issuer: keys from its discovery document; it becomes the required iss unless --issuer is given")
	fs.Var(&f.spiffeBundles, "spiffe-bundle", "`TD=SOURCE`: verify JWT-SVIDs of trust domain TD (e.g. example.org) with the SPIFFE bundle SOURCE, a file or a bundle endpoint's https URL (repeatable: one per trust domain); used instead of the other key flags, with --audience and without --issuer")
	fs.StringVar(&f.caFile, "ca-file", "", "`FILE`: PEM CA bundle TLS trusts, instead of the system roots, for --jwks URL, --oidc-issuer and --spiffe-bundle URL fetches")
	fs.StringVar(&f.bearerFile, "fetch-bearer-file", "", "`FILE` whose content (trimmed) --jwks URL, --oidc-issuer and --spiffe-bundle URL fetches send as \"Authorization: Bearer\", read on each fetch")
	fs.Var(&f.issuers, "issuer", "`ISS`: required iss (repeatable: any of them); none: iss not checked")
	fs.Var(&f.audiences, "audience", "`AUD`: required aud (repeatable: any of them); none: aud not checked")
	fs.Var(&f.algs, "alg", "`ALG`: allowed algorithm (repeatable); default: derived from the keys")
	fs.Var(&f.types, "type", "`TYP`: required typ header, e.g. at+jwt (repeatable: any of them; case-insensitive, \"application/\" optional); none: typ not checked")
	fs.DurationVar(&f.leeway, "leeway", 0, "clock skew for exp/nbf/iat (Go duration, at most 5m)")
	fs.StringVar(&f.now, "now", "", "validate as of `TIME` (RFC 3339 or Unix seconds); default: the clock")
	fs.StringVar(&f.backend, "backend", "golang-jwt", "`NAME`: golang-jwt | jwx | native")
}

func runVerify(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var f verifyFlags
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	verbose := fs.Bool("verbose", false, "on stderr, the header and each check that passed; for a rejected token, its header, unverified")
	setUsage(fs, "[flags] [TOKEN]", `Verifies TOKEN, from the argument, or stdin when absent or "-" (a leading
"Bearer " is stripped); flags may come before or after it. Exit 0: valid, the
claims on stdout as one JSON line; 1: rejected, one line
"jwtverify: rejected: CLASS: detail" on stderr; 2: usage or configuration
error. A token accepted without an issuer check (no --issuer, --oidc-issuer
or --spiffe-bundle) or an audience check (no --audience) comes with a
warning on stderr for each.`)
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(positional) > 1 {
		return usageErr(stderr, "more than one TOKEN argument")
	}
	if err := applyEnv(fs, os.Getenv); err != nil {
		return usageErr(stderr, err.Error())
	}

	v, err := f.verifier()
	if err != nil {
		return usageErr(stderr, err.Error())
	}
	defer f.closeRemotes()
	token, err := readToken(positional, stdin)
	if err != nil {
		return usageErr(stderr, err.Error())
	}
	at, err := asOf(f.now) // what --verbose tells distances from
	if err != nil {
		return usageErr(stderr, err.Error())
	}

	tok, err := v.Verify(context.Background(), token)
	if err != nil {
		if *verbose {
			printUnverifiedHeader(stderr, token)
		}
		fmt.Fprintf(stderr, "jwtverify: rejected: %v\n", err)
		return ExitRejected
	}
	var out bytes.Buffer
	if err := json.Compact(&out, []byte(tok.Claims.Raw)); err != nil {
		fmt.Fprintf(stderr, "jwtverify: rejected: %v: claims cannot be printed\n", jwtverify.ErrMalformed)
		return ExitRejected
	}
	out.WriteByte('\n')
	stdout.Write(out.Bytes())
	if *verbose {
		f.printChecks(stderr, tok, at)
	}
	f.warnUnchecked(stderr)
	return ExitValid
}

func usageErr(stderr io.Writer, msg string) int {
	fmt.Fprintf(stderr, "jwtverify: %s\n", msg)
	return ExitUsage
}

// verifier builds the verifier the flags describe: a JWT-SVID verifier
// with --spiffe-bundle, a jwtverify.Verifier otherwise. On error it
// leaves no remote key set open.
func (f *verifyFlags) verifier() (_ middleware.Verifier, err error) {
	defer func() {
		if err != nil {
			f.closeRemotes()
		}
	}()
	b, err := newBackend(f.backend)
	if err != nil {
		return nil, err
	}
	var now func() time.Time
	if f.now != "" {
		t, err := parseTime(f.now)
		if err != nil {
			return nil, err
		}
		now = func() time.Time { return t }
	}
	if len(f.spiffeBundles) > 0 {
		return f.svidVerifier(b, now)
	}
	keys, err := f.keySource()
	if err != nil {
		return nil, err
	}
	issuers := f.requiredIssuers()
	if len(f.issuers) == 0 && f.oidcIssuer != "" {
		// Lazily (the proxy), discovered.discover refuses a template
		// issuer when the document arrives.
		if r := f.firstRemote(); r != nil && tenantiss.IsTemplate(r.Issuer()) {
			return nil, fmt.Errorf("--oidc-issuer %s names the multi-tenant issuer template %q: give --issuer with the issuer of each tenant to accept",
				redact.URL(f.oidcIssuer), r.Issuer())
		}
	}
	return jwtverify.New(b, jwtverify.Config{
		Keys:              keys,
		Algorithms:        f.algs,
		Issuers:           issuers,
		SkipIssuerCheck:   len(issuers) == 0,
		Audiences:         f.audiences,
		SkipAudienceCheck: len(f.audiences) == 0,
		Types:             f.types,
		Leeway:            f.leeway,
		Now:               now,
	})
}

// svidVerifier builds the JWT-SVID verifier of the --spiffe-bundle flags:
// one bundle per trust domain, from a file (keyset.ParseSPIFFEBundle) or
// a bundle endpoint (keyset.NewSPIFFERemote, fetched once now). The flags
// that do not apply to JWT-SVIDs are refused rather than ignored.
func (f *verifyFlags) svidVerifier(b jwtverify.Backend, now func() time.Time) (middleware.Verifier, error) {
	switch {
	case f.jwks != "" || f.key != "" || f.secretFile != "" || f.oidcIssuer != "":
		return nil, errors.New("--spiffe-bundle is used instead of --jwks, --key, --secret-file and --oidc-issuer")
	case len(f.issuers) > 0:
		return nil, errors.New("--issuer does not apply to --spiffe-bundle: a JWT-SVID's sub names its trust domain, and it needs no iss")
	case len(f.algs) > 0 || len(f.types) > 0:
		return nil, errors.New("--alg and --type do not apply to --spiffe-bundle: JWT-SVIDs allow RS, ES and PS algorithms and typ JWT or JOSE")
	case len(f.audiences) == 0:
		return nil, errors.New("--spiffe-bundle needs --audience: a JWT-SVID's aud is required")
	}
	bundles := make(map[string]jwtverify.KeySource, len(f.spiffeBundles))
	if urls := strings.Count(strings.Join(f.spiffeBundles, "\n"), "://"); urls > 1 && f.bearerFile != "" {
		return nil, errors.New("--fetch-bearer-file would send its token to every --spiffe-bundle URL, federated ones included: give it with one bundle URL only")
	}
	for _, arg := range f.spiffeBundles {
		td, source, ok := strings.Cut(arg, "=")
		if id, err := spiffeid.Parse("spiffe://" + td); !ok || source == "" || err != nil || id.Path != "" {
			// A TD part that could be a URL (TD= left off, the "=" of a
			// query) is shown redacted, as the whole argument.
			shown := strconv.Quote(td)
			if strings.ContainsAny(td, ":/@?#%") {
				shown = redact.URL(arg)
			}
			return nil, fmt.Errorf("--spiffe-bundle: %s is not TD=SOURCE with TD a trust domain name (lower-case a-z 0-9 . - _)", shown)
		}
		if _, dup := bundles[td]; dup {
			return nil, fmt.Errorf("--spiffe-bundle: trust domain %s is given twice", td)
		}
		if strings.Contains(source, "://") {
			r, err := f.fetchRemote(source, keyset.NewSPIFFERemote)
			if err != nil {
				return nil, fmt.Errorf("--spiffe-bundle %s: %w", td, err)
			}
			bundles[td] = r
			continue
		}
		data, err := readFile(source)
		if err != nil {
			return nil, fmt.Errorf("--spiffe-bundle %s: %w", td, err)
		}
		keys, _, err := keyset.ParseSPIFFEBundle(data)
		if err != nil {
			return nil, fmt.Errorf("--spiffe-bundle %s: %w", td, err)
		}
		if bundles[td], err = keyset.NewStatic(keys...); err != nil {
			return nil, fmt.Errorf("--spiffe-bundle %s: %w", td, err)
		}
	}
	if len(f.remotes) == 0 && (f.caFile != "" || f.bearerFile != "") {
		return nil, errors.New("--ca-file and --fetch-bearer-file apply to --spiffe-bundle URLs only")
	}
	return jwtsvid.New(b, jwtsvid.Config{Bundles: bundles, Audiences: f.audiences, Leeway: f.leeway, Now: now})
}

// fetchRemote returns the Remote that newRemote makes for rawURL with the
// flags' remote configuration (--ca-file, --fetch-bearer-file), fetched
// once now so that an unreachable endpoint is a configuration error. The
// Remote is added to f.remotes. No error shows the URL's userinfo or
// query, nor the bearer token.
func (f *verifyFlags) fetchRemote(rawURL string, newRemote func(string, keyset.RemoteConfig) (*keyset.Remote, error)) (*keyset.Remote, error) {
	if err := f.remoteTLS(); err != nil {
		return nil, err
	}
	r, err := newRemote(rawURL, f.remoteCfg)
	if err != nil {
		return nil, err
	}
	if !f.lazy {
		ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
		defer cancel()
		if err := r.Refresh(ctx); err != nil {
			r.Close()
			return nil, fmt.Errorf("fetching %s: %v", r.URL(), err) // URL and err are redacted
		}
	}
	f.remotes = append(f.remotes, r)
	return r, nil
}

// remoteTLS applies --ca-file and --fetch-bearer-file to f.remoteCfg, once.
func (f *verifyFlags) remoteTLS() error {
	if f.caFile != "" && f.remoteCfg.RootCAs == nil {
		roots, err := readCertPool("--ca-file", f.caFile)
		if err != nil {
			return err
		}
		f.remoteCfg.RootCAs = roots
	}
	f.remoteCfg.BearerTokenFile = f.bearerFile // read by every fetch, never shown
	return nil
}

// firstRemote is the first remote key set built, nil when there is none
// (or, lazily, none yet).
func (f *verifyFlags) firstRemote() *keyset.Remote {
	if len(f.remotes) == 0 {
		return nil
	}
	return f.remotes[0]
}

// closeRemotes closes the remote key sets in use.
func (f *verifyFlags) closeRemotes() {
	for _, r := range f.remotes {
		r.Close()
	}
	for _, d := range f.discovered {
		d.close()
	}
	f.remotes, f.discovered = nil, nil
}

// keySource returns the keys the flags name: a remote key set (--jwks URL
// or --oidc-issuer), fetched once now, or a static set of the files'
// keys. --ca-file and --fetch-bearer-file configure the remote fetches
// and are refused without them. A --jwks value with "://" is a URL,
// whatever its scheme (keyset refuses all but http and https), so that
// its userinfo and query are never shown, not even in a file-not-found
// message.
func (f *verifyFlags) keySource() (jwtverify.KeySource, error) {
	remoteJWKS := strings.Contains(f.jwks, "://")
	if remoteJWKS || f.oidcIssuer != "" {
		if (remoteJWKS && f.oidcIssuer != "") || f.key != "" || f.secretFile != "" {
			return nil, errors.New("--jwks URL and --oidc-issuer are used alone, without other key flags")
		}
		if f.oidcIssuer == "" {
			return f.fetchRemote(f.jwks, keyset.NewRemote)
		}
		if f.lazy {
			if err := f.remoteTLS(); err != nil {
				return nil, err
			}
			d := &discovered{issuer: f.oidcIssuer, explicitIss: len(f.issuers) > 0, cfg: f.remoteCfg}
			f.discovered = append(f.discovered, d)
			return d, nil
		}
		r, err := f.fetchRemote(f.oidcIssuer, func(issuer string, cfg keyset.RemoteConfig) (*keyset.Remote, error) {
			ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
			defer cancel()
			r, err := keyset.Discover(ctx, issuer, cfg)
			if err != nil {
				return nil, fmt.Errorf("--oidc-issuer %s: %w", redact.URL(issuer), err)
			}
			return r, nil
		})
		return r, err
	}
	if f.caFile != "" || f.bearerFile != "" {
		return nil, errors.New("--ca-file and --fetch-bearer-file apply to --jwks URL, --oidc-issuer and --spiffe-bundle URL fetches only")
	}
	keys, err := f.loadKeys()
	if err != nil {
		return nil, err
	}
	return keyset.NewStatic(keys...)
}

func parseTime(s string) (time.Time, error) {
	if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(sec, 0).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--now %q is neither RFC 3339 nor Unix seconds", s)
}

func (f *verifyFlags) loadKeys() ([]jwtverify.Key, error) {
	if f.jwks == "" && f.key == "" && f.secretFile == "" {
		return nil, errors.New("no keys: give --jwks, --oidc-issuer, --key, --secret-file or --spiffe-bundle")
	}
	var keys []jwtverify.Key
	if f.jwks != "" {
		data, err := readFile(f.jwks)
		if err != nil {
			return nil, err
		}
		ks, _, err := keyset.ParseJWKS(data)
		if err != nil {
			return nil, fmt.Errorf("--jwks: %w", err)
		}
		keys = append(keys, ks...)
	}
	if f.key != "" {
		data, err := readFile(f.key)
		if err != nil {
			return nil, err
		}
		ks, err := loadKey(data)
		if err != nil {
			return nil, fmt.Errorf("--key: %w", err)
		}
		keys = append(keys, ks...)
	}
	if f.secretFile != "" {
		data, err := readFile(f.secretFile)
		if err != nil {
			return nil, err
		}
		k, err := jwtverify.NewSecretKey("", "", data)
		if err != nil {
			return nil, fmt.Errorf("--secret-file: %w", err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// loadKey parses a --key file in any of the forms it accepts, told apart by
// their first bytes: PEM (keyset.ParsePEM), a single JWK (keyset.ParseJWK)
// or a JWKS (keyset.ParseJWKS: a JSON object with a "keys" member; its
// refused members are skipped). Errors wrap keyset.ErrInvalidKey or
// keyset.ErrUnsupportedKey and never contain key material.
func loadKey(data []byte) ([]jwtverify.Key, error) {
	trimmed := bytes.TrimSpace(data)
	switch {
	case bytes.HasPrefix(trimmed, []byte("-----BEGIN")):
		k, err := keyset.ParsePEM(trimmed)
		if err != nil {
			return nil, err
		}
		return []jwtverify.Key{k}, nil
	case bytes.HasPrefix(trimmed, []byte("{")):
		isSet := false
		_ = jsonx.Object(trimmed, func(name, _ []byte) error {
			isSet = isSet || string(name) == "keys"
			return nil
		})
		if isSet {
			keys, _, err := keyset.ParseJWKS(trimmed)
			return keys, err
		}
		k, err := keyset.ParseJWK(trimmed)
		if err != nil {
			return nil, err
		}
		return []jwtverify.Key{k}, nil
	}
	return nil, fmt.Errorf("%w: not PEM, JWK or JWKS", keyset.ErrInvalidKey)
}

// readCertPool reads the PEM certificates of the file a flag names into a
// pool; a file without one is an error naming the flag and the file.
func readCertPool(flag, name string) (*x509.CertPool, error) {
	data, err := readFile(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s %s holds no PEM certificate", flag, name)
	}
	return pool, nil
}

func readFile(name string) ([]byte, error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxKeyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > maxKeyBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, maxKeyBytes)
	}
	return data, nil
}

// requiredIssuers returns the iss values the verifier requires: those of
// --issuer, or else the --oidc-issuer URL. None means iss is not checked
// (with --spiffe-bundle, the SPIFFE ID's trust domain is checked instead).
func (f *verifyFlags) requiredIssuers() []string {
	if len(f.issuers) == 0 && f.oidcIssuer != "" {
		return []string{f.oidcIssuer}
	}
	return f.issuers
}

// warnUnchecked writes to w a warning, one line each, for the issuer and
// the audience checks that the flags leave off, in the words the proxy
// logs them with. verify gives them with an accepted token, whose
// acceptance they qualify; a rejection stays its one line.
func (f *verifyFlags) warnUnchecked(w io.Writer) {
	if len(f.requiredIssuers()) == 0 && len(f.spiffeBundles) == 0 {
		fmt.Fprintln(w, "jwtverify: warning: no --issuer, --oidc-issuer or --spiffe-bundle: tokens of any issuer that the keys verify are accepted")
	}
	if len(f.audiences) == 0 {
		fmt.Fprintln(w, "jwtverify: warning: no --audience: tokens for any audience are accepted")
	}
}

// printChecks writes verify --verbose's report of the accepted token tok
// to w: its header, then an "ok:" line for each check that applied, in
// the order Verify makes them: typ, signature, iss (or, for a JWT-SVID,
// the SPIFFE ID's trust domain), aud, then exp, nbf and iat, each date as
// seen from now. A check the flags leave off, or a date the token does
// not have, gets no line. It shows header members and claims, never the
// token or its signature, through escapeUnprintable.
func (f *verifyFlags) printChecks(w io.Writer, tok *jwtverify.Token, now time.Time) {
	h, c := tok.Header, tok.Claims
	fmt.Fprintf(w, "header: %s\n", headerText(h.Algorithm, h.KeyID, h.Type))
	if len(f.types) > 0 || (len(f.spiffeBundles) > 0 && h.Type != "") {
		fmt.Fprintf(w, "ok: typ %s\n", escapeUnprintable(h.Type))
	}
	if h.KeyID != "" {
		fmt.Fprintf(w, "ok: signature (%s, kid %s)\n", h.Algorithm, escapeUnprintable(h.KeyID))
	} else {
		fmt.Fprintf(w, "ok: signature (%s)\n", h.Algorithm)
	}
	if id, err := spiffeid.Parse(c.Subject); len(f.spiffeBundles) > 0 && err == nil {
		fmt.Fprintf(w, "ok: sub %s (trust domain %s)\n", escapeUnprintable(c.Subject), escapeUnprintable(id.TrustDomain))
	} else if len(f.requiredIssuers()) > 0 {
		fmt.Fprintf(w, "ok: iss %s\n", escapeUnprintable(c.Issuer))
	}
	if i := slices.IndexFunc(c.Audience, func(a string) bool { return slices.Contains(f.audiences, a) }); i >= 0 {
		fmt.Fprintf(w, "ok: aud %s\n", escapeUnprintable(c.Audience[i]))
	}
	leeway := ""
	if f.leeway > 0 {
		leeway = "; leeway " + f.leeway.String()
	}
	for _, d := range [...]struct {
		name string
		t    time.Time
	}{{"exp", c.ExpiresAt}, {"nbf", c.NotBefore}, {"iat", c.IssuedAt}} {
		if !d.t.IsZero() {
			fmt.Fprintf(w, "ok: %s %s (%s%s)\n", d.name, dateText(d.t), relative(d.t, now), leeway)
		}
	}
}

// printUnverifiedHeader writes to w, for verify --verbose, the alg, kid
// and typ of a token that was rejected, marked unverified: read with
// decodeUnverified, trusting nothing. It writes nothing when the token
// cannot be decoded, which its rejection tells.
func printUnverifiedHeader(w io.Writer, token string) {
	p, err := decodeUnverified(token)
	if err != nil {
		return
	}
	var alg, kid, typ string
	_ = jsonx.Object(p.Header, func(name, value []byte) error { // valid: decodeUnverified checked it
		switch string(name) {
		case "alg":
			alg, _ = jsonx.String(value)
		case "kid":
			kid, _ = jsonx.String(value)
		case "typ":
			typ, _ = jsonx.String(value)
		}
		return nil
	})
	fmt.Fprintf(w, "header (unverified): %s\n", headerText(alg, kid, typ))
}

// headerText is the header line of verify --verbose: "alg RS256, kid k1,
// typ JWT", each member left out when empty, through escapeUnprintable.
func headerText(alg, kid, typ string) string {
	var parts []string
	for _, m := range [...]struct{ name, value string }{{"alg", alg}, {"kid", kid}, {"typ", typ}} {
		if m.value != "" {
			parts = append(parts, m.name+" "+escapeUnprintable(m.value))
		}
	}
	if len(parts) == 0 {
		return "no alg, kid or typ"
	}
	return strings.Join(parts, ", ")
}
