package web

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/gateway/service"
)

// Bounds of the BMC-host state, all held in memory: a restart ends every
// BMC-host session (users open the web UI again from the dashboard).
const (
	ticketTTL       = 30 * time.Second
	maxTickets      = 4096
	maxHostSessions = 8192
	recheckEvery    = 15 * time.Second
)

// ticket hands a user session over to one BMC host, once.
type ticket struct {
	userID  string // the user session's id (server-side only)
	bmc     string
	expires time.Time
}

// hostSession is a browser's session on one BMC host. It lives no longer
// than the user session it came from and is canceled, with every request
// and websocket it carries, when that session ends or loses web.access.
type hostSession struct {
	userID  string
	handle  string // the user session's public handle (audit, BMC-side pool key)
	user    string
	bmc     string
	source  string
	expires time.Time
	ctx     context.Context
	cancel  context.CancelCauseFunc
	cached  atomic.Pointer[cachedUser] // the user session, as last read from the store
}

// cachedUser is a BMC-host session's copy of its user session, so that a
// request on the BMC host reads and decodes nothing from the session store:
// it is used for at most hostUserTTL, while the session store has not
// deleted or ended any session since (store.epoch), the copy has not
// expired and is not due for an OpenID refresh, and the current config
// still lets its identity act. Otherwise the store is read as before,
// which also touches LastSeen, refreshes and writes tombstones.
type cachedUser struct {
	ss    *Session
	at    time.Time
	epoch uint64
}

// hostUser returns the user session of BMC-host session hs.
func (s *Server) hostUser(r *http.Request, hs *hostSession) (*Session, error) {
	now := s.now()
	lim := s.cfg.Load().Session
	ttl := min(touchEvery, lim.IdleTimeout.Duration/10)
	if c := hs.cached.Load(); c != nil && c.epoch == s.store.epoch.Load() && now.Sub(c.at) < ttl && !now.Before(c.at) &&
		!c.ss.expired(now, lim.IdleTimeout.Duration) && !(c.ss.Method == methodOIDC && now.After(c.ss.RefreshAt)) {
		if _, err := s.svc.Resolve(sessionCaller(c.ss, audit.DoorWeb, r)); !errors.Is(err, service.ErrRevoked) {
			return c.ss, nil
		}
	}
	epoch := s.store.epoch.Load() // before the read: an end meanwhile invalidates the copy
	ss, _, err := s.sessionByID(r, hs.userID)
	if err != nil {
		hs.cached.Store(nil)
		return nil, err
	}
	hs.cached.Store(&cachedUser{ss: ss, at: now, epoch: epoch})
	return ss, nil
}

// errSessionEnded is the cause of a BMC-host session's end.
var errSessionEnded = errors.New("the bmcgate session ended")

// secretKey is the map key of a random secret: its SHA-256, so the
// secrets themselves are not kept.
func secretKey(v string) [32]byte { return sha256.Sum256([]byte(v)) }

// issueTicket stores a ticket for userID on bmc and returns it.
func (s *Server) issueTicket(userID, bmc string) (string, error) {
	now := s.now()
	s.bmc.mu.Lock()
	defer s.bmc.mu.Unlock()
	for k, t := range s.bmc.tickets {
		if now.After(t.expires) {
			delete(s.bmc.tickets, k)
		}
	}
	if len(s.bmc.tickets) >= maxTickets {
		return "", errors.New("too many web UI tickets in flight")
	}
	v := newID()
	s.bmc.tickets[secretKey(v)] = ticket{userID: userID, bmc: bmc, expires: now.Add(ticketTTL)}
	return v, nil
}

// takeTicket removes a ticket and returns it when it has not expired; a
// ticket is gone after its first use, whatever the outcome.
func (s *Server) takeTicket(v string) (ticket, bool) {
	if v == "" {
		return ticket{}, false
	}
	k := secretKey(v)
	s.bmc.mu.Lock()
	defer s.bmc.mu.Unlock()
	t, ok := s.bmc.tickets[k]
	delete(s.bmc.tickets, k)
	return t, ok && !s.now().After(t.expires)
}

