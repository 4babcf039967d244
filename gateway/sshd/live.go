package sshd

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/bmcgate/bmcgate/gateway/service"
	gossh "golang.org/x/crypto/ssh"
)

// endGrace bounds how long an ended session's running command has to
// stop before its connection is closed anyway.
const endGrace = 5 * time.Second

// liveConns are the authenticated connections with open sessions, so that a
// config reload can end those whose identity the new config revokes.
type liveConns struct {
	mu    sync.Mutex
	conns map[*connState]*liveConn
}

// liveConn is one authenticated connection and its open sessions.
type liveConn struct {
	st       *connState
	conn     *gossh.ServerConn
	caller   service.Caller // the identity the connection authenticated as
	sessions map[*session]bool
}

// add registers an accepted session; the connection is registered with its
// first session and forgotten when it ends.
func (l *liveConns) add(ctx context.Context, st *connState, conn *gossh.ServerConn, se *session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns == nil {
		l.conns = map[*connState]*liveConn{}
	}
	lc := l.conns[st]
	if lc == nil {
		lc = &liveConn{st: st, conn: conn, caller: se.caller, sessions: map[*session]bool{}}
		l.conns[st] = lc
		context.AfterFunc(ctx, func() {
			l.mu.Lock()
			delete(l.conns, st)
			l.mu.Unlock()
		})
	}
	lc.sessions[se] = true
}

// remove forgets a session whose channel has closed.
func (l *liveConns) remove(st *connState, se *session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if lc := l.conns[st]; lc != nil {
		delete(lc.sessions, se)
	}
}

// snapshot returns the live connections with their sessions.
func (l *liveConns) snapshot() []liveConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]liveConn, 0, len(l.conns))
	for _, lc := range l.conns {
		cp := *lc
		cp.sessions = make(map[*session]bool, len(lc.sessions))
		for se := range lc.sessions {
			cp.sessions[se] = true
		}
		out = append(out, cp)
	}
	return out
}

// Recheck applies the current config to every live connection: one whose
// identity the config no longer lets act (account removed or disabled) is
// ended at once. Each of its sessions stops its command, shows the reason
// on stderr and closes; then the connection closes, and its session.end
// record carries the reason. Connections whose user merely lost roles stay:
// every command is decided under the current roles anyway.
func (s *Server) Recheck() {
	for _, lc := range s.live.snapshot() {
		_, err := s.svc.Resolve(lc.caller)
		if !errors.Is(err, service.ErrRevoked) {
			continue
		}
		s.endConn(lc, service.Message(err))
	}
}

// endConn ends a live connection: each of its sessions stops its command,
// shows why on stderr and closes; then the connection closes, and its
// session.end record carries why.
func (s *Server) endConn(lc liveConn, why string) {
	s.mu.Lock()
	lc.st.endWhy = why
	s.mu.Unlock()
	s.log.Info("ending an ssh connection", "user", lc.caller.Name(), "session", lc.caller.Session, "reason", why)
	ended := make([]*session, 0, len(lc.sessions))
	for se := range lc.sessions {
		se.end(why)
		ended = append(ended, se)
	}
	go closeWhenDone(lc.conn, ended)
}

// LiveSessions lists the door's authenticated connections with open
// sessions, for moderators (service.SessionDoor).
func (s *Server) LiveSessions() []service.LiveSession {
	var out []service.LiveSession
	for _, lc := range s.live.snapshot() {
		out = append(out, service.LiveSession{ID: lc.caller.Session, User: lc.caller.Name(), Door: "ssh",
			Source: lc.caller.Source, Auth: lc.caller.Auth, Since: lc.st.started})
	}
	return out
}

// Terminate ends the connection whose session id is id, showing why to its
// user; it reports whether there was one.
func (s *Server) Terminate(id, why string) bool {
	for _, lc := range s.live.snapshot() {
		if lc.caller.Session == id {
			s.endConn(lc, why)
			return true
		}
	}
	return false
}

// closeWhenDone closes conn once every ended session has finished and the
// client has closed its side of the channel, or after endGrace; a session
// whose command has not stopped by then is finished first, so its user
// still sees why. Closing the connection while the client is still
// answering the channel's close would fail the client's write ("Broken
// pipe") and lose the exit status it has already been sent.
func closeWhenDone(conn *gossh.ServerConn, ended []*session) {
	ctx, cancel := context.WithTimeout(context.Background(), endGrace)
	defer cancel()
	for _, se := range ended {
		select {
		case <-se.finished:
		case <-ctx.Done():
			se.finish(exitRefused)
		}
	}
	for _, se := range ended {
		select {
		case <-se.closed:
		case <-ctx.Done():
		}
	}
	_ = conn.Close()
}
