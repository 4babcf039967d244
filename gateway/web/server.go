package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/bmchost"
	"github.com/bmcgate/bmcgate/gateway/httpfront"
	"github.com/bmcgate/bmcgate/gateway/refusals"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/gateway/web/breakglass"
)

// maxLoginStarts bounds single sign-on starts per address and minute: each
// writes a pre-login record.
const maxLoginStarts = 60

// maxHashing bounds the break-glass password checks (argon2id, 64 MiB each
// by default) running at once.
const maxHashing = 2

// Options configure a Server.
type Options struct {
	Config  *configs.Config // listen.https, web section, data_dir
	Service Service
	Logger  *slog.Logger
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// HTTPClient is used to talk to the identity provider; default a
	// client with a 10 s timeout.
	HTTPClient *http.Client
	// Certs is the gateway's SSH user CA (ssh.issue_certificates); nil
	// when the gateway issues no certificates.
	Certs SSHCerts
}

// Server is the HTTPS front door.
type Server struct {
	svc   Service
	log   *slog.Logger
	now   func() time.Time
	store *store
	cache *service.PowerCache
	tmpl  *templates
	http  *http.Server
	mux   *http.ServeMux
	hc    *http.Client

	cfg     atomic.Pointer[configs.Web]
	certs   SSHCerts     // nil: no SSH certificates (sshcert.go)
	certMax atomic.Value // time.Duration: ssh.cert_max_lifetime
	certsOn atomic.Bool  // ssh.issue_certificates, as reloaded
	sshAddr string       // listen.ssh, for the ssh line of a certificate
	oidc    *oidcClient  // nil without web.oidc
	limiter *loginLimiter
	starts  *sourceLimiter       // bounds OIDC login starts (pre-login records) per address
	refused *refusals.Aggregator // refusals and failed logins: one record per kind and interval
	front   httpfront.Front      // records and answers what the listeners refuse, through refused

	// Break-glass password checks (breakglass.go): argon2id runs at once,
	// one more slot for browsers the account knows, and the check itself
	// (tests count it).
	hashing, hashingKnown chan struct{}
	verify                func(breakglass.Hash, []byte) bool

	refreshMu sync.Mutex     // serializes OIDC session refreshes (session.go)
	bmc       *bmchost.Hosts // BMC web UI hosts (gateway/bmchost), on this door's listener

	mu   sync.Mutex
	scan ScanPanel
	ln   net.Listener

	handlers sync.WaitGroup // requests being served, websockets included (Run waits for them at shutdown)
}

// track counts h's requests, so that shutdown waits for their audit records
// (a hijacked websocket is not waited for by http.Server.Shutdown).
func (s *Server) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.handlers.Add(1)
		defer s.handlers.Done()
		h.ServeHTTP(w, r)
	})
}

// waitHandlers waits until every tracked request has returned, or ctx ends.
func (s *Server) waitHandlers(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		s.handlers.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.log.Warn("web requests still running at shutdown; their records may be missing")
	}
}

// New opens the session database and builds the server; Serve starts it.
func New(o Options) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	cfg := o.Config
	st, err := openStore(filepath.Join(cfg.DataDir, DBName))
	if err != nil {
		return nil, fmt.Errorf("web sessions: %w", err)
	}
	s := &Server{svc: o.Service, log: o.Logger, now: o.Now, store: st, hc: limitBodies(o.HTTPClient, maxProviderBody)}
	w := cfg.Web
	s.cfg.Store(&w)
	s.certs, s.sshAddr = o.Certs, cfg.Listen.SSH
	s.certMax.Store(cfg.SSH.CertMaxLifetime.Duration)
	s.certsOn.Store(cfg.SSH.IssueCertificates)
	s.cache = o.Service.NewPowerCache(w.PowerCacheTTL.Duration)
	s.refused = refusals.New(o.Service, refusals.Options{Logger: o.Logger})
	s.front = httpfront.Front{Notes: s.refused, Log: o.Logger}
	s.limiter = newLoginLimiter(w.LoginLimits)
	s.starts = newSourceLimiter(maxLoginStarts)
	s.hashing, s.hashingKnown = make(chan struct{}, maxHashing), make(chan struct{}, 1)
	s.verify = breakglass.Hash.Verify
	if s.tmpl, err = parseTemplates(); err != nil {
		_ = st.close()
		return nil, err
	}
	if w.OIDC.Issuer != "" {
		s.oidc = newOIDCClient(w, s.hc, o.Logger)
	}
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if u, err := url.Parse(w.PublicURL); err == nil && u.Hostname() != "" && !slices.Contains(hosts, u.Hostname()) {
		hosts = append([]string{u.Hostname()}, hosts...)
	}
	cert, err := loadCertificate(w.TLS.CertFile, w.TLS.KeyFile, cfg.DataDir, hosts, o.Logger)
	if err != nil {
		_ = st.close()
		return nil, err
	}
	s.mux = http.NewServeMux()
	s.routes()
	s.http = &http.Server{
		Handler:           s.track(s.secure(s.mux)),
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}},
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      90 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelDebug),
	}
	if err := s.setupBMCHosts(cfg.DataDir); err != nil {
		_ = st.close()
		return nil, err
	}
	s.http.Handler = s.route(s.http.Handler)
	return s, nil
}

