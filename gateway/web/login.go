package web

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// preLoginTTL bounds how long a user may take at the provider.
const preLoginTTL = 10 * time.Minute

// loginPage offers single sign-on and the break-glass form.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	w2 := s.cfg.Load()
	s.render(w, r, http.StatusOK, "login", map[string]any{
		"Return":     safeReturn(r.URL.Query().Get("return")),
		"SSO":        w2.OIDC.Issuer != "",
		"BreakGlass": len(w2.BreakGlass) > 0,
		"Error":      loginMessages[r.URL.Query().Get("error")],
	})
}

// loginMessages are the fixed texts the login page may show.
var loginMessages = map[string]string{
	"failed":  "Login failed. Check your user name, password and code.",
	"wait":    "Too many login attempts: wait a minute and try again.",
	"expired": "The login took too long or was started in another browser. Try again.",
}

// authStart begins the code flow: a pre-login record holds state, nonce and
// the PKCE verifier; the browser gets only its random id in a cookie.
func (s *Server) authStart(w http.ResponseWriter, r *http.Request) {
	if s.oidc == nil {
		s.errorPage(w, r, http.StatusNotFound, "Single sign-on is not configured.")
		return
	}
	if !s.starts.allowSource(remoteIP(r), s.now()) {
		s.auditLoginFail(r, "", methodOIDC, "rate limited: too many login starts from this address")
		s.errorPage(w, r, http.StatusTooManyRequests, "Too many logins from your address: wait a minute and try again.")
		return
	}
	p, cfg, err := s.oidc.discover(r.Context())
	if err != nil {
		s.auditLoginFail(r, "", methodOIDC, "identity provider unreachable")
		s.render(w, r, http.StatusServiceUnavailable, "down", map[string]any{
			"Issuer": cfg.OIDC.Issuer, "BreakGlass": len(cfg.BreakGlass) > 0})
		return
	}
	pl := preLogin{State: newID(), Nonce: newID(), Verifier: oauth2.GenerateVerifier(),
		Return: safeReturn(r.URL.Query().Get("return")), Expires: s.now().Add(preLoginTTL)}
	id := newID()
	if err := s.store.put(bucketLogins, id, &pl); err != nil {
		s.log.Error("web pre-login store failed", "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, "Login is unavailable right now.")
		return
	}
	setCookie(w, PreLoginCookie, id, int(preLoginTTL/time.Second))
	u := oauth2Config(p, cfg).AuthCodeURL(pl.State, oidc.Nonce(pl.Nonce), oauth2.S256ChallengeOption(pl.Verifier))
	http.Redirect(w, r, u, http.StatusFound)
}

// authCallback finishes the code flow: state bound to this browser, code
// exchanged with the PKCE verifier, ID token verified (signature, issuer,
// audience, expiry) and its nonce checked, roles derived from the groups.
func (s *Server) authCallback(w http.ResponseWriter, r *http.Request) {
	if s.oidc == nil {
		s.errorPage(w, r, http.StatusNotFound, "Single sign-on is not configured.")
		return
	}
	fail := func(status int, reason, user string) {
		s.auditLoginFail(r, user, methodOIDC, reason)
		s.render(w, r, status, "error", map[string]any{
			"Message": "Login failed. Start again from the login page.", "Retry": true})
	}
	setCookie(w, PreLoginCookie, "", -1)
	var plID string
	if c, err := r.Cookie(PreLoginCookie); err == nil {
		plID = c.Value
	}
	pl, err := s.store.takePreLogin(plID, s.now())
	if err != nil {
		fail(http.StatusBadRequest, "no login in progress in this browser (missing, expired or reused state)", "")
		return
	}
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(pl.State)) != 1 {
		fail(http.StatusBadRequest, "state does not match this browser's login", "")
		return
	}
	if e := q.Get("error"); e != "" {
		fail(http.StatusForbidden, "provider refused: "+truncate(e, 64), "")
		return
	}
	p, cfg, err := s.oidc.discover(r.Context())
	if err != nil {
		s.render(w, r, http.StatusServiceUnavailable, "down", map[string]any{
			"Issuer": cfg.OIDC.Issuer, "BreakGlass": len(cfg.BreakGlass) > 0})
		return
	}
	id, tok, lf := s.exchangeCode(r, pl, p, cfg)
	if lf != nil {
		s.auditLoginFail(r, "", methodOIDC, lf.reason)
		msg := lf.page
		if msg == "" {
			msg = "Login failed. Start again from the login page."
		}
		s.render(w, r, lf.status, "error", map[string]any{"Message": msg, "Retry": true})
		return
	}
	if _, err := s.ssoRoles(id); errors.Is(err, service.ErrLocked) {
		s.auditLoginFail(r, id.User, methodOIDC, "refused: "+service.Message(err))
		s.errorPage(w, r, http.StatusForbidden, "You may not log in to bmcgate now: "+service.Message(err)+".")
		return
	} else if err != nil {
		s.refuseNoRoles(w, r, id)
		return
	}
	ss, err := s.startSession(w, r, Session{User: id.User, Subject: id.Subject, Email: id.Email, Groups: id.Groups,
		Method: methodOIDC, RefreshToken: tok.RefreshToken})
	if err != nil {
		s.loginNotStarted(w, r, id.User, methodOIDC, err)
		return
	}
	if err := s.syncTokenGroups(ss.User, ss.Groups); err != nil {
		s.log.Warn("updating the groups of API tokens failed", "user", ss.User, "err", err)
	}
	s.auditLogin(r, ss)
	http.Redirect(w, r, safeReturn(pl.Return), http.StatusSeeOther)
}

