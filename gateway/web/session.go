package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/httpfront"
	"github.com/bmcgate/bmcgate/gateway/service"
)

// Cookie names. The __Host- prefix makes browsers insist on Secure, Path=/
// and no Domain, so no other host can set or read them.
const (
	SessionCookie  = "__Host-bmcgate"
	PreLoginCookie = "__Host-bmcgate-login"
)

const (
	methodOIDC       = "oidc"
	methodBreakGlass = "breakglass"
	methodToken      = "token"
	touchEvery       = time.Minute // LastSeen is written at most this often (or a tenth of the idle timeout)
)

type ctxKey int

const (
	keyCaller  ctxKey = iota
	keySession        // *Session of a browser request
	keyScope          // []string: a personal API token's actions (nil: not a token)
)

// CallerFrom returns the authenticated caller of a request that passed
// RequireSession (or the API's authentication).
func CallerFrom(ctx context.Context) (service.Caller, bool) {
	c, ok := ctx.Value(keyCaller).(service.Caller)
	return c, ok
}

// SessionFrom returns the browser session of a request that passed
// RequireSession; nil for bearer-token API calls.
func SessionFrom(ctx context.Context) *Session {
	s, _ := ctx.Value(keySession).(*Session)
	return s
}

// withCaller stores the caller and session in the request context.
func withCaller(r *http.Request, c service.Caller, ss *Session) *http.Request {
	ctx := context.WithValue(r.Context(), keyCaller, c)
	if ss != nil {
		ctx = context.WithValue(ctx, keySession, ss)
	}
	return r.WithContext(ctx)
}

// remoteIP is the client address without port.
func remoteIP(r *http.Request) string { return httpfront.RemoteIP(r) }

// sessionCaller builds the service caller for a session.
func sessionCaller(ss *Session, door string, r *http.Request) service.Caller {
	auth := "oidc"
	if ss.BreakGlass() {
		auth = "break-glass password+totp"
	}
	return service.Caller{Identity: ss.identity(), Door: door, Source: remoteIP(r), Session: ss.Handle, Auth: auth}
}

// session returns the valid session named by the request's cookie, ending
// it when it is past its idle or absolute lifetime.
func (s *Server) session(r *http.Request) (*Session, string, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil, "", errNotFound
	}
	return s.sessionByID(r, c.Value)
}

// sessionByID is session for a known session id (a BMC web UI host holds
// the id of the session it was opened from).
func (s *Server) sessionByID(r *http.Request, id string) (*Session, string, error) {
	var ss Session
	if err := s.store.get(bucketSessions, id, &ss); err != nil {
		return nil, "", err
	}
	if ss.Ended != "" {
		// The tombstone stays until it expires or the browser logs in
		// again, so every door of the session (main door, BMC hosts)
		// shows the same reason.
		return nil, "", &sessionEnded{why: ss.Ended}
	}
	now := s.now()
	lim := s.cfg.Load().Session
	if ss.expired(now, lim.IdleTimeout.Duration) {
		if s.keepForCerts(&ss, "session expired") {
			_ = s.store.put(bucketSessions, id, &ss)
		} else {
			_ = s.store.delete(bucketSessions, id)
		}
		s.auditSession(r.Context(), &ss, audit.CodeSessionEnd, "session expired", r)
		return nil, "", errNotFound
	}
	refreshed := false
	if ss.Method == methodOIDC && now.After(ss.RefreshAt) {
		// One refresh at a time: providers rotate refresh tokens, so a
		// second concurrent grant with the old token would fail. A request
		// that waited reads the session its predecessor refreshed.
		s.refreshMu.Lock()
		err := s.store.get(bucketSessions, id, &ss)
		ok := err == nil && (!now.After(ss.RefreshAt) || s.refreshDue(r, &ss))
		if ok {
			refreshed = true
			ss.LastSeen = now
			err = s.store.put(bucketSessions, id, &ss)
		} else {
			_ = s.store.delete(bucketSessions, id)
		}
		s.refreshMu.Unlock()
		if !ok || err != nil {
			return nil, "", errNotFound
		}
	}
	if err := s.checkIdentity(r, id, &ss); err != nil {
		return nil, "", err
	}
	if !refreshed && now.Sub(ss.LastSeen) > min(touchEvery, lim.IdleTimeout.Duration/10) {
		ss.LastSeen = now
		if err := s.store.put(bucketSessions, id, &ss); err != nil {
			s.log.Warn("web session touch failed", "err", err)
		}
	}
	return &ss, id, nil
}

