package sshd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/refusals"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// newID returns a random connection id for audit records.
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// connPhase is where a connection is in its life; Server.mu guards it.
type connPhase int

const (
	phasePreAuth connPhase = iota // counted in Server.preauth
	phaseAuthed                   // counted in Server.authed
	phaseClosed                   // counted nowhere
)

// maxKeyRefusals bounds the distinct key refusals kept per connection.
const maxKeyRefusals = 8

// connState is per-connection bookkeeping shared by its channels.
type connState struct {
	id       string
	remote   string // host:port
	source   string // refusals.SourceKey(remote)
	started  time.Time
	raw      net.Conn
	once     sync.Once // login audit
	loginErr error
	phase    connPhase    // guarded by Server.mu
	user     string       // counted in Server.perUser; guarded by Server.mu
	ended    bool         // connEnded ran; guarded by Server.mu
	endWhy   string       // why the gateway ended the connection; guarded by Server.mu
	opened   atomic.Bool  // a session channel was opened
	loggedIn atomic.Bool  // the login record was written
	channels atomic.Int32 // open session channels
	timer    *time.Timer  // handshake timeout
	idle     *idleTracker // set once authenticated

	// A failed handshake: the library cancels the connection's context
	// before it reports the failure, so connEnded waits for connFailed.
	failOnce   sync.Once
	failed     chan struct{} // closed by connFailed
	failReason string        // set before failed is closed

	mu           sync.Mutex
	keyRefusals  []refusal // distinct, at most maxKeyRefusals
	keyRefusedN  int       // all key refusals
	refusedToken float64   // refused-request allowance (refuse.go)
	refusedAt    time.Time
	refusedOut   bool // the allowance ran out; the connection is closing
}

var ctxKeyConn = &struct{ name string }{"bmcgate-conn"}

// connCallback admits a new socket under the pre-auth limits, arms the
// handshake timeout and arranges the end-of-connection audit record.
func (s *Server) connCallback(ctx ssh.Context, conn net.Conn) net.Conn {
	remote := conn.RemoteAddr().String()
	st := &connState{id: newID(), remote: remote, source: refusals.SourceKey(remote), started: s.now(), raw: conn,
		failed: make(chan struct{})}
	// A connection accepted just before Shutdown may get here after it:
	// it is refused. Otherwise it is registered, and counted as work,
	// under the lock Shutdown takes before it closes the registered ones
	// and waits: no Add can then race with that Wait, and no connection
	// is left open behind it.
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	s.raw[conn] = struct{}{}
	s.work.Add(1)
	s.mu.Unlock()
	if ok, why := s.preauth.admit(st.source); !ok {
		s.note(why.class, audit.Record{Code: audit.CodeSSHLimit, Source: remote, Outcome: audit.OutcomeDeny, Reason: why.reason})
		s.mu.Lock()
		delete(s.raw, conn)
		s.mu.Unlock()
		s.work.Done()
		return nil
	}
	ctx.SetValue(ctxKeyConn, st)
	s.pending.Store(remote, st)
	st.timer = time.AfterFunc(s.cfg.HandshakeTimeout, func() {
		if !st.opened.Load() {
			_ = conn.Close()
		}
	})
	// No goroutine waits for the end: the connection's context runs this
	// when it is cancelled.
	context.AfterFunc(ctx, func() {
		defer s.work.Done()
		st.timer.Stop()
		s.mu.Lock()
		st.idle.stop()
		switch st.phase {
		case phasePreAuth:
			s.preauth.release(st.source)
		case phaseAuthed:
			s.authed--
		}
		st.phase = phaseClosed
		delete(s.raw, conn)
		s.mu.Unlock()
		s.connEnded(ctx, st)
	})
	return conn
}

// errAtLimit is shown to a client that authenticated while the gateway
// holds max_connections authenticated connections.
var errAtLimit = &gossh.BannerError{Err: errors.New("global connection limit reached"),
	Message: "bmcgate: the gateway is at its connection limit; retry later\r\n"}

