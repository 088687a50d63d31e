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
	"strconv"
	"strings"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/jsonx"
	"github.com/jwtverify/jwtverify/internal/redact"
	"github.com/jwtverify/jwtverify/keyset"
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
	remoteCfg             keyset.RemoteConfig // for --jwks URL and --oidc-issuer
	remote                *keyset.Remote      // set by keySource when remote
	issuers, audiences    list
	algs                  list
	types                 list
	caFile, bearerFile    string // for --jwks URL and --oidc-issuer
	leeway                time.Duration
	now                   string
	backend               string
}

// register adds the key and policy flags that verify and proxy share.
func (f *verifyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.jwks, "jwks", "", "JWKS: an http(s) URL or a local file")
	fs.StringVar(&f.key, "key", "", "a PEM public key (SPKI or PKCS#1) or certificate, a single JWK, or a JWKS file")
	fs.StringVar(&f.secretFile, "secret-file", "", "HMAC secret: the file's raw bytes")
	fs.StringVar(&f.oidcIssuer, "oidc-issuer", "", "OpenID issuer URL: keys from its discovery document; it becomes the required iss unless --issuer is given")
	fs.StringVar(&f.caFile, "ca-file", "", "PEM CA bundle TLS trusts, instead of the system roots, for --jwks URL and --oidc-issuer fetches")
	fs.StringVar(&f.bearerFile, "fetch-bearer-file", "", "file whose content (trimmed) --jwks URL and --oidc-issuer fetches send as \"Authorization: Bearer\", read on each fetch")
	fs.Var(&f.issuers, "issuer", "required iss (repeatable: any of them); none: iss not checked")
	fs.Var(&f.audiences, "audience", "required aud (repeatable: any of them); none: aud not checked")
	fs.Var(&f.algs, "alg", "allowed algorithm (repeatable); default: derived from the keys")
	fs.Var(&f.types, "type", "required typ header, e.g. at+jwt (repeatable: any of them; case-insensitive, \"application/\" optional); none: typ not checked")
	fs.DurationVar(&f.leeway, "leeway", 0, "clock skew for exp/nbf/iat (Go duration, at most 5m)")
	fs.StringVar(&f.now, "now", "", "validate as of TIME (RFC 3339 or Unix seconds); default: the clock")
	fs.StringVar(&f.backend, "backend", "golang-jwt", "golang-jwt | jwx")
}

func runVerify(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var f verifyFlags
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: jwtverify verify [flags] [TOKEN]\n\nTOKEN from the argument, or stdin when absent or \"-\".\n\nflags:")
		fs.PrintDefaults()
	}

	// Flags may come before or after the token.
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return ExitValid
			}
			return ExitUsage
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(positional) > 1 {
		return usageErr(stderr, "more than one TOKEN argument")
	}

	v, err := f.verifier()
	if err != nil {
		return usageErr(stderr, err.Error())
	}

	var token string
	if len(positional) == 0 || positional[0] == "-" {
		data, err := io.ReadAll(io.LimitReader(stdin, maxStdinBytes))
		if err != nil {
			return usageErr(stderr, "reading stdin: "+err.Error())
		}
		token = string(data)
	} else {
		token = positional[0]
	}
	token = strings.TrimSpace(token)
	if len(token) >= 7 && strings.EqualFold(token[:7], "bearer ") {
		token = strings.TrimSpace(token[7:])
	}

	tok, err := v.Verify(context.Background(), token)
	if err != nil {
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
	return ExitValid
}

func usageErr(stderr io.Writer, msg string) int {
	fmt.Fprintf(stderr, "jwtverify: %s\n", msg)
	return ExitUsage
}

// verifier builds the verifier the flags describe.
func (f *verifyFlags) verifier() (*jwtverify.Verifier, error) {
	b, err := newBackend(f.backend)
	if err != nil {
		return nil, err
	}
	keys, err := f.keySource()
	if err != nil {
		return nil, err
	}
	issuers := f.issuers
	if len(issuers) == 0 && f.oidcIssuer != "" {
		issuers = []string{f.oidcIssuer}
	}
	cfg := jwtverify.Config{
		Keys:              keys,
		Algorithms:        f.algs,
		Issuers:           issuers,
		SkipIssuerCheck:   len(issuers) == 0,
		Audiences:         f.audiences,
		SkipAudienceCheck: len(f.audiences) == 0,
		Types:             f.types,
		Leeway:            f.leeway,
	}
	if f.now != "" {
		t, err := parseTime(f.now)
		if err != nil {
			return nil, err
		}
		cfg.Now = func() time.Time { return t }
	}
	return jwtverify.New(b, cfg)
}

// keySource returns the keys the flags name: a remote key set (--jwks URL
// or --oidc-issuer), fetched once now so that an unreachable endpoint is a
// configuration error, or a static set of the files' keys. --ca-file and
// --fetch-bearer-file configure the remote fetches and are refused
// without them. A --jwks value with "://" is a URL, whatever its scheme
// (keyset refuses all but http and https), so that its userinfo and query
// are never shown, not even in a file-not-found message. No error shows
// them, nor the bearer token.
func (f *verifyFlags) keySource() (jwtverify.KeySource, error) {
	remoteJWKS := strings.Contains(f.jwks, "://")
	if remoteJWKS || f.oidcIssuer != "" {
		if (remoteJWKS && f.oidcIssuer != "") || f.key != "" || f.secretFile != "" {
			return nil, errors.New("--jwks URL and --oidc-issuer are used alone, without other key flags")
		}
		if f.caFile != "" {
			data, err := readFile(f.caFile)
			if err != nil {
				return nil, fmt.Errorf("--ca-file: %w", err)
			}
			roots := x509.NewCertPool()
			if !roots.AppendCertsFromPEM(data) {
				return nil, fmt.Errorf("--ca-file %s holds no PEM certificate", f.caFile)
			}
			f.remoteCfg.RootCAs = roots
		}
		f.remoteCfg.BearerTokenFile = f.bearerFile // read by every fetch, never shown
		ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
		defer cancel()
		var r *keyset.Remote
		var err error
		if f.oidcIssuer != "" {
			if r, err = keyset.Discover(ctx, f.oidcIssuer, f.remoteCfg); err != nil {
				err = fmt.Errorf("--oidc-issuer %s: %w", redact.URL(f.oidcIssuer), err)
			}
		} else {
			r, err = keyset.NewRemote(f.jwks, f.remoteCfg)
		}
		if err != nil {
			return nil, err
		}
		if err := r.Refresh(ctx); err != nil {
			r.Close()
			return nil, fmt.Errorf("fetching %s: %v", r.URL(), err) // URL and err are redacted
		}
		f.remote = r
		return r, nil
	}
	if f.caFile != "" || f.bearerFile != "" {
		return nil, errors.New("--ca-file and --fetch-bearer-file apply to --jwks URL and --oidc-issuer fetches only")
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
		return nil, errors.New("no keys: give --jwks, --oidc-issuer, --key or --secret-file")
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