// startSession creates a new session (always a new id: no fixation), revokes
// the one the browser came with, and sets the cookie.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, ss Session) (*Session, error) {
	if err := s.svc.Headroom(); err != nil {
		return nil, err
	}
	if old, err := r.Cookie(SessionCookie); err == nil && old.Value != "" {
		var prev Session
		if s.store.get(bucketSessions, old.Value, &prev) == nil && s.keepForCerts(&prev, "logged in again") {
			_ = s.store.put(bucketSessions, old.Value, &prev)
		} else {
			_ = s.store.delete(bucketSessions, old.Value)
		}
	}
	id := newID()
	now := s.now()
	lim := s.cfg.Load().Session
	ss.Handle = handle(id)
	ss.CSRF = newID()
	ss.Created, ss.LastSeen = now, now
	ss.Expires = now.Add(lim.MaxLifetime.Duration)
	ss.RefreshAt = now.Add(lim.RefreshInterval.Duration)
	if err := s.store.put(bucketSessions, id, &ss); err != nil {
		return nil, err
	}
	setCookie(w, SessionCookie, id, int(lim.MaxLifetime.Duration/time.Second))
	return &ss, nil
}

// loginNotStarted answers a login whose session could not start. Below the
// audit log's free-space floor the user is told so and the refusal is
// recorded (aggregated: repeated attempts while the disk is low write one
// summary); any other cause is logged and answered "unavailable".
func (s *Server) loginNotStarted(w http.ResponseWriter, r *http.Request, user, method string, err error) {
	var ue *service.UserError
	if !errors.As(err, &ue) {
		s.log.Error("web session not started", "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, "Login is unavailable right now.")
		return
	}
	rec := audit.Record{Code: audit.CodeAuthFail, Actor: user, Door: audit.DoorWeb, Source: remoteIP(r),
		Outcome: audit.OutcomeDeny, Reason: "login refused: " + ue.Msg, Fields: map[string]string{"method": method}}
	if method == methodBreakGlass {
		rec.Fields["breakglass"] = "true"
	}
	s.note(r, method+": session refused", rec)
	s.errorPage(w, r, http.StatusServiceUnavailable, "Login is unavailable right now: "+ue.Msg)
}

// endSession revokes the request's session server-side and clears the cookie.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		var ss Session
		if s.store.get(bucketSessions, c.Value, &ss) == nil && s.keepForCerts(&ss, "logged out") {
			_ = s.store.put(bucketSessions, c.Value, &ss)
		} else {
			_ = s.store.delete(bucketSessions, c.Value)
		}
		s.bmc.EndUser(r.Context(), c.Value, "logged out")
	}
	setCookie(w, SessionCookie, "", -1)
}