// authenticated runs when a client proved it holds an accepted key: the
// connection leaves the pre-auth count for the authenticated one, unless
// that is full.
func (s *Server) authenticated(ctx ssh.Context, p *gossh.Permissions) (*gossh.Permissions, error) {
	st, ok := ctx.Value(ctxKeyConn).(*connState)
	if !ok {
		return nil, errors.New("no connection state")
	}
	s.mu.Lock()
	if st.phase != phasePreAuth {
		s.mu.Unlock()
		return nil, errors.New("connection is not authenticating")
	}
	if s.authed >= s.cfg.MaxConnections {
		s.mu.Unlock()
		s.note("global connection limit", audit.Record{Code: audit.CodeSSHLimit, Actor: ctx.User(), Source: st.remote,
			Session: st.id, Outcome: audit.OutcomeDeny, Reason: fmt.Sprintf("global connection limit (%d) reached", s.cfg.MaxConnections)})
		return nil, errAtLimit
	}
	s.authed++
	st.phase = phaseAuthed
	s.preauth.release(st.source)
	st.idle = newIdleTracker(s.cfg.IdleTimeout, s.now, func() {
		s.closeConn(st, fmt.Sprintf("idle for %s", s.cfg.IdleTimeout))
	})
	st.idle.start()
	s.mu.Unlock()
	return p, nil
}

// closeConn ends a connection for a reason of the gateway's (idle, too
// many refused requests): its sessions stop their commands and show why,
// as for a revoked identity (live.go), then the connection closes; its
// session.end record carries the reason.
func (s *Server) closeConn(st *connState, why string) {
	s.mu.Lock()
	if st.endWhy != "" {
		s.mu.Unlock()
		return
	}
	st.endWhy = why
	s.mu.Unlock()
	for _, lc := range s.live.snapshot() {
		if lc.st != st {
			continue
		}
		ended := make([]*session, 0, len(lc.sessions))
		for se := range lc.sessions {
			se.end(why)
			ended = append(ended, se)
		}
		closeWhenDone(lc.conn, ended)
		return
	}
	_ = st.raw.Close() // no session open
}

// keyRefused keeps a key refusal for the connection's audit records.
func (st *connState) keyRefused(r refusal) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.keyRefusedN++
	for _, k := range st.keyRefusals {
		if k == r {
			return
		}
	}
	if len(st.keyRefusals) < maxKeyRefusals {
		st.keyRefusals = append(st.keyRefusals, r)
	}
}