// Handler is the whole door with its security headers (tests, benchmarks).
func (s *Server) Handler() http.Handler { return s.http.Handler }

// Cache is the dashboard's power cache.
func (s *Server) Cache() *service.PowerCache { return s.cache }

// Listen binds addr; Addr then reports it.
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("https listen %s: %w", addr, err)
	}
	if err := s.bmc.ListenPorts(); err != nil {
		_ = ln.Close()
		return err
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	return nil
}

// Addr is the bound address.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Run serves HTTPS (HTTP/2 and HTTP/1.1) on the bound listener until ctx is done.
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		return errors.New("web: Run before Listen")
	}
	go s.sweeper(ctx)
	if s.certs != nil {
		go s.certRefresher(ctx)
	}
	go s.refused.Run(ctx)
	s.bmc.ServePorts()
	errc := make(chan error, 1)
	go func() { errc <- s.http.ServeTLS(ln, "", "") }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("https: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = s.http.Shutdown(sctx)
		s.bmc.ShutdownPorts(sctx)
		s.waitHandlers(sctx)      // hijacked connections (websockets) too
		_ = s.refused.Close(sctx) // the pending summaries, now that no request runs
		return nil
	}
}

// sweeper deletes expired sessions every few minutes.
func (s *Server) sweeper(ctx context.Context) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.store.sweep(s.now(), s.cfg.Load().Session.IdleTimeout.Duration, s.keptForCerts); err != nil {
				s.log.Warn("web session sweep failed", "err", err)
			}
		}
	}
}

// Reload applies a new config: group-role mapping, break-glass accounts,
// lifetimes and limits. Sessions whose identity the new config revokes end
// at once (revoke.go); the others are decided under the new roles from
// their next request on. Listen address, TLS and issuer need a restart.
func (s *Server) Reload(cfg *configs.Config) {
	w := cfg.Web
	s.cfg.Store(&w)
	s.certMax.Store(cfg.SSH.CertMaxLifetime.Duration)
	s.certsOn.Store(cfg.SSH.IssueCertificates)
	if s.oidc != nil {
		s.oidc.reload(w)
	}
	s.limiter.reload(w.LoginLimits)
	s.bmc.WarnPortsChanged(w)
	s.revokeSessions(context.Background())
	s.bmc.Recheck(context.Background())
}

// EndRevoked ends now, server-side, every session (and BMC web UI session)
// whose identity the service layer no longer lets act: a lock of the user
// or a role, or a certificate's login ending.
func (s *Server) EndRevoked(ctx context.Context) {
	s.revokeSessions(ctx)
	s.bmc.Recheck(ctx)
}

// Close stops serving and closes the session database.
func (s *Server) Close() {
	_ = s.http.Close()
	s.bmc.ClosePorts()
	_ = s.refused.Close(context.Background())
	if err := s.store.close(); err != nil {
		s.log.Warn("closing the web session database", "err", err)
	}
}

// Handle adds a page served to logged-in users only (the BMC web UI proxy,
// the scan results page). The handler reads the caller with CallerFrom.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, s.RequireSession(h))
}
