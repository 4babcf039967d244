package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/coreos/go-oidc/v3/oidc"
)

// CSRFHeader carries the session's CSRF token on state-changing API calls
// made with the session cookie.
const CSRFHeader = "X-CSRF-Token"

// apiAuth authenticates an API request: a bearer token (personal API token
// or an OIDC token from the configured issuer) or the browser session, and
// for a personal token checks that its scope includes action (when the
// action is known before the body is read).
func (s *Server) apiAuth(action authz.Action, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var c service.Caller
		var scope []string
		hdr := r.Header.Get("Authorization")
		var ss *Session
		switch {
		case hdr != "":
			raw, ok := strings.CutPrefix(hdr, "Bearer ")
			if !ok || raw == "" {
				apiError(w, http.StatusUnauthorized, "unauthorized", "use Authorization: Bearer <token>")
				return
			}
			var err error
			if strings.HasPrefix(raw, tokenPrefix) {
				var t *apiToken
				t, err = s.lookupToken(raw)
				if err == nil {
					c = t.caller(r)
					scope = t.Actions
				}
			} else {
				c, err = s.bearerOIDC(r, raw)
			}
			if err != nil {
				s.auditAPIFail(r, err.Error())
				w.Header().Set("WWW-Authenticate", `Bearer realm="bmcgate"`)
				apiError(w, http.StatusUnauthorized, "unauthorized", "the token is not valid")
				return
			}
			if !s.identityActive(w, r, c) {
				return
			}
		default:
			var err error
			ss, _, err = s.session(r)
			var ended *sessionEnded
			if errors.As(err, &ended) {
				apiError(w, http.StatusUnauthorized, "unauthorized", ended.Error())
				return
			}
			if err != nil {
				apiError(w, http.StatusUnauthorized, "unauthorized", "log in or send a bearer token")
				return
			}
			if !safeMethod(r.Method) {
				if err := s.checkCSRF(r, ss, r.Header.Get(CSRFHeader)); err != nil {
					rec := audit.Record{Code: audit.CodeDecision, Actor: ss.User, Door: audit.DoorAPI, Source: remoteIP(r),
						Session: ss.Handle, Outcome: audit.OutcomeDeny, Reason: "request refused: " + err.Error(),
						Fields: map[string]string{"path": r.URL.Path}}
					_ = s.svc.Audit(r.Context(), rec)
					apiError(w, http.StatusForbidden, "csrf", "state-changing requests need the "+CSRFHeader+" header and a same-origin Origin")
					return
				}
			}
			c = sessionCaller(ss, audit.DoorAPI, r)
		}
		r = withCaller(r, c, ss)
		r = r.WithContext(context.WithValue(r.Context(), keyScope, scope))
		if action != "" && !s.tokenAllows(w, r, c, action) {
			return
		}
		next(w, r)
	})
}

// tokenAllows checks a personal token's scope; other callers pass. A
// refusal is audited and answered.
func (s *Server) tokenAllows(w http.ResponseWriter, r *http.Request, c service.Caller, a authz.Action) bool {
	scope, _ := r.Context().Value(keyScope).([]string)
	if scope == nil || slices.Contains(scope, string(a)) {
		return true
	}
	rec := audit.Record{Code: audit.CodeDecision, Actor: c.Name(), Door: c.Door, Source: c.Source,
		Session: c.Session, Target: r.PathValue("name"), Action: string(a), Outcome: audit.OutcomeDeny,
		Reason: "denied: the API token's scope does not include " + string(a)}
	_ = s.svc.Audit(r.Context(), rec)
	apiError(w, http.StatusForbidden, "token_scope", "this API token may not do "+string(a))
	return false
}

// bearerOIDC verifies an access token (JWT) from the configured issuer as
// bearer.go defines one; the user and roles come from its claims.
func (s *Server) bearerOIDC(r *http.Request, raw string) (service.Caller, error) {
	if s.oidc == nil {
		return service.Caller{}, errText("bearer token: single sign-on is not configured")
	}
	p, cfg, err := s.oidc.discover(r.Context())
	if err != nil {
		return service.Caller{}, errText("bearer token: identity provider unreachable")
	}
	if len(raw) > maxBearerLen {
		return service.Caller{}, errText("bearer token rejected: longer than 8 KiB")
	}
	// Signature, issuer and algorithm here; times, type, audience and
	// client by checkBearerClaims (bearer.go), with the configured skew.
	v := p.Verifier(&oidc.Config{SkipClientIDCheck: true, SkipExpiryCheck: true, SupportedSigningAlgs: supportedAlgs, Now: s.now})
	ctx := oidc.ClientContext(r.Context(), s.hc)
	tok, err := v.Verify(ctx, raw)
	if err != nil {
		return service.Caller{}, errText("bearer token rejected: " + verifyReason(err))
	}
	if err := checkBearerType(raw, cfg.OIDC); err != nil {
		return service.Caller{}, err
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return service.Caller{}, errText("bearer token rejected: claims unreadable")
	}
	if err := checkBearerClaims(claims, tok.Audience, cfg.OIDC, s.now()); err != nil {
		return service.Caller{}, err
	}
	id, err := identityFromClaims(claims, cfg)
	if err != nil {
		return service.Caller{}, errText("bearer token rejected: " + err.Error())
	}
	return service.Caller{Identity: id.serviceIdentity(), Door: audit.DoorAPI, Source: remoteIP(r),
		Session: "bearer-" + handle(raw), Auth: "oidc bearer token"}, nil
}

// errText is an error whose text is safe to audit.
type errText string

func (e errText) Error() string { return string(e) }

// auditAPIFail records a refused API credential, aggregated (see note).
func (s *Server) auditAPIFail(r *http.Request, reason string) {
	s.note(r, reason, audit.Record{Code: audit.CodeAuthFail, Door: audit.DoorAPI, Source: remoteIP(r),
		Outcome: audit.OutcomeFail, Reason: reason, Fields: map[string]string{"path": truncate(r.URL.Path, 256)}})
}
