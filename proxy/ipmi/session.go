package ipmi

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bougou/go-ipmi/pkg/client"
	"github.com/bougou/go-ipmi/pkg/types"
)

// Session is one authenticated RMCP+ session to a BMC, with every datagram
// passing the session guard. Its methods are safe for concurrent use; they
// run one at a time.
type Session struct {
	bmc         string
	suite       int
	priv        Privilege
	callTimeout time.Duration
	c           *client.Client
	g           *guard

	mu        sync.Mutex // one command at a time
	broken    atomic.Bool
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// Dial opens one new authenticated, verified session (the cold path). The
// caller must Close it.
func Dial(ctx context.Context, ep Endpoint, opts Options) (*Session, error) {
	ep = ep.named()
	if err := ep.check(); err != nil {
		return nil, err
	}
	return dial(ctx, ep, opts.withDefaults())
}

// dial establishes a session. A handshake that got no answer at all is
// tried once more (nothing has run on the BMC yet), within ConnectTimeout.
func dial(ctx context.Context, ep Endpoint, opts Options) (*Session, error) {
	cctx, cancel := context.WithTimeout(ctx, opts.ConnectTimeout)
	defer cancel()
	var err *Error
	for attempt := range connectAttempts {
		left := connectAttempts - attempt
		var s *Session
		s, err = dialOnce(ctx, cctx, ep, opts, left)
		if err == nil {
			return s, nil
		}
		if err.Kind != KindUnreachable || err.refused || ctx.Err() != nil {
			break
		}
	}
	return nil, err
}

// dialOnce makes one handshake attempt, using 1/left of the time left in
// cctx.
func dialOnce(ctx, cctx context.Context, ep Endpoint, opts Options, left int) (*Session, *Error) {
	if err := cctx.Err(); err != nil {
		if ctx.Err() != nil {
			return nil, ctxError(ep.Name, ctx.Err(), false)
		}
		return nil, newError(ep.Name, KindUnreachable, msgNoAnswer, err)
	}
	actx := cctx
	if dl, ok := cctx.Deadline(); ok && left > 1 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(cctx, time.Until(dl)/time.Duration(left))
		defer cancel()
	}
	var onOpen func()
	if opts.onHandshake != nil {
		name := ep.Name
		onOpen = func() { opts.onHandshake(name) }
	}
	g := newGuard(ep, onOpen)
	c, err := client.NewClient(ep.Host, ep.port(), ep.Username, ep.Password)
	if err != nil {
		return nil, newError(ep.Name, KindAuth, "invalid user name", nil)
	}
	// Exactly one suite: the library's fallback list (which contains
	// suites without encryption and RC4 ones) is never consulted.
	c.WithCipherSuiteID(types.CipherSuiteID(ep.CipherSuite))
	c.WithMaxPrivilegeLevel(ep.Privilege.level())
	// An exchange waits at most half the call timeout, so that a read on a
	// session the BMC has forgotten leaves time for a fresh session; the
	// guard retransmits within it where that is safe.
	c.WithTimeout(opts.exchangeTimeout())
	c.WithRetry(0)
	c.WithUDPProxy(guardDialer{ctx: actx, g: g})

	if err := c.Connect(actx); err != nil {
		_ = g.Close()
		return nil, classifyConnect(ep.Name, ctx, g, err)
	}
	g.setRetransmit(false) // from now on only per call (Session.call)
	return &Session{
		bmc:         ep.Name,
		suite:       ep.CipherSuite,
		priv:        ep.Privilege.orDefault(),
		callTimeout: opts.CallTimeout,
		c:           c,
		g:           g,
	}, nil
}

// Client returns the underlying go-ipmi client (for SOL and scans). Every
// datagram it sends or receives still passes the session guard, so SOL must
// be activated with encryption and authentication. The client's exported
// fields include the password: never print or log it.
func (s *Session) Client() *client.Client { return s.c }

// BMC returns the endpoint name the session was opened for.
func (s *Session) BMC() string { return s.bmc }

// String describes the session without secrets.
func (s *Session) String() string {
	return fmt.Sprintf("ipmi session to %s (suite %d, %s)", s.bmc, s.suite, s.priv)
}

// Close ends the session with a Close Session command (best effort, bounded
// by ctx and one second) and closes the socket. A session broken by an
// earlier failure is closed without the round trip. Further calls return nil.
func (s *Session) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if s.broken.Load() {
			// Closing the socket first also ends a read still waiting
			// for a lost answer, which holds the client's socket lock.
			_ = s.g.Close()
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			_ = s.c.Close(cctx)
			return
		}
		cctx, cancel := context.WithTimeout(ctx, closeTimeout)
		defer cancel()
		if err := realCloseError(s.c.Close(cctx)); err != nil && ctx.Err() == nil {
			s.closeErr = newError(s.bmc, KindUnreachable, "closing the session failed", err)
		}
		_ = s.g.Close()
	})
	return s.closeErr
}

// call runs fn with the call timeout, one command at a time, and classifies
// its error. write marks commands that change the BMC's state.
func (s *Session) call(ctx context.Context, write bool, fn func(ctx context.Context) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return newError(s.bmc, KindClosed, "the session is closed", nil)
	}
	if s.broken.Load() {
		return newError(s.bmc, KindUnreachable, msgTimeout, errSessionBroken)
	}
	if err := ctx.Err(); err != nil {
		return ctxError(s.bmc, err, false)
	}
	before := s.g.snapshot()
	cctx, cancel := context.WithTimeout(ctx, s.callTimeout)
	defer cancel()
	// Reads may be sent again when their answer is lost; writes never.
	s.g.setRetransmit(!write)
	err := fn(cctx)
	s.g.setRetransmit(false)
	if err == nil {
		return nil
	}
	e := classifyCall(s.bmc, ctx, s.g, before, err, write)
	switch {
	case e.sessionFault():
		s.broken.Store(true)
		// A read may always be repeated on a fresh session; a write only
		// when it provably never left.
		e.retrySafe = ctx.Err() == nil && (!write || e.notSent)
	case e.Kind == KindCanceled:
		// An abandoned exchange may still hold the socket; start afresh.
		s.broken.Store(true)
	}
	return e
}

// usable reports whether the session may serve another command.
func (s *Session) usable() bool { return !s.broken.Load() && !s.closed.Load() }

// ping is the cheap liveness check used for keep-alive and before writes on
// a session that has been idle.
func (s *Session) ping(ctx context.Context) error {
	return s.call(ctx, false, func(ctx context.Context) error {
		_, err := s.c.GetDeviceID(ctx)
		return err
	})
}
