package sshd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/refusals"
	"github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// Config holds the SSH front door's settings.
type Config struct {
	HostSigners           []gossh.Signer
	Banner                string
	HandshakeTimeout      time.Duration // TCP accept to first session channel
	IdleTimeout           time.Duration // no activity (see idleTracker)
	MaxSessionDuration    time.Duration // absolute connection lifetime
	MaxConnections        int           // authenticated connections, all users
	MaxConnectionsPerUser int
	// MaxStartups and MaxPreAuthPerSource bound connections that have not
	// authenticated yet (preauth.go); they do not count in MaxConnections.
	MaxStartups         configs.Startups
	MaxPreAuthPerSource int
	// MaxRefusedRequests is the burst of refused requests a connection may
	// make before it is closed; the allowance refills at one per second.
	MaxRefusedRequests int
	// RefusalAuditInterval is how often repeated refusals are summarised in
	// the audit log (package refusals).
	RefusalAuditInterval time.Duration
	// Algorithms offered; empty lists take configs.DefaultSSHAlgorithms.
	Algorithms configs.SSHAlgorithms
	Logger     *slog.Logger
	Console    ConsoleService // nil: no console command
}

func (c Config) withDefaults() Config {
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = 10 * time.Second
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 15 * time.Minute
	}
	if c.MaxSessionDuration <= 0 {
		c.MaxSessionDuration = 12 * time.Hour
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = 256
	}
	if c.MaxConnectionsPerUser <= 0 {
		c.MaxConnectionsPerUser = 16
	}
	if c.MaxStartups.Full <= 0 {
		c.MaxStartups, _ = configs.ParseStartups(configs.DefaultMaxStartups)
	}
	if c.MaxPreAuthPerSource <= 0 {
		c.MaxPreAuthPerSource = 10
	}
	if c.MaxRefusedRequests <= 0 {
		c.MaxRefusedRequests = 32
	}
	def := configs.DefaultSSHAlgorithms()
	for _, l := range []struct{ v, d *[]string }{
		{&c.Algorithms.KeyExchanges, &def.KeyExchanges}, {&c.Algorithms.Ciphers, &def.Ciphers},
		{&c.Algorithms.MACs, &def.MACs}, {&c.Algorithms.HostKeys, &def.HostKeys},
	} {
		if len(*l.v) == 0 {
			*l.v = *l.d
		}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Server is bmcgate's SSH front door.
type Server struct {
	cfg      Config
	svc      Service
	dir      atomic.Pointer[Directory]
	srv      *ssh.Server
	log      *slog.Logger
	now      func() time.Time
	cmds     map[string]*command
	preauth  *preauth
	refusals *refusals.Aggregator
	stopAgg  context.CancelFunc

	pending sync.Map       // remote address -> *connState, until the connection ends
	work    sync.WaitGroup // connections whose end record is not written yet, and session handlers (Shutdown waits)
	live    liveConns      // authenticated connections with sessions (live.go)

	mu      sync.Mutex
	authed  int                   // authenticated connections
	perUser map[string]int        // authenticated connections per user
	raw     map[net.Conn]struct{} // every open socket, closed at Shutdown
	closing bool                  // Shutdown has begun: new connections are refused
	revoked *revocations          // revoked-keys file watcher (revoked.go)
}

// New builds the SSH server. It refuses a configuration with no host key,
// or with a host key that no configured host key algorithm can sign with.
func New(cfg Config, svc Service, dir *Directory) (*Server, error) {
	cfg = cfg.withDefaults()
	if len(cfg.HostSigners) == 0 {
		return nil, errors.New("sshd: no host key")
	}
	signers, err := hostSigners(cfg.HostSigners, cfg.Algorithms.HostKeys)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, svc: svc, log: cfg.Logger, now: time.Now, perUser: map[string]int{}, raw: map[net.Conn]struct{}{}}
	s.preauth = newPreauth(cfg.MaxStartups, cfg.MaxPreAuthPerSource, rand.IntN)
	s.refusals = refusals.New(svc, refusals.Options{Interval: cfg.RefusalAuditInterval, Logger: cfg.Logger})
	var aggCtx context.Context
	aggCtx, s.stopAgg = context.WithCancel(context.Background())
	go s.refusals.Run(aggCtx)
	s.cmds = commandTable()
	s.dir.Store(dir)
	s.srv = &ssh.Server{
		HostSigners:      signers,
		Version:          "bmcgate",
		Banner:           cfg.Banner,
		PublicKeyHandler: s.publicKeyHandler,
		// No PasswordHandler and no KeyboardInteractiveHandler: with a
		// PublicKeyHandler set, the library does not enable "none" auth.
		// No transport IdleTimeout: keep-alives would reset it; idleness
		// is decided per connection by idleTracker.
		MaxTimeout:               cfg.MaxSessionDuration,
		ConnCallback:             s.connCallback,
		ConnectionFailedCallback: s.connFailed,
		ServerConfigCallback:     s.serverConfig,
		ChannelHandlers: map[string]ssh.ChannelHandler{
			"session": s.trackedSession,
			"default": s.refuseChannel,
		},
		RequestHandlers: map[string]ssh.RequestHandler{
			"default": s.refuseGlobalRequest,
		},
		SubsystemHandlers: map[string]ssh.SubsystemHandler{},
	}
	return s, nil
}