// newHostSession opens a BMC-host session and returns its cookie value.
func (s *Server) newHostSession(userID string, ss *Session, bmc, source string) (string, error) {
	s.bmc.mu.Lock()
	defer s.bmc.mu.Unlock()
	now := s.now()
	for k, h := range s.bmc.hosts {
		if now.After(h.expires) || h.ctx.Err() != nil {
			h.cancel(errSessionEnded)
			delete(s.bmc.hosts, k)
		}
	}
	if len(s.bmc.hosts) >= maxHostSessions {
		return "", errors.New("too many BMC web UI sessions")
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	v := newID()
	s.bmc.hosts[secretKey(v)] = &hostSession{userID: userID, handle: ss.Handle, user: ss.User, bmc: bmc,
		source: source, expires: ss.Expires, ctx: ctx, cancel: cancel}
	return v, nil
}

// hostSession returns the live BMC-host session of cookie value v on bmc.
// A cookie of another BMC host is no session here.
func (s *Server) hostSession(v, bmc string) *hostSession {
	if v == "" {
		return nil
	}
	s.bmc.mu.Lock()
	defer s.bmc.mu.Unlock()
	h := s.bmc.hosts[secretKey(v)]
	if h == nil || h.bmc != bmc || h.ctx.Err() != nil || s.now().After(h.expires) {
		return nil
	}
	return h
}

// endHostSessions ends the BMC-host sessions match selects, cancels their
// requests and websockets, and logs out the BMC-side sessions they used.
func (s *Server) endHostSessions(ctx context.Context, reason string, match func(*hostSession) bool) {
	s.bmc.mu.Lock()
	var ended []*hostSession
	for k, h := range s.bmc.hosts {
		if match(h) {
			h.cancel(errSessionEnded)
			delete(s.bmc.hosts, k)
			ended = append(ended, h)
		}
	}
	uis := s.bmc.uis
	s.bmc.mu.Unlock()
	released := map[string]bool{}
	for _, h := range ended {
		rec := audit.Record{Code: audit.CodeSessionEnd, Actor: h.user, Door: audit.DoorWeb, Source: h.source,
			Session: h.handle, Target: h.bmc, Outcome: audit.OutcomeOK, Reason: "BMC web UI session ended: " + reason}
		_ = s.svc.Audit(ctx, rec)
		if uis != nil && !released[h.handle] {
			released[h.handle] = true
			uis.Release(ctx, h.handle)
		}
	}
}

// endUserBMCHosts ends every BMC-host session of the user session userID
// (logout).
func (s *Server) endUserBMCHosts(ctx context.Context, userID, reason string) {
	s.endHostSessions(ctx, reason, func(h *hostSession) bool { return h.userID == userID })
}

// recheckBMCHosts ends BMC-host sessions whose user session has ended or
// whose user has lost web.access on the BMC (after a reload, a role change
// at refresh, an expiry). The refusal is recorded as a decision.
func (s *Server) recheckBMCHosts(ctx context.Context) {
	s.bmc.mu.Lock()
	live := make([]*hostSession, 0, len(s.bmc.hosts))
	for _, h := range s.bmc.hosts {
		live = append(live, h)
	}
	s.bmc.mu.Unlock()
	now := s.now()
	idle := s.cfg.Load().Session.IdleTimeout.Duration
	dead := map[*hostSession]string{}
	for _, h := range live {
		var ss Session
		if err := s.store.get(bucketSessions, h.userID, &ss); err != nil || ss.expired(now, idle) {
			dead[h] = "the bmcgate session ended"
			continue
		}
		if ss.Ended != "" {
			dead[h] = "the bmcgate session ended: " + ss.Ended
			continue
		}
		c := service.Caller{Identity: ss.identity(), Door: audit.DoorWeb, Source: h.source, Session: ss.Handle}
		if d, b := s.svc.Permits(c, authz.WebAccess, h.bmc); !d.Allowed {
			if b != nil {
				_, _ = s.svc.Decide(ctx, c, authz.WebAccess, b.Target()) // records the refusal
			}
			dead[h] = "web.access withdrawn"
		}
	}
	for h, why := range dead {
		s.endHostSessions(ctx, why, func(x *hostSession) bool { return x == h })
	}
}

// RunBMCHosts re-checks the BMC-host sessions periodically until ctx ends,
// then ends them all.
func (s *Server) RunBMCHosts(ctx context.Context) {
	t := time.NewTicker(recheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.endHostSessions(context.WithoutCancel(ctx), "gateway stopping", func(*hostSession) bool { return true })
			return
		case <-t.C:
			s.recheckBMCHosts(ctx)
		}
	}
}
