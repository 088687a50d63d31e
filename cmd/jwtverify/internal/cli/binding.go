package cli

import (
	"crypto/rand"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/jwtverify/jwtverify/dpop"
	"github.com/jwtverify/jwtverify/dpop/redisstore"
	"github.com/jwtverify/jwtverify/internal/redact"
)

// bindingFlags are the proxy's flags for sender-constrained tokens (DPoP,
// mTLS) and for serving TLS itself.
type bindingFlags struct {
	dpopMode, dpopPublicURL, dpopNonceSecretFile string
	dpopWindow                                   time.Duration
	dpopNonce                                    bool
	replayStore                                  string
	tlsCert, tlsKey, clientCA                    string
	clientCertHeader                             string
	trustedProxies                               list
	// wrapStore, when set, wraps the replay store (the metrics' error
	// counter).
	wrapStore func(dpop.ReplayStore) dpop.ReplayStore
}

func (b *bindingFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&b.dpopMode, "dpop", "allowed", "`MODE`: DPoP (RFC 9449): off | allowed (bound tokens need a proof, unbound Bearer tokens pass) | required (unbound tokens refused); a DPoP-bound token sent as Bearer is refused in every mode")
	fs.StringVar(&b.dpopPublicURL, "dpop-public-url", "", "`URL`: scheme and authority clients use (https://api.example.com): DPoP proofs' htu is judged against it and the request path; default: from the request (and --trusted-proxy X-Forwarded-Proto/Host)")
	fs.DurationVar(&b.dpopWindow, "dpop-window", 0, "how far a DPoP proof's iat may be from now, either side (default 60s, at most 5m)")
	fs.BoolVar(&b.dpopNonce, "dpop-nonce", false, "require DPoP server nonces (RFC 9449 §8): stateless, rotating every 5m; the secret is random per process unless --dpop-nonce-secret-file")
	fs.StringVar(&b.dpopNonceSecretFile, "dpop-nonce-secret-file", "", "`FILE` of at least 32 bytes: the nonce secret, shared by a fleet so that every instance accepts the others' nonces")
	fs.StringVar(&b.replayStore, "replay-store", "", "`URL`: DPoP replay store shared by a fleet: redis://HOST:PORT/DB (Redis 7, Valkey); default: in memory, this process only")
	fs.StringVar(&b.tlsCert, "tls-cert", "", "`FILE`: serve TLS with this PEM certificate (chain) file; needs --tls-key")
	fs.StringVar(&b.tlsKey, "tls-key", "", "`FILE`: the PEM private key of --tls-cert")
	fs.StringVar(&b.clientCA, "client-ca", "", "`FILE`: with --tls-cert, verify client certificates against these PEM CAs (asked for, not required: certificate-bound tokens need one)")
	fs.StringVar(&b.clientCertHeader, "client-cert-header", "", "`NAME`: header a TLS-terminating proxy passes the client certificate in (X-Forwarded-Client-Cert, or a URL-encoded PEM or base64 DER one); read only from --trusted-proxy peers")
	fs.Var(&b.trustedProxies, "trusted-proxy", "`CIDR` of a proxy whose X-Forwarded-Proto, X-Forwarded-Host and --client-cert-header are trusted (repeatable)")
}

// binding is what bindingFlags.options builds.
type binding struct {
	checker    *dpop.Checker // nil: --dpop off
	required   bool
	publicURL  string
	trusted    []netip.Prefix
	certHeader string
	tls        *tls.Config
	close      func()
}

// options checks the flags and builds the Checker with its replay store
// (a Redis store is first used by the first proof: while it cannot
// answer, proofs get 503, never acceptance), the TLS configuration and
// the trusted proxies.
func (b *bindingFlags) options(backend string) (*binding, error) {
	out := &binding{close: func() {}, publicURL: b.dpopPublicURL, certHeader: b.clientCertHeader}
	for _, c := range b.trustedProxies {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			if a, aerr := netip.ParseAddr(c); aerr == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			} else {
				return nil, fmt.Errorf("--trusted-proxy %q is not a CIDR or an address", c)
			}
		}
		out.trusted = append(out.trusted, p.Masked())
	}
	if b.clientCertHeader != "" && len(out.trusted) == 0 {
		return nil, errors.New("--client-cert-header needs --trusted-proxy: the header is read only from trusted peers")
	}
	if err := b.tlsConfig(out); err != nil {
		return nil, err
	}
	switch b.dpopMode {
	case "off":
		if b.dpopPublicURL != "" || b.dpopWindow != 0 || b.dpopNonce || b.dpopNonceSecretFile != "" || b.replayStore != "" {
			return nil, errors.New("--dpop off takes no other --dpop flag and no --replay-store")
		}
		return out, nil
	case "allowed", "required":
		out.required = b.dpopMode == "required"
	default:
		return nil, fmt.Errorf("--dpop %q is not off, allowed or required", b.dpopMode)
	}
	cfg := dpop.Config{Window: b.dpopWindow}
	if b.dpopNonceSecretFile != "" && !b.dpopNonce {
		return nil, errors.New("--dpop-nonce-secret-file needs --dpop-nonce")
	}
	if b.dpopNonce {
		cfg.NonceSecret = make([]byte, 32)
		rand.Read(cfg.NonceSecret)
		if b.dpopNonceSecretFile != "" {
			secret, err := readFile(b.dpopNonceSecretFile)
			if err != nil {
				return nil, fmt.Errorf("--dpop-nonce-secret-file: %w", err)
			}
			cfg.NonceSecret = secret
		}
	}
	wrap := b.wrapStore
	if wrap == nil {
		wrap = func(s dpop.ReplayStore) dpop.ReplayStore { return s }
	}
	cfg.Store = wrap(dpop.NewMemoryStore(0))
	if b.replayStore != "" {
		if !strings.HasPrefix(b.replayStore, "redis://") && !strings.HasPrefix(b.replayStore, "rediss://") {
			return nil, fmt.Errorf("--replay-store %s is not a redis:// or rediss:// URL", redact.URL(b.replayStore))
		}
		store, err := redisstore.NewFromURL(b.replayStore, redisstore.Options{})
		if err != nil {
			return nil, fmt.Errorf("--replay-store %s: %w", redact.URL(b.replayStore), err)
		}
		cfg.Store = wrap(store)
		out.close = func() { store.Close() }
	}
	be, err := newBackend(backend)
	if err != nil {
		out.close()
		return nil, err
	}
	if out.checker, err = dpop.New(be, cfg); err != nil {
		out.close()
		return nil, err
	}
	return out, nil
}

// tlsConfig loads --tls-cert, --tls-key and --client-ca into out.tls.
func (b *bindingFlags) tlsConfig(out *binding) error {
	switch {
	case b.tlsCert == "" && b.tlsKey == "" && b.clientCA == "":
		return nil
	case b.tlsCert == "" || b.tlsKey == "":
		return errors.New("--tls-cert and --tls-key go together (and --client-ca needs them)")
	}
	cert, err := tls.LoadX509KeyPair(b.tlsCert, b.tlsKey)
	if err != nil {
		return fmt.Errorf("--tls-cert/--tls-key: %v", err) // names the files, never key bytes
	}
	out.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	if b.clientCA != "" {
		pool, err := readCertPool("--client-ca", b.clientCA)
		if err != nil {
			return err
		}
		out.tls.ClientCAs, out.tls.ClientAuth = pool, tls.VerifyClientCertIfGiven
	}
	return nil
}