// refusedKeys summarises the connection's key refusals: their classes
// (sorted, distinct), their reasons, and how many there were in all.
func (st *connState) refusedKeys() (class, reasons string, n int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	seen := map[string]bool{}
	var classes, rs []string
	for _, r := range st.keyRefusals {
		if !seen[r.class] {
			seen[r.class] = true
			classes = append(classes, r.class)
		}
		rs = append(rs, r.reason)
	}
	sort.Strings(classes)
	reasons = strings.Join(rs, "; ")
	if more := st.keyRefusedN - len(rs); more > 0 {
		reasons += fmt.Sprintf("; and %d more", more)
	}
	return strings.Join(classes, ", "), reasons, st.keyRefusedN
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

// handshakeClass is the stable class of a handshake failure reason.
func handshakeClass(reason string) string {
	switch {
	case strings.Contains(reason, "no common algorithm"):
		return "no common algorithm"
	case strings.HasPrefix(reason, "handshake failed"):
		return "handshake failed"
	}
	return reason
}

// login runs once per connection, when its first session channel opens:
// it checks the per-user connection limit and writes the login record.
// No record, no session.
func (s *Server) login(ctx ssh.Context, st *connState, c service.Caller) error {
	st.once.Do(func() {
		if err := s.svc.Headroom(); err != nil {
			r := callerRecord(c, audit.CodeSSHLimit)
			r.Outcome, r.Reason = audit.OutcomeDeny, "login refused: the audit log's disk is below its free-space floor"
			// Aggregated: while the disk is low, repeated logins must not
			// write one record each.
			s.note("login refused: audit disk low", r)
			st.loginErr = err
			return
		}
		s.mu.Lock()
		if st.ended {
			// The connection closed while this channel was opening.
			s.mu.Unlock()
			st.loginErr = &service.UserError{Msg: "connection closed"}
			return
		}
		n := s.perUser[c.Name()]
		over := n >= s.cfg.MaxConnectionsPerUser
		if !over {
			s.perUser[c.Name()] = n + 1
			st.user = c.Name()
		}
		s.mu.Unlock()
		if over {
			r := callerRecord(c, audit.CodeSSHLimit)
			r.Outcome = audit.OutcomeDeny
			r.Reason = fmt.Sprintf("per-user connection limit (%d) reached", s.cfg.MaxConnectionsPerUser)
			_ = s.svc.Audit(ctx, r)
			st.loginErr = &service.UserError{Msg: "too many connections for this user; close some and retry"}
			return
		}
		r := callerRecord(c, audit.CodeAuthLogin)
		r.Outcome = audit.OutcomeOK
		r.Reason = c.Auth
		s.loginRecord(st, &r)
		if err := s.svc.Audit(ctx, r); err != nil {
			st.loginErr = err
			return
		}
		st.loggedIn.Store(true)
	})
	return st.loginErr
}

// loginRecord adds the keys refused before the one that logged in to a
// login record, and notes them as failed attempts (aggregated): an
// expired certificate followed by a plain key leaves both facts.
func (s *Server) loginRecord(st *connState, r *audit.Record) {
	class, reasons, n := st.refusedKeys()
	if n == 0 {
		return
	}
	if r.Fields == nil {
		r.Fields = map[string]string{}
	}
	r.Fields["refused_keys"] = strconv.Itoa(n)
	r.Fields["refused_reasons"] = reasons
	s.note("publickey refused before login: "+class, audit.Record{Code: audit.CodeAuthFail, Actor: r.Actor, Source: st.remote,
		Session: st.id, Outcome: audit.OutcomeFail, Reason: "publickey refused: " + reasons + " (then logged in with another key)"})
}

// connEnded writes the last record of a connection: a failed login, or the
// end of an authenticated connection.
func (s *Server) connEnded(ctx ssh.Context, st *connState) {
	claimed, _ := ctx.Value(ssh.ContextKeyUser).(string)
	sconn, _ := ctx.Value(ssh.ContextKeyConn).(*gossh.ServerConn)
	defer s.pending.CompareAndDelete(st.remote, st)
	if sconn == nil {
		r := audit.Record{Code: audit.CodeAuthFail, Source: st.remote, Session: st.id,
			Actor: claimed, Outcome: audit.OutcomeFail}
		t := time.NewTimer(failureWait)
		select {
		case <-st.failed:
			r.Reason = st.failReason
		case <-t.C:
		}
		t.Stop()
		if r.Reason == "" {
			r.Reason = "connection closed before authentication"
		}
		class := handshakeClass(r.Reason)
		if keys, reasons, n := st.refusedKeys(); n > 0 {
			class = "publickey refused: " + keys
			r.Reason = "publickey refused: " + reasons
			r.Fields = map[string]string{"refused_keys": strconv.Itoa(n)}
		}
		s.note(class, r)
		return
	}
	s.mu.Lock()
	st.ended = true
	endWhy := st.endWhy
	if st.user != "" {
		if s.perUser[st.user]--; s.perUser[st.user] <= 0 {
			delete(s.perUser, st.user)
		}
	}
	s.mu.Unlock()
	user, auth, _, _ := identity(sconn)
	if !st.loggedIn.Load() {
		// Authenticated but never opened a session: still a login.
		r := audit.Record{Code: audit.CodeAuthLogin, Door: audit.DoorSSH, Source: st.remote, Session: st.id,
			Actor: user, Outcome: audit.OutcomeOK, Reason: auth + " (no session opened)"}
		s.loginRecord(st, &r)
		s.auditBackground(r)
	}
	r := audit.Record{Code: audit.CodeSessionEnd, Door: audit.DoorSSH, Source: st.remote, Session: st.id,
		Actor: user, Outcome: audit.OutcomeOK, Duration: s.now().Sub(st.started)}
	if endWhy != "" {
		r.Outcome, r.Reason = audit.OutcomeDeny, "ended by the gateway: "+endWhy
	}
	s.auditBackground(r)
}

func callerRecord(c service.Caller, code string) audit.Record {
	return audit.Record{Code: code, Actor: c.Name(), Door: c.Door, Source: c.Source, Session: c.Session}
}
