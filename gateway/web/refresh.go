package web

import (
	"context"
	"fmt"
	"net/http"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// refreshDue re-checks an OIDC session with the provider when its refresh
// interval has passed: the refresh token grant gives a new ID token whose
// groups give the session's roles again, so a user whose groups shrank
// loses the roles now. Without a refresh token (the provider issued none:
// add offline_access to the scopes) the session ends and the user logs in
// again. It reports whether the session may continue; the caller stores it.
func (s *Server) refreshDue(r *http.Request, ss *Session) bool {
	if ss.Method != methodOIDC || s.oidc == nil || !s.now().After(ss.RefreshAt) {
		return true
	}
	return s.refreshLogin(r.Context(), ss, r)
}

// refresh runs the refresh token grant and re-derives the roles.
func (s *Server) refresh(ctx context.Context, ss *Session) error {
	p, cfg, err := s.oidc.discover(ctx)
	if err != nil {
		return err
	}
	ctx = oidc.ClientContext(ctx, s.hc)
	src := oauth2Config(p, cfg).TokenSource(ctx, &oauth2.Token{RefreshToken: ss.RefreshToken})
	tok, err := src.Token()
	if err != nil {
		return fmt.Errorf("refresh grant: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return errText("no id_token in the refresh response")
	}
	idt, err := idVerifier(p, cfg, s.now).Verify(ctx, raw)
	if err != nil {
		return fmt.Errorf("refreshed id_token: %w", err)
	}
	id, err := s.providerIdentity(ctx, p, cfg.OIDC, tok, idt)
	if err != nil {
		return err
	}
	if id.User != ss.User || ss.Subject != "" && id.Subject != ss.Subject {
		return errText("refreshed id_token names another user")
	}
	if _, err := s.ssoRoles(id); err != nil {
		return err
	}
	ss.Groups, ss.Email = id.Groups, id.Email
	if tok.RefreshToken != "" {
		ss.RefreshToken = tok.RefreshToken
	}
	ss.RefreshAt = s.now().Add(cfg.Session.RefreshInterval.Duration)
	return s.syncTokenGroups(ss.User, ss.Groups)
}
