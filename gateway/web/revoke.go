package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/service"
	bolt "go.etcd.io/bbolt"
)

// identity is who the session's user is, for the service layer to resolve under the
// current config.
func (s *Session) identity() service.Identity {
	if s.BreakGlass() {
		return service.Identity{Name: s.User, Source: service.SourceBreakGlass}
	}
	return service.Identity{Name: s.User, Source: service.SourceSSO, Groups: s.Groups}
}

// tombstone is what is kept of a session the gateway ended: who, when,
// and why, without its CSRF or refresh tokens.
func (s *Session) tombstone(why string) Session {
	return Session{Handle: s.Handle, User: s.User, Method: s.Method, Ended: why,
		Created: s.Created, LastSeen: s.LastSeen, Expires: s.Expires}
}

// sessionRoles are the roles the current config gives the session's user
// (for the login and refresh records).
func (s *Server) sessionRoles(r *http.Request, ss *Session) []string {
	p, _ := s.svc.Resolve(sessionCaller(ss, audit.DoorWeb, r))
	return p.Roles
}

// sessionEnded is the answer for a session the gateway ended because the
// current config no longer lets its user act.
type sessionEnded struct{ why string }

func (e *sessionEnded) Error() string { return "session ended: " + e.why }

// page is the text of the page the next request of the session gets.
func (e *sessionEnded) page() string {
	return "Your bmcgate session was ended: " + e.why + "."
}

// checkIdentity resolves the session's identity under the current config:
// a session whose user may no longer act ends now, server-side, with its
// BMC web UI sessions, and the request is answered with the reason.
func (s *Server) checkIdentity(r *http.Request, id string, ss *Session) error {
	_, err := s.svc.Resolve(sessionCaller(ss, audit.DoorWeb, r))
	if !errors.Is(err, service.ErrRevoked) {
		return nil
	}
	why := service.Message(err)
	tomb := ss.tombstone(why)
	if err := s.store.put(bucketSessions, id, &tomb); err != nil {
		_ = s.store.delete(bucketSessions, id)
	}
	s.auditEnded(r.Context(), ss, why, remoteIP(r))
	s.bmc.EndUser(r.Context(), id, "the bmcgate session ended: "+why)
	return &sessionEnded{why: why}
}

// auditEnded records the end of a session the gateway ended.
func (s *Server) auditEnded(ctx context.Context, ss *Session, why, source string) {
	rec := audit.Record{Code: audit.CodeSessionEnd, Actor: ss.User, Door: audit.DoorWeb, Source: source,
		Session: ss.Handle, Outcome: audit.OutcomeDeny, Reason: "ended by the gateway: " + why,
		Fields: map[string]string{"method": ss.Method}}
	if ss.BreakGlass() {
		rec.Fields["breakglass"] = "true"
	}
	_ = s.svc.Audit(ctx, rec)
}

// revokeSessions ends, server-side, every stored session whose identity the
// current config no longer lets act (a reload disabled or removed the
// account, or left the user's groups without a role). Each becomes a
// tombstone holding only the reason, which the session's next request
// shows; the BMC web UI sessions and websockets opened from it end with it.
// Sessions whose user merely lost roles stay: every request is decided
// under the current roles.
func (s *Server) revokeSessions(ctx context.Context) {
	var ended []Session // tombstones
	defer s.store.epoch.Add(1)
	err := s.store.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		type kv struct{ k, v []byte }
		var changed []kv
		err := b.ForEach(func(k, v []byte) error {
			var ss Session
			if json.Unmarshal(v, &ss) != nil || ss.Ended != "" {
				return nil
			}
			_, err := s.svc.Resolve(service.Caller{Identity: ss.identity(), Door: audit.DoorWeb})
			if !errors.Is(err, service.ErrRevoked) {
				return nil
			}
			tomb := ss.tombstone(service.Message(err))
			ended = append(ended, tomb)
			data, err := json.Marshal(&tomb)
			if err != nil {
				return err
			}
			changed = append(changed, kv{append([]byte(nil), k...), data})
			return nil
		})
		if err != nil {
			return err
		}
		for _, c := range changed {
			if err := b.Put(c.k, c.v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.log.Error("ending revoked web sessions failed", "err", err)
		return
	}
	for i := range ended {
		tomb := &ended[i]
		s.log.Info("ended a web session", "user", tomb.User, "session", tomb.Handle, "reason", tomb.Ended)
		s.auditEnded(ctx, tomb, tomb.Ended, "")
	}
}

// identityActive refuses a bearer credential (personal token or provider
// JWT) whose identity the current config no longer lets act: the owner's
// groups map to no role. The refusal is recorded and answered with why.
func (s *Server) identityActive(w http.ResponseWriter, r *http.Request, c service.Caller) bool {
	_, err := s.svc.Resolve(c)
	if !errors.Is(err, service.ErrRevoked) {
		return true
	}
	_ = s.svc.Audit(r.Context(), audit.Record{Code: audit.CodeAuthFail, Actor: c.Name(), Door: c.Door, Source: c.Source,
		Session: c.Session, Outcome: audit.OutcomeFail, Reason: c.Auth + " refused: " + service.Message(err),
		Fields: map[string]string{"path": r.URL.Path}})
	w.Header().Set("WWW-Authenticate", `Bearer realm="bmcgate"`)
	apiError(w, http.StatusUnauthorized, "unauthorized", "refused: "+service.Message(err))
	return false
}