// setCookie sets a __Host- cookie: Secure, HttpOnly, SameSite=Lax, Path=/.
// Lax, because the gateway's own cookies must come along when the identity
// provider sends the browser back (a cross-site navigation).
func setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// setStrictCookie is setCookie with SameSite=Strict: for the BMC-host
// cookie, which no request another site starts may carry.
func setStrictCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// RequireSession lets requests with a valid browser session through, with
// the caller (door "web") in the context; others go to the login page.
// State-changing methods also need the CSRF token and a same-origin Origin.
func (s *Server) RequireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ss, _, err := s.session(r)
		if err != nil {
			var ended *sessionEnded
			if errors.As(err, &ended) {
				setCookie(w, SessionCookie, "", -1)
				s.errorPage(w, r, http.StatusUnauthorized, ended.page())
				return
			}
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				// safeReturn bounds what is reflected into Location: a
				// target it refuses (too long, not a local path) is dropped.
				to := "/login"
				if ret := safeReturn(r.URL.RequestURI()); ret != "/" {
					to += "?return=" + url.QueryEscape(ret)
				}
				http.Redirect(w, r, to, http.StatusSeeOther)
				return
			}
			s.errorPage(w, r, http.StatusUnauthorized, "Your session has ended. Log in again.")
			return
		}
		if !safeMethod(r.Method) {
			if err := s.checkCSRF(r, ss, r.PostFormValue("csrf")); err != nil {
				s.refuseCSRF(w, r, ss, err)
				return
			}
		}
		next.ServeHTTP(w, withCaller(r, sessionCaller(ss, audit.DoorWeb, r), ss))
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

var (
	errBadOrigin = errors.New("cross-origin request")
	errBadCSRF   = errors.New("missing or wrong CSRF token")
)

// checkOrigin requires the Origin header of a state-changing request to be
// the public origin (browsers always send it on POST).
func (s *Server) checkOrigin(r *http.Request) error {
	if o := r.Header.Get("Origin"); o == "" || o != s.cfg.Load().Origin() {
		return errBadOrigin
	}
	return nil
}

// checkCSRF checks the Origin and the session's CSRF token.
func (s *Server) checkCSRF(r *http.Request, ss *Session, token string) error {
	if err := s.checkOrigin(r); err != nil {
		return err
	}
	if token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(ss.CSRF)) != 1 {
		return errBadCSRF
	}
	return nil
}

// refuseCSRF answers and audits a refused state-changing request.
func (s *Server) refuseCSRF(w http.ResponseWriter, r *http.Request, ss *Session, err error) {
	rec := audit.Record{Code: audit.CodeDecision, Door: audit.DoorWeb, Source: remoteIP(r),
		Outcome: audit.OutcomeDeny, Reason: "request refused: " + err.Error(),
		Fields: map[string]string{"path": truncate(r.URL.Path, 256)}}
	if ss != nil {
		rec.Actor, rec.Session = ss.User, ss.Handle
	}
	s.note(r, "csrf: "+err.Error(), rec)
	s.errorPage(w, r, http.StatusForbidden, "This request did not come from a bmcgate page. Go back, reload the page and try again.")
}

// auditSession writes a session lifecycle record.
func (s *Server) auditSession(ctx context.Context, ss *Session, code, reason string, r *http.Request) {
	s.auditSessionWith(ctx, ss, code, reason, r, nil)
}

// auditSessionWith is auditSession with more fields.
func (s *Server) auditSessionWith(ctx context.Context, ss *Session, code, reason string, r *http.Request, more map[string]string) {
	rec := audit.Record{Code: code, Actor: ss.User, Door: audit.DoorWeb, Source: remoteIP(r),
		Session: ss.Handle, Outcome: audit.OutcomeOK, Reason: reason,
		Fields: map[string]string{"method": ss.Method}}
	for k, v := range more {
		rec.Fields[k] = v
	}
	if ss.BreakGlass() {
		rec.Fields["breakglass"] = "true"
	}
	_ = s.svc.Audit(ctx, rec)
}

// Caller returns the browser session's caller (door "web") without any
// CSRF check, for handlers that apply their own rules to state-changing
// requests (the BMC web UI proxy). It reports false without a valid session.
func (s *Server) Caller(r *http.Request) (service.Caller, *Session, bool) {
	ss, _, err := s.session(r)
	if err != nil {
		return service.Caller{}, nil, false
	}
	return sessionCaller(ss, audit.DoorWeb, r), ss, true
}

// SameOrigin reports whether the request's Origin header is the door's
// public origin (the check state-changing requests get).
func (s *Server) SameOrigin(r *http.Request) bool { return s.checkOrigin(r) == nil }
