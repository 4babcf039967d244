package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/gateway/service"
	bolt "go.etcd.io/bbolt"
)

// tokenPrefix starts every personal API token, so scanners can find leaked
// ones and the API can tell them from OIDC tokens.
const tokenPrefix = "bmcg_"

// tokenActions are the actions a personal token may be scoped to.
var tokenActions = []authz.Action{authz.BMCList, authz.BMCInfo, authz.PowerStatus, authz.SensorsRead,
	authz.SELRead, authz.PowerOn, authz.PowerOff, authz.PowerCycle, authz.PowerReset, authz.PowerSoft, authz.AuditRead}

// apiToken is a personal API token as stored (keyed by the token's hash;
// the token itself is shown once and never stored).
type apiToken struct {
	ID      string    `json:"id"` // public handle
	Name    string    `json:"name"`
	User    string    `json:"user"`
	Groups  []string  `json:"groups"` // the owner's provider groups at their last login or refresh
	Method  string    `json:"method"`
	Actions []string  `json:"actions"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

// caller is the token's caller: its owner, with the roles the owner's
// groups map to under the current config, narrowed to the token's actions.
func (t *apiToken) caller(r *http.Request) service.Caller {
	scope := make([]authz.Action, len(t.Actions))
	for i, a := range t.Actions {
		scope[i] = authz.Action(a)
	}
	return service.Caller{Identity: service.Identity{Name: t.User, Source: service.SourceSSO, Groups: t.Groups, Scope: scope},
		Door: audit.DoorAPI, Source: remoteIP(r), Session: "token-" + t.ID, Auth: "personal API token " + t.ID}
}

// lookupToken finds a valid personal token.
func (s *Server) lookupToken(raw string) (*apiToken, error) {
	var t apiToken
	if err := s.store.get(bucketTokens, raw, &t); err != nil {
		return nil, errText("personal token unknown or revoked")
	}
	if s.now().After(t.Expires) {
		return nil, errText("personal token " + t.ID + " expired")
	}
	return &t, nil
}

// userTokens lists a user's tokens, newest first.
func (s *Server) userTokens(user string) []apiToken {
	var out []apiToken
	_ = s.store.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTokens).ForEach(func(_, v []byte) error {
			var t apiToken
			if json.Unmarshal(v, &t) == nil && t.User == user {
				out = append(out, t)
			}
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out
}

func (s *Server) tokensPage(w http.ResponseWriter, r *http.Request) {
	s.renderTokens(w, r, http.StatusOK, "", "")
}

func (s *Server) renderTokens(w http.ResponseWriter, r *http.Request, status int, created, problem string) {
	ss := SessionFrom(r.Context())
	acts := make([]string, len(tokenActions))
	for i, a := range tokenActions {
		acts[i] = string(a)
	}
	s.render(w, r, status, "tokens", map[string]any{"Tokens": s.userTokens(ss.User), "Actions": acts,
		"Created": created, "Error": problem, "MaxDays": int(s.cfg.Load().APITokens.MaxLifetime.Hours() / 24)})
}

// tokenCreate makes a token scoped to the chosen actions (only actions the
// user's roles could ever allow are meaningful; the service layer still decides each call).
func (s *Server) tokenCreate(w http.ResponseWriter, r *http.Request) {
	ss := SessionFrom(r.Context())
	c, _ := CallerFrom(r.Context())
	if ss.BreakGlass() {
		// Emergency access ends with the emergency: no long-lived credentials.
		s.renderTokens(w, r, http.StatusForbidden, "", "Break-glass sessions cannot create API tokens.")
		return
	}
	name := r.PostFormValue("name")
	if name == "" || len(name) > 64 {
		s.renderTokens(w, r, http.StatusBadRequest, "", "Give the token a name of 1 to 64 characters.")
		return
	}
	var acts []string
	for _, a := range r.PostForm["action"] {
		if !slices.Contains(tokenActions, authz.Action(a)) {
			s.renderTokens(w, r, http.StatusBadRequest, "", "Unknown action.")
			return
		}
		acts = append(acts, a)
	}
	if len(acts) == 0 {
		s.renderTokens(w, r, http.StatusBadRequest, "", "Choose at least one action.")
		return
	}
	max := s.cfg.Load().APITokens.MaxLifetime.Duration
	days, err := strconv.Atoi(r.PostFormValue("days"))
	if err != nil || days < 1 || time.Duration(days)*24*time.Hour > max+time.Hour {
		s.renderTokens(w, r, http.StatusBadRequest, "", "Expiry must be 1 to "+strconv.Itoa(int(max.Hours()/24))+" days.")
		return
	}
	raw := tokenPrefix + newID()
	now := s.now()
	t := apiToken{ID: handle(raw), Name: name, User: ss.User, Groups: ss.Groups, Method: ss.Method,
		Actions: acts, Created: now, Expires: now.Add(time.Duration(days) * 24 * time.Hour)}
	if err := s.store.put(bucketTokens, raw, &t); err != nil {
		s.log.Error("token store failed", "err", err)
		s.renderTokens(w, r, http.StatusInternalServerError, "", "Could not create the token.")
		return
	}
	_ = s.svc.Audit(r.Context(), audit.Record{Code: audit.CodeTokenCreate, Actor: c.Name(), Door: c.Door,
		Source: c.Source, Session: c.Session, Outcome: audit.OutcomeOK, Reason: "token " + t.ID + " " + name,
		Fields: map[string]string{"token": t.ID, "actions": jsonList(acts), "expires": t.Expires.UTC().Format(time.RFC3339)}})
	s.renderTokens(w, r, http.StatusOK, raw, "")
}

// tokenRevoke deletes one of the user's tokens.
func (s *Server) tokenRevoke(w http.ResponseWriter, r *http.Request) {
	ss := SessionFrom(r.Context())
	c, _ := CallerFrom(r.Context())
	id := r.PathValue("id")
	found := false
	err := s.store.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		var k []byte
		_ = b.ForEach(func(key, v []byte) error {
			var t apiToken
			if json.Unmarshal(v, &t) == nil && t.ID == id && t.User == ss.User {
				k = append([]byte(nil), key...)
			}
			return nil
		})
		if k == nil {
			return nil
		}
		found = true
		return b.Delete(k)
	})
	if err != nil || !found {
		s.renderTokens(w, r, http.StatusNotFound, "", "No such token.")
		return
	}
	_ = s.svc.Audit(r.Context(), audit.Record{Code: audit.CodeTokenRevoke, Actor: c.Name(), Door: c.Door,
		Source: c.Source, Session: c.Session, Outcome: audit.OutcomeOK, Reason: "token " + id,
		Fields: map[string]string{"token": id}})
	http.Redirect(w, r, "/tokens", http.StatusSeeOther)
}

func jsonList(v []string) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// syncTokenGroups gives a user's tokens the provider groups of their latest
// login or session refresh, so a token never keeps groups its owner lost at
// the identity provider for longer than the owner's sessions do. The roles
// those groups give are looked up in the current config at every request.
func (s *Server) syncTokenGroups(user string, groups []string) error {
	return s.store.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		type kv struct{ k, v []byte }
		var changed []kv
		err := b.ForEach(func(k, v []byte) error {
			var t apiToken
			if json.Unmarshal(v, &t) != nil || t.User != user || slices.Equal(t.Groups, groups) {
				return nil
			}
			t.Groups = groups
			data, err := json.Marshal(&t)
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
}