// loginFailure is why a callback did not log in: the status, the reason
// for the audit record and, when there is more to say than "start again",
// the page's text. Neither text ever holds a token.
type loginFailure struct {
	status       int
	reason, page string
}

// refuseNoRoles answers and audits a provider user whose groups and name
// give no bmcgate role, naming the groups claim when the provider sent none.
func (s *Server) refuseNoRoles(w http.ResponseWriter, r *http.Request, id identity) {
	if id.NoGroups != nil {
		s.auditLoginFail(r, id.User, methodOIDC, "no bmcgate role: "+id.NoGroups.Error())
		s.errorPage(w, r, http.StatusForbidden, "You are signed in at the identity provider, but no bmcgate role is yours: "+
			strings.TrimPrefix(id.NoGroups.page(), "Login failed: "))
		return
	}
	s.auditLoginFail(r, id.User, methodOIDC, "no bmcgate role for groups "+strings.Join(id.Groups, ","))
	s.errorPage(w, r, http.StatusForbidden, "You are signed in at the identity provider, but none of your groups gives you access to bmcgate.")
}

// exchangeCode trades the callback's code for tokens, verifies the ID
// token (signature, audience, expiry, this login's nonce) and reads the
// user's claims (ID token, and userinfo when needed).
func (s *Server) exchangeCode(r *http.Request, pl preLogin, p *oidc.Provider, cfg configs.Web) (identity, *oauth2.Token, *loginFailure) {
	ctx := oidc.ClientContext(r.Context(), s.hc)
	tok, err := oauth2Config(p, cfg).Exchange(ctx, r.URL.Query().Get("code"), oauth2.VerifierOption(pl.Verifier))
	if err != nil {
		s.log.Warn("OIDC code exchange failed", "err", err)
		return identity{}, nil, &loginFailure{status: http.StatusBadGateway, reason: "code exchange failed"}
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return identity{}, nil, &loginFailure{status: http.StatusBadGateway, reason: "no id_token in the token response"}
	}
	idt, err := idVerifier(p, cfg, s.now).Verify(ctx, raw)
	if err != nil {
		s.log.Warn("OIDC id_token rejected", "err", err)
		return identity{}, nil, &loginFailure{status: http.StatusForbidden, reason: "id_token rejected: " + verifyReason(err)}
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(pl.Nonce)) != 1 {
		return identity{}, nil, &loginFailure{status: http.StatusForbidden, reason: "id_token nonce does not match this login"}
	}
	id, err := s.providerIdentity(r.Context(), p, cfg.OIDC, tok, idt)
	var mc *missingClaimError
	switch {
	case errors.As(err, &mc):
		return identity{}, nil, &loginFailure{status: http.StatusForbidden, reason: mc.Error(), page: mc.page()}
	case err != nil:
		return identity{}, nil, &loginFailure{status: http.StatusBadGateway, reason: err.Error(),
			page: "Login failed: the identity provider's answer about you could not be used (" + err.Error() + "). Try again, or ask an administrator."}
	}
	return id, tok, nil
}

// verifyReason is a short, stable reason for the audit log.
func verifyReason(err error) string {
	var exp *oidc.TokenExpiredError
	var mc *missingClaimError
	var et errText
	msg := err.Error()
	switch {
	case errors.As(err, &mc):
		return mc.Error()
	case errors.As(err, &et):
		return string(et)
	case errors.Is(err, errNoRoles):
		return errNoRoles.Error()
	case errors.As(err, &exp):
		return "expired"
	case strings.Contains(msg, "issuer") || strings.Contains(msg, "different provider"):
		return "wrong issuer"
	case strings.Contains(msg, "audience"):
		return "wrong audience"
	case strings.Contains(msg, "signature") || strings.Contains(msg, "algorithm") || strings.Contains(msg, "malformed"):
		return "bad signature or algorithm"
	}
	return "invalid token"
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// logout revokes the session server-side (POST with CSRF token).
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	ss := SessionFrom(r.Context())
	s.endSession(w, r)
	if ss != nil {
		s.auditSession(r.Context(), ss, audit.CodeAuthLogout, "logged out", r)
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// auditLogin records a successful login and the session start.
func (s *Server) auditLogin(r *http.Request, ss *Session) {
	s.auditSessionWith(r.Context(), ss, audit.CodeAuthLogin, "roles "+strings.Join(s.sessionRoles(r, ss), ","), r, loginFields(ss))
}

// loginFields are what a login record adds: the provider's subject, the
// email address and the groups, as the provider sent them.
func loginFields(ss *Session) map[string]string {
	f := map[string]string{}
	if ss.Subject != "" {
		f["subject"] = ss.Subject
	}
	if ss.Email != "" {
		f["email"] = ss.Email
	}
	if ss.Method == methodOIDC {
		f["groups"] = truncate(strings.Join(ss.Groups, ","), 1024)
	}
	return f
}

// auditLoginFail records a failed login, aggregated (see note): reasons
// are stable texts, with no per-attempt detail.
func (s *Server) auditLoginFail(r *http.Request, user, method, reason string) {
	rec := audit.Record{Code: audit.CodeAuthFail, Actor: user, Door: audit.DoorWeb, Source: remoteIP(r),
		Outcome: audit.OutcomeFail, Reason: reason, Fields: map[string]string{"method": method}}
	if method == methodBreakGlass {
		rec.Fields["breakglass"] = "true"
	}
	s.note(r, method+": "+reason, rec)
}
