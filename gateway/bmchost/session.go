package bmchost

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/gateway/httpfront"
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
	cached  atomic.Pointer[User] // the user session, as last read
}

// userOf returns the user session of BMC-host session hs: the copy read
// by the last request while the main door says it is fresh (so a request
// reads and decodes nothing from the session store) and the current
// config still lets its identity act, else a new read.
func (h *Hosts) userOf(r *http.Request, hs *hostSession) (User, error) {
	if c := hs.cached.Load(); c != nil && c.Fresh != nil && c.Fresh() {
		u := *c
		u.Caller.Source = httpfront.RemoteIP(r)
		if _, err := h.svc.Resolve(u.Caller); !errors.Is(err, service.ErrRevoked) {
			return u, nil
		}
	}
	u, err := h.users.User(r, hs.userID)
	if err != nil {
		hs.cached.Store(nil)
		return User{}, err
	}
	hs.cached.Store(&u)
	return u, nil
}

// errSessionEnded is the cause of a BMC-host session's end.
var errSessionEnded = errors.New("the bmcgate session ended")

// secretKey is the map key of a random secret: its SHA-256, so the
// secrets themselves are not kept.
func secretKey(v string) [32]byte { return sha256.Sum256([]byte(v)) }

// newSecret returns 32 random bytes, base64url: a ticket or a BMC-host
// cookie.
func newSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// newHostSession opens a BMC-host session and returns its cookie value.
func (h *Hosts) newHostSession(userID string, u User, bmc, source string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	for k, x := range h.hosts {
		if now.After(x.expires) || x.ctx.Err() != nil {
			x.cancel(errSessionEnded)
			delete(h.hosts, k)
		}
	}
	if len(h.hosts) >= maxHostSessions {
		return "", errors.New("too many BMC web UI sessions")
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	v := newSecret()
	h.hosts[secretKey(v)] = &hostSession{userID: userID, handle: u.Caller.Session, user: u.Name, bmc: bmc,
		source: source, expires: u.Expires, ctx: ctx, cancel: cancel}
	return v, nil
}

// hostSession returns the live BMC-host session of cookie value v on bmc.
// A cookie of another BMC host is no session here.
func (h *Hosts) hostSession(v, bmc string) *hostSession {
	if v == "" {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	hs := h.hosts[secretKey(v)]
	if hs == nil || hs.bmc != bmc || hs.ctx.Err() != nil || h.now().After(hs.expires) {
		return nil
	}
	return hs
}

// endHostSessions ends the BMC-host sessions match selects, cancels their
// requests and websockets, and logs out the BMC-side sessions they used.
func (h *Hosts) endHostSessions(ctx context.Context, reason string, match func(*hostSession) bool) {
	h.mu.Lock()
	var ended []*hostSession
	for k, x := range h.hosts {
		if match(x) {
			x.cancel(errSessionEnded)
			delete(h.hosts, k)
			ended = append(ended, x)
		}
	}
	uis := h.uis
	h.mu.Unlock()
	released := map[string]bool{}
	for _, x := range ended {
		rec := audit.Record{Code: audit.CodeSessionEnd, Actor: x.user, Door: audit.DoorWeb, Source: x.source,
			Session: x.handle, Target: x.bmc, Outcome: audit.OutcomeOK, Reason: "BMC web UI session ended: " + reason}
		_ = h.svc.Audit(ctx, rec)
		if uis != nil && !released[x.handle] {
			released[x.handle] = true
			uis.Release(ctx, x.handle)
		}
	}
}

// EndUser ends every BMC-host session of the user session userID (the
// main door's logout, revocation or end of that session).
func (h *Hosts) EndUser(ctx context.Context, userID, reason string) {
	h.endHostSessions(ctx, reason, func(x *hostSession) bool { return x.userID == userID })
}

// Recheck ends BMC-host sessions whose user session has ended or whose
// user has lost web.access on the BMC (after a reload, a role change at
// refresh, an expiry). The refusal is recorded as a decision.
func (h *Hosts) Recheck(ctx context.Context) {
	h.mu.Lock()
	live := make([]*hostSession, 0, len(h.hosts))
	for _, x := range h.hosts {
		live = append(live, x)
	}
	h.mu.Unlock()
	dead := map[*hostSession]string{}
	for _, x := range live {
		c, ended := h.users.Check(x.userID)
		if ended != "" {
			dead[x] = ended
			continue
		}
		c.Source = x.source
		if d, b := h.svc.Permits(c, authz.WebAccess, x.bmc); !d.Allowed {
			if b != nil {
				_, _ = h.svc.Decide(ctx, c, authz.WebAccess, b.Target()) // records the refusal
			}
			dead[x] = "web.access withdrawn"
		}
	}
	for x, why := range dead {
		h.endHostSessions(ctx, why, func(y *hostSession) bool { return y == x })
	}
}

// Run re-checks the BMC-host sessions periodically until ctx ends, then
// ends them all.
func (h *Hosts) Run(ctx context.Context) {
	t := time.NewTicker(recheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			h.endHostSessions(context.WithoutCancel(ctx), "gateway stopping", func(*hostSession) bool { return true })
			return
		case <-t.C:
			h.Recheck(ctx)
		}
	}
}
