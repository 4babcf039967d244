package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/service"
	bolt "go.etcd.io/bbolt"
)

// webSessionPrefix starts the id moderators see for a web login: its
// public handle, never the cookie.
const webSessionPrefix = "web-"

// LiveSessions lists the web logins in use, for moderators
// (service.SessionDoor).
func (s *Server) LiveSessions() []service.LiveSession {
	now := s.now()
	idle := s.cfg.Load().Session.IdleTimeout.Duration
	var out []service.LiveSession
	_ = s.store.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).ForEach(func(_, v []byte) error {
			var ss Session
			if json.Unmarshal(v, &ss) == nil && ss.Ended == "" && !ss.expired(now, idle) {
				out = append(out, service.LiveSession{ID: webSessionPrefix + ss.Handle, User: ss.User, Door: audit.DoorWeb,
					Auth: ss.Method, Since: ss.Created})
			}
			return nil
		})
	})
	return out
}

// Terminate ends the web login whose moderator id is id: its next request
// shows why, its BMC web UI sessions end now. It reports whether there was
// one.
func (s *Server) Terminate(id, why string) bool {
	h, ok := strings.CutPrefix(id, webSessionPrefix)
	if !ok || h == "" {
		return false
	}
	var ended *Session
	keys := s.store.sessionKeys(func(ss *Session) bool { return ss.Handle == h && ss.Ended == "" })
	for _, k := range keys {
		var ss Session
		if s.store.getKey(k, &ss) != nil {
			continue
		}
		tomb := ss.tombstone(why)
		if err := s.store.putKey(k, &tomb); err != nil {
			_ = s.store.deleteKey(k)
		}
		ended = &ss
	}
	if ended == nil {
		return false
	}
	ctx := context.Background()
	s.auditEnded(ctx, ended, why, "")
	s.bmc.Recheck(ctx)
	return true
}

// sessionsPage lists the live sessions of every door (session.join), with
// a form to end one (session.terminate).
func (s *Server) sessionsPage(w http.ResponseWriter, r *http.Request) {
	s.renderSessions(w, r, http.StatusOK, "", "")
}

func (s *Server) renderSessions(w http.ResponseWriter, r *http.Request, status int, done, problem string) {
	c, _ := CallerFrom(r.Context())
	list, err := s.svc.Sessions(r.Context(), c)
	if err != nil {
		s.errorPage(w, r, http.StatusForbidden, service.Message(err))
		return
	}
	s.render(w, r, status, "sessions", map[string]any{"Sessions": list, "Done": done, "Error": problem,
		"Terminate": s.svc.Allowed(c, "session.terminate")})
}

// sessionTerminate ends the session the form names.
func (s *Server) sessionTerminate(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	id := r.PostFormValue("id")
	if err := s.svc.Terminate(r.Context(), c, id, r.PostFormValue("reason")); err != nil {
		s.renderSessions(w, r, http.StatusBadRequest, "", service.Message(err))
		return
	}
	s.renderSessions(w, r, http.StatusOK, "Session "+id+" was terminated.", "")
}
