package bmchost

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/httpfront"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/proxy/webui"
)

// Cookie is the host-only cookie of a BMC web UI host. Its __Host-
// prefix makes browsers keep it to the one BMC host that set it.
const Cookie = "__Host-bmcgate-bmc"

// GatewayCookiePrefix starts every cookie the gateway sets; all are removed
// from requests before they are forwarded to a BMC.
const GatewayCookiePrefix = "__Host-bmcgate"

// enterPath is the BMC-host endpoint that redeems a ticket; reservedPrefix
// is the BMC-host path space the gateway keeps for itself.
const (
	enterPath      = "/.bmcgate/enter"
	reservedPrefix = "/.bmcgate/"
)

// Values of Allowed: the BMC's certificate is verified (pinned or by a CA),
// or verification is off and the page flags it.
const (
	Verified = "verified"
	Insecure = "insecure"
)

// UI is one BMC's web UI broker: its proxy and, when the gateway logs in
// to the BMC's UI, the pool of BMC-side sessions (nil otherwise).
type UI struct {
	Proxy *webui.Proxy
	Pool  *webui.Pool
}

// UIs are the BMC web UI brokers the BMC hosts route to; the gateway
// builds them from config and swaps them on reload.
type UIs interface {
	// UI returns the broker of the BMC called name.
	UI(name string) (UI, bool)
	// Release logs out the BMC-side sessions held for a user session key
	// on every BMC.
	Release(ctx context.Context, key string)
}

// Service is the subset of the service layer (*service.Service) the
// BMC hosts use: deciding web.access and the other web-UI actions for a
// caller, and their audit records.
type Service interface {
	Audit(ctx context.Context, r audit.Record) error
	AuditQueued(ctx context.Context, r audit.Record) error
	Resolve(c service.Caller) (authz.Principal, error)
	Decide(ctx context.Context, c service.Caller, a authz.Action, t authz.Target) (authz.Decision, error)
	Permits(c service.Caller, a authz.Action, name string) (authz.Decision, *service.BMC)
}

// User is a user session of the main door as a BMC host sees it.
type User struct {
	// Caller is the session's caller (door web) for the request it was
	// read for.
	Caller service.Caller
	// Name is the user's name, for audit records.
	Name string
	// Expires is the session's absolute end; no BMC-host session outlives
	// it.
	Expires time.Time
	// Fresh reports whether this copy still stands for the session, so a
	// request on the BMC host need not read it again (nil: never). The
	// main door decides: it knows its store, lifetimes and refreshes.
	Fresh func() bool
}

// Users is the main door's side of the hand-off: the user session a
// ticket names.
type Users interface {
	// User reads the live user session id for request r as the main
	// door's own requests do (idle and absolute lifetime, OpenID refresh,
	// revocation); an ended session is an error.
	User(r *http.Request, id string) (User, error)
	// Check reads the user session id without touching it, for the
	// periodic re-check: its caller (no source) while it is live, else
	// why it ended.
	Check(id string) (c service.Caller, ended string)
}

// Options configure the BMC hosts.
type Options struct {
	Config  func() *configs.Web // the current web section
	Service Service
	Users   Users
	Front   httpfront.Front // shared with the main door: one refusal aggregator
	// TLS is the BMC hosts' TLS configuration (wildcard certificate,
	// HTTP/1.1 only); nil when web.proxy_domain is off.
	TLS *tls.Config
	// Server holds the timeouts, header bound and error log the
	// web.proxy_ports listeners copy from the main listener.
	Server *http.Server
	// Track counts a listener's requests, so the main door's shutdown
	// waits for their records.
	Track  func(http.Handler) http.Handler
	Logger *slog.Logger
	Now    func() time.Time
}

// Hosts is the state of the BMC web UI hosts: the brokers, the tickets
// in flight and the BMC-host sessions.
type Hosts struct {
	cfg   func() *configs.Web
	svc   Service
	users Users
	front httpfront.Front
	track func(http.Handler) http.Handler
	log   *slog.Logger
	now   func() time.Time

	mu      sync.Mutex
	uis     UIs
	tickets map[[32]byte]ticket
	hosts   map[[32]byte]*hostSession
	ports   []*portListener // web.proxy_ports, fixed at start (ports.go)
}

// New prepares the BMC-host state and, with o.TLS, the
// web.proxy_ports listeners (not yet listening).
func New(o Options) *Hosts {
	h := &Hosts{cfg: o.Config, svc: o.Service, users: o.Users, front: o.Front, track: o.Track,
		log: o.Logger, now: o.Now, tickets: map[[32]byte]ticket{}, hosts: map[[32]byte]*hostSession{}}
	if o.TLS != nil {
		h.setupPorts(h.cfg(), o.TLS, o.Server)
	}
	return h
}

// SetUIs installs (or, on reload, replaces) the BMC web UI brokers.
func (h *Hosts) SetUIs(u UIs) {
	h.mu.Lock()
	h.uis = u
	h.mu.Unlock()
	h.Recheck(context.Background())
}

func (h *Hosts) ui(name string) (UI, bool) {
	h.mu.Lock()
	u := h.uis
	h.mu.Unlock()
	if u == nil {
		return UI{}, false
	}
	return u.UI(name)
}

// Allowed reports, for showing "Open web UI" buttons, which of the named
// BMCs have a web UI through bmcgate that the caller may open, and whether
// the BMC's certificate is verified (Verified, Insecure). It is
// a query, not a decision: opening is decided and recorded at the BMC
// host.
func (h *Hosts) Allowed(c service.Caller, names ...string) map[string]string {
	out := map[string]string{}
	w := h.cfg()
	for _, n := range names {
		if w.BMCHost(n) == "" {
			continue
		}
		ui, ok := h.ui(n)
		if !ok {
			continue
		}
		if d, _ := h.svc.Permits(c, authz.WebAccess, n); d.Allowed {
			out[n] = Verified
			if ui.Proxy.Insecure() {
				out[n] = Insecure
			}
		}
	}
	return out
}

// Has reports whether the BMC called name has a web UI through bmcgate.
func (h *Hosts) Has(name string) bool {
	_, ok := h.ui(name)
	return ok && h.cfg().BMCHost(name) != ""
}