// publicKeyAuthAlgorithms are the signature algorithms accepted for user
// keys: the SSH library's secure set, which leaves out ssh-rsa (SHA-1).
var publicKeyAuthAlgorithms = gossh.SupportedAlgorithms().PublicKeyAuths

// serverConfig is the per-connection SSH configuration: the algorithm
// lists and the callback that moves a connection from the pre-auth count
// to the authenticated one.
func (s *Server) serverConfig(ctx ssh.Context) *gossh.ServerConfig {
	a := s.cfg.Algorithms
	return &gossh.ServerConfig{
		Config: gossh.Config{
			KeyExchanges: slices.Clone(a.KeyExchanges),
			Ciphers:      slices.Clone(a.Ciphers),
			MACs:         slices.Clone(a.MACs),
		},
		PublicKeyAuthAlgorithms: slices.Clone(publicKeyAuthAlgorithms),
		MaxAuthTries:            6,
		VerifiedPublicKeyCallback: func(_ gossh.ConnMetadata, _ gossh.PublicKey, p *gossh.Permissions, _ string) (*gossh.Permissions, error) {
			return s.authenticated(ctx, p)
		},
	}
}

// hostSigners restricts each host key to the configured host key
// algorithms (an RSA key signs with rsa-sha2-512/256, never ssh-rsa).
func hostSigners(keys []gossh.Signer, algos []string) ([]ssh.Signer, error) {
	out := make([]ssh.Signer, 0, len(keys))
	for _, k := range keys {
		typ := k.PublicKey().Type()
		var allowed []string
		for _, a := range algos {
			if a == typ || typ == gossh.KeyAlgoRSA && (a == gossh.KeyAlgoRSASHA256 || a == gossh.KeyAlgoRSASHA512) {
				allowed = append(allowed, a)
			}
		}
		if len(allowed) == 0 {
			return nil, fmt.Errorf("sshd: the %s host key cannot sign with any of ssh.host_key_algorithms (%v)", typ, algos)
		}
		as, ok := k.(gossh.AlgorithmSigner)
		if !ok {
			return nil, fmt.Errorf("sshd: the %s host key cannot choose its signature algorithm", typ)
		}
		ms, err := gossh.NewSignerWithAlgorithms(as, allowed)
		if err != nil {
			return nil, fmt.Errorf("sshd: %s host key: %w", typ, err)
		}
		out = append(out, ms)
	}
	return out, nil
}

// SetDirectory installs a new user directory (config reload). Established
// connections keep their identity, and every command is decided under the
// current config; Recheck ends those the config now revokes. New logins use
// the new directory.
func (s *Server) SetDirectory(d *Directory) { s.dir.Store(d) }

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	err := s.srv.Serve(ln)
	if errors.Is(err, ssh.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections, closes every open one
// (authenticated or not), waits for their handlers and end records and
// writes the pending refusal summaries, so the door writes nothing after it
// returns, unless ctx ended first (then the error says so).
func (s *Server) Shutdown(ctx context.Context) error {
	_ = s.srv.Close()
	s.mu.Lock()
	s.closing = true
	for c := range s.raw {
		_ = c.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.work.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("sshd: connections still closing: %w", ctx.Err())
	}
	s.stopAgg()
	return errors.Join(err, s.refusals.Close(ctx))
}

// trackedSession runs a session channel as work Shutdown waits for.
func (s *Server) trackedSession(srv *ssh.Server, conn *gossh.ServerConn, newChan gossh.NewChannel, ctx ssh.Context) {
	s.work.Add(1)
	defer s.work.Done()
	s.sessionChannel(srv, conn, newChan, ctx)
}

// note records a refusal through the aggregator. The event is already
// refused, so a failed write is only logged.
func (s *Server) note(class string, r audit.Record) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if r.Door == "" {
		r.Door = audit.DoorSSH
	}
	if err := s.refusals.Note(ctx, class, r); err != nil {
		s.log.Error("audit write failed for an event that already happened", "code", r.Code, "source", r.Source)
	}
}

// auditBackground writes a record about something that has already been
// refused; a failure is logged (there is no action left to stop).
func (s *Server) auditBackground(r audit.Record) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.svc.Audit(ctx, r); err != nil {
		s.log.Error("audit write failed for an event that already happened", "code", r.Code, "source", r.Source)
	}
}
