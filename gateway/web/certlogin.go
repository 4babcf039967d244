package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/service"
)

// The web logins SSH certificates were issued from. A certificate follows
// its login: each refresh at the provider gives the registry the user's
// groups now, and a refresh that fails, or leaves the user without a role,
// ends the certificates with the login. So that this happens within
// session.refresh_interval even while no browser uses the login, the
// refresher below re-checks such logins in the background; a login the
// browser leaves (logout, idle timeout) stays for them, marked ForCerts,
// until they expire or its absolute lifetime ends.

// keptForCerts reports whether a session must stay for the certificates
// issued from it: some of them are still usable and the login is within
// its absolute lifetime.
func (s *Server) keptForCerts(ss *Session) bool {
	return s.certs != nil && ss.Method == methodOIDC && s.now().Before(ss.Expires) && s.certs.Live(ss.Handle)
}

// certRefreshTick is how often the refresher looks for logins due: a tenth
// of the refresh interval, between 1 s and 1 min.
func (s *Server) certRefreshTick() time.Duration {
	return min(max(s.cfg.Load().Session.RefreshInterval.Duration/10, time.Second), time.Minute)
}

// certRefresher refreshes, until ctx ends, the logins SSH certificates
// follow.
func (s *Server) certRefresher(ctx context.Context) {
	t := time.NewTicker(s.certRefreshTick())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.refreshCertLogins(ctx)
		}
	}
}

// refreshCertLogins refreshes every login due that certificates follow,
// and ends the certificates of logins past their absolute lifetime, and of
// logins no longer stored at all (however they went: nothing could keep
// such certificates following the provider).
func (s *Server) refreshCertLogins(ctx context.Context) {
	now := s.now()
	live := s.certs.LiveLogins() // before the scan: each had its session stored when it was issued
	present := map[string]bool{}
	keys := s.store.sessionKeys(func(ss *Session) bool {
		if ss.Method != methodOIDC || ss.Ended != "" && !ss.ForCerts {
			return false
		}
		present[ss.Handle] = true
		return s.certs.Live(ss.Handle) && (now.After(ss.RefreshAt) || now.After(ss.Expires))
	})
	for _, k := range keys {
		s.refreshCertLogin(ctx, k)
	}
	for _, login := range live {
		if !present[login] {
			s.certs.EndLogin(login, "the web login it was issued from ended")
		}
	}
}

func (s *Server) refreshCertLogin(ctx context.Context, k []byte) {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	var ss Session
	if err := s.store.getKey(k, &ss); err != nil {
		return
	}
	now := s.now()
	if now.After(ss.Expires) {
		_ = s.store.deleteKey(k)
		s.certs.EndLogin(ss.Handle, "the web login it was issued from reached its maximum lifetime")
		return
	}
	if !now.After(ss.RefreshAt) {
		return // refreshed by a browser request meanwhile
	}
	if !s.refreshLogin(ctx, &ss, nil) {
		_ = s.store.deleteKey(k)
		return
	}
	if err := s.store.putKey(k, &ss); err != nil {
		s.log.Warn("storing a refreshed web login failed", "err", err)
	}
}

// refreshLogin refreshes a login at the provider (refreshDue for a request
// r, or with r nil for the background refresher) and tells the registry:
// the groups now, or that the login ended. It reports whether the login
// may continue.
func (s *Server) refreshLogin(ctx context.Context, ss *Session, r *http.Request) bool {
	why := ""
	if ss.RefreshToken == "" {
		why = "groups must be re-checked: log in again (no refresh token)"
	} else if err := s.refresh(ctx, ss); err != nil {
		s.log.Info("web session refresh failed; ending it", "user", ss.User, "session", ss.Handle, "err", err)
		why = "refresh at the identity provider failed: " + verifyReason(err)
	}
	if why != "" {
		s.auditRefresh(ctx, ss, audit.CodeSessionEnd, why, r)
		if s.certs != nil {
			s.certs.EndLogin(ss.Handle, "the web login it was issued from ended: "+why)
		}
		return false
	}
	if s.certs != nil {
		s.certs.SetGroups(ss.Handle, ss.Groups)
	}
	s.auditRefresh(ctx, ss, audit.CodeSessionStart, "session refreshed; roles "+strings.Join(s.loginRoles(ss), ","), r)
	return true
}

// auditRefresh writes a session record for a request, or for the background
// refresher (source "gateway").
func (s *Server) auditRefresh(ctx context.Context, ss *Session, code, reason string, r *http.Request) {
	if r != nil {
		s.auditSession(ctx, ss, code, reason, r)
		return
	}
	rec := audit.Record{Code: code, Actor: ss.User, Door: audit.DoorWeb, Source: "gateway",
		Session: ss.Handle, Outcome: audit.OutcomeOK, Reason: reason, Fields: map[string]string{"method": ss.Method, "background": "true"}}
	_ = s.svc.Audit(ctx, rec)
}

// loginRoles are a login's roles under the current config.
func (s *Server) loginRoles(ss *Session) []string {
	p, _ := s.svc.Resolve(service.Caller{Identity: ss.identity(), Door: audit.DoorWeb, Session: ss.Handle})
	return p.Roles
}

// keepForCerts turns a session the browser leaves into one kept for its
// certificates, with why the browser may not use it; it reports false
// (delete it) when no certificate follows it.
func (s *Server) keepForCerts(ss *Session, why string) bool {
	if !s.keptForCerts(ss) {
		return false
	}
	ss.Ended, ss.ForCerts = why, true
	return true
}
