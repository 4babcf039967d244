package sshd

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/core"
	"github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// newID returns a random connection id for audit records.
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// login runs once per connection, when its first session channel opens:
// it checks the per-user connection limit and writes the login record.
// No record, no session.
func (s *Server) login(ctx ssh.Context, st *connState, c core.Caller) error {
	st.once.Do(func() {
		s.mu.Lock()
		if st.ended {
			// The connection closed while this channel was opening.
			s.mu.Unlock()
			st.loginErr = &core.UserError{Msg: "connection closed"}
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
			st.loginErr = &core.UserError{Msg: "too many connections for this user; close some and retry"}
			return
		}
		r := callerRecord(c, audit.CodeAuthLogin)
		r.Outcome = audit.OutcomeOK
		r.Reason = c.Auth
		if err := s.svc.Audit(ctx, r); err != nil {
			st.loginErr = err
			return
		}
		st.loggedIn.Store(true)
	})
	return st.loginErr
}

// connEnded writes the last record of a connection: a failed login, or the
// end of an authenticated connection.
func (s *Server) connEnded(ctx ssh.Context, st *connState) {
	claimed, _ := ctx.Value(ssh.ContextKeyUser).(string)
	sconn, _ := ctx.Value(ssh.ContextKeyConn).(*gossh.ServerConn)
	defer s.pending.CompareAndDelete(st.remote, st)
	if sconn == nil {
		r := audit.Record{Code: audit.CodeAuthFail, Door: "ssh", Source: st.remote, Session: st.id,
			Actor: claimed, Outcome: audit.OutcomeFail}
		t := time.NewTimer(failureWait)
		select {
		case <-st.failed:
			r.Reason = st.failReason
		case <-t.C:
		}
		t.Stop()
		if why, ok := ctx.Value(ctxKeyAuthFail).(string); ok {
			r.Reason = "publickey refused: " + why
		}
		if r.Reason == "" {
			r.Reason = "connection closed before authentication"
		}
		s.auditBackground(r)
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
		r := audit.Record{Code: audit.CodeAuthLogin, Door: "ssh", Source: st.remote, Session: st.id,
			Actor: user, Outcome: audit.OutcomeOK, Reason: auth + " (no session opened)"}
		s.auditBackground(r)
	}
	r := audit.Record{Code: audit.CodeSessionEnd, Door: "ssh", Source: st.remote, Session: st.id,
		Actor: user, Outcome: audit.OutcomeOK, Duration: s.now().Sub(st.started)}
	if endWhy != "" {
		r.Outcome, r.Reason = audit.OutcomeDeny, "ended by the gateway: "+endWhy
	}
	s.auditBackground(r)
}

func callerRecord(c core.Caller, code string) audit.Record {
	return audit.Record{Code: code, Actor: c.Name(), Door: c.Door, Source: c.Source, Session: c.Session}
}
