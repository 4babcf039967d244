package sshd

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/core"
	"github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// Config holds the SSH front door's settings.
type Config struct {
	HostSigners           []gossh.Signer
	Banner                string
	HandshakeTimeout      time.Duration // TCP accept to first session channel
	IdleTimeout           time.Duration // no traffic in either direction
	MaxSessionDuration    time.Duration // absolute connection lifetime
	MaxConnections        int           // all users
	MaxConnectionsPerUser int
	Logger                *slog.Logger
	Console               ConsoleService // nil: no console command
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
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Server is bmcgate's SSH front door.
type Server struct {
	cfg  Config
	svc  *core.Service
	dir  atomic.Pointer[Directory]
	srv  *ssh.Server
	log  *slog.Logger
	now  func() time.Time
	cmds map[string]*command

	conns   atomic.Int64
	pending sync.Map  // remote address -> *connState, until the connection ends
	live    liveConns // authenticated connections with sessions (live.go)
	mu      sync.Mutex
	perUser map[string]int
}

// New builds the SSH server. It refuses a configuration with no host key.
func New(cfg Config, svc *core.Service, dir *Directory) (*Server, error) {
	cfg = cfg.withDefaults()
	if len(cfg.HostSigners) == 0 {
		return nil, errors.New("sshd: no host key")
	}
	s := &Server{cfg: cfg, svc: svc, log: cfg.Logger, now: time.Now, perUser: map[string]int{}}
	s.cmds = commandTable()
	s.dir.Store(dir)
	signers := make([]ssh.Signer, len(cfg.HostSigners))
	for i, k := range cfg.HostSigners {
		signers[i] = k
	}
	s.srv = &ssh.Server{
		HostSigners:      signers,
		Version:          "bmcgate",
		Banner:           cfg.Banner,
		PublicKeyHandler: s.publicKeyHandler,
		// No PasswordHandler and no KeyboardInteractiveHandler: with a
		// PublicKeyHandler set, the library does not enable "none" auth.
		IdleTimeout:              cfg.IdleTimeout,
		MaxTimeout:               cfg.MaxSessionDuration,
		ConnCallback:             s.connCallback,
		ConnectionFailedCallback: s.connFailed,
		ServerConfigCallback: func(ssh.Context) *gossh.ServerConfig {
			return &gossh.ServerConfig{MaxAuthTries: 6}
		},
		ChannelHandlers: map[string]ssh.ChannelHandler{
			"session": s.sessionChannel,
			"default": s.refuseChannel,
		},
		RequestHandlers: map[string]ssh.RequestHandler{
			"default": s.refuseGlobalRequest,
		},
		SubsystemHandlers: map[string]ssh.SubsystemHandler{},
	}
	return s, nil
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

// Shutdown stops accepting connections and closes the established ones.
func (s *Server) Shutdown(ctx context.Context) error {
	_ = s.srv.Close()
	return nil
}

// connState is per-connection bookkeeping shared by its channels.
type connState struct {
	id       string
	remote   string
	started  time.Time
	once     sync.Once // login audit
	loginErr error
	user     string       // counted in Server.perUser; guarded by Server.mu
	ended    bool         // connEnded ran; guarded by Server.mu
	endWhy   string       // why the gateway ended the connection (live.go); guarded by Server.mu
	opened   atomic.Bool  // a session channel was opened
	loggedIn atomic.Bool  // the login record was written
	channels atomic.Int32 // open session channels
	timer    *time.Timer

	// A failed handshake: the library cancels the connection's context
	// before it reports the failure, so connEnded waits for connFailed.
	failOnce   sync.Once
	failed     chan struct{} // closed by connFailed
	failReason string        // set before failed is closed
}

var ctxKeyConn = &struct{ name string }{"bmcgate-conn"}

// connCallback enforces the global connection limit and the handshake
// timeout, and arranges the end-of-connection audit record.
func (s *Server) connCallback(ctx ssh.Context, conn net.Conn) net.Conn {
	st := &connState{id: newID(), remote: conn.RemoteAddr().String(), started: s.now(), failed: make(chan struct{})}
	if n := s.conns.Add(1); n > int64(s.cfg.MaxConnections) {
		s.conns.Add(-1)
		s.auditBackground(audit.Record{Code: audit.CodeSSHLimit, Door: "ssh", Source: st.remote,
			Outcome: audit.OutcomeDeny, Reason: "global connection limit reached"})
		return nil
	}
	ctx.SetValue(ctxKeyConn, st)
	s.pending.Store(st.remote, st)
	st.timer = time.AfterFunc(s.cfg.HandshakeTimeout, func() {
		if !st.opened.Load() {
			_ = conn.Close()
		}
	})
	// No goroutine waits for the end: the connection's context runs this
	// when it is cancelled.
	context.AfterFunc(ctx, func() {
		st.timer.Stop()
		s.conns.Add(-1)
		s.connEnded(ctx, st)
	})
	return conn
}

// connFailed notes why a handshake failed; connEnded writes the record,
// because only it has the connection context (claimed user, key refusals).
func (s *Server) connFailed(conn net.Conn, err error) {
	v, ok := s.pending.Load(conn.RemoteAddr().String())
	if !ok {
		return
	}
	st := v.(*connState)
	st.failOnce.Do(func() {
		st.failReason = handshakeReason(err)
		close(st.failed)
	})
}

// failureWait bounds how long connEnded waits for the reason of a failed
// handshake (it follows the context's end at once when there is one).
const failureWait = 2 * time.Second

// handshakeReason turns a handshake error into a plain reason.
func handshakeReason(err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return "handshake failed"
	case errors.As(err, &ne) && ne.Timeout():
		return "handshake timed out"
	case errors.Is(err, net.ErrClosed):
		return "connection closed during handshake (timeout or shutdown)"
	}
	return "handshake failed: " + err.Error()
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
