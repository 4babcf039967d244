package web

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

// BMC web UIs are served on a host of their own per BMC,
// <bmc>.<web.proxy_domain>, on the web door's listener. The main host hands
// a logged-in user over to a BMC host with a one-time ticket
// (bmchost_ticket.go); the BMC host then knows the browser by a cookie of its
// own, mapped server-side to the user's session and that BMC
// (bmchost_session.go), and forwards each request through the BMC's proxy
// (bmchost_serve.go). Nothing of the gateway's own pages, API or static files
// is reachable on a BMC host, and the main session cookie is never read
// there.
//
// The BMC hosts know the main door through two narrow contracts: the main
// door asks Issue for a ticket when its logged-in user opens a BMC's web
// UI, and the BMC host, redeeming it, asks the main door's BMCHostUsers for
// the user session the ticket names (and, later, whether it is still live).

// BMCHostCookie is the host-only cookie of a BMC web UI host. Its __Host-
// prefix makes browsers keep it to the one BMC host that set it.
const BMCHostCookie = "__Host-bmcgate-bmc"

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
	WebUIVerified = "verified"
	WebUIInsecure = "insecure"
)

// BMCUI is one BMC's web UI broker: its proxy and, when the gateway logs in
// to the BMC's UI, the pool of BMC-side sessions (nil otherwise).
type BMCUI struct {
	Proxy *webui.Proxy
	Pool  *webui.Pool
}

// BMCUIs are the BMC web UI brokers the BMC hosts route to; the gateway
// builds them from config and swaps them on reload.
type BMCUIs interface {
	// UI returns the broker of the BMC called name.
	UI(name string) (BMCUI, bool)
	// Release logs out the BMC-side sessions held for a user session key
	// on every BMC.
	Release(ctx context.Context, key string)
}

// bmcHostService is the subset of the service layer (*service.Service) the
// BMC hosts use: deciding web.access and the other web-UI actions for a
// caller, and their audit records.
type bmcHostService interface {
	Audit(ctx context.Context, r audit.Record) error
	AuditQueued(ctx context.Context, r audit.Record) error
	Resolve(c service.Caller) (authz.Principal, error)
	Decide(ctx context.Context, c service.Caller, a authz.Action, t authz.Target) (authz.Decision, error)
	Permits(c service.Caller, a authz.Action, name string) (authz.Decision, *service.BMC)
}

// BMCHostUser is a user session of the main door as a BMC host sees it.
type BMCHostUser struct {
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

// BMCHostUsers is the main door's side of the hand-off: the user session a
// ticket names.
type BMCHostUsers interface {
	// User reads the live user session id for request r as the main
	// door's own requests do (idle and absolute lifetime, OpenID refresh,
	// revocation); an ended session is an error.
	User(r *http.Request, id string) (BMCHostUser, error)
	// Check reads the user session id without touching it, for the
	// periodic re-check: its caller (no source) while it is live, else
	// why it ended.
	Check(id string) (c service.Caller, ended string)
}

// bmcHostOptions configure the BMC hosts.
type bmcHostOptions struct {
	Config  func() *configs.Web // the current web section
	Service bmcHostService
	Users   BMCHostUsers
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

// bmcHosts is the state of the BMC web UI hosts: the brokers, the tickets
// in flight and the BMC-host sessions.
type bmcHosts struct {
	cfg   func() *configs.Web
	svc   bmcHostService
	users BMCHostUsers
	front httpfront.Front
	track func(http.Handler) http.Handler
	log   *slog.Logger
	now   func() time.Time

	mu      sync.Mutex
	uis     BMCUIs
	tickets map[[32]byte]ticket
	hosts   map[[32]byte]*hostSession
	ports   []*portListener // web.proxy_ports, fixed at start (bmchost_ports.go)
}

// newBMCHosts prepares the BMC-host state and, with o.TLS, the
// web.proxy_ports listeners (not yet listening).
func newBMCHosts(o bmcHostOptions) *bmcHosts {
	h := &bmcHosts{cfg: o.Config, svc: o.Service, users: o.Users, front: o.Front, track: o.Track,
		log: o.Logger, now: o.Now, tickets: map[[32]byte]ticket{}, hosts: map[[32]byte]*hostSession{}}
	if o.TLS != nil {
		h.setupPorts(h.cfg(), o.TLS, o.Server)
	}
	return h
}

// SetUIs installs (or, on reload, replaces) the BMC web UI brokers.
func (h *bmcHosts) SetUIs(u BMCUIs) {
	h.mu.Lock()
	h.uis = u
	h.mu.Unlock()
	h.Recheck(context.Background())
}

func (h *bmcHosts) ui(name string) (BMCUI, bool) {
	h.mu.Lock()
	u := h.uis
	h.mu.Unlock()
	if u == nil {
		return BMCUI{}, false
	}
	return u.UI(name)
}

// Allowed reports, for showing "Open web UI" buttons, which of the named
// BMCs have a web UI through bmcgate that the caller may open, and whether
// the BMC's certificate is verified (WebUIVerified, WebUIInsecure). It is
// a query, not a decision: opening is decided and recorded at the BMC
// host.
func (h *bmcHosts) Allowed(c service.Caller, names ...string) map[string]string {
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
			out[n] = WebUIVerified
			if ui.Proxy.Insecure() {
				out[n] = WebUIInsecure
			}
		}
	}
	return out
}

// Has reports whether the BMC called name has a web UI through bmcgate.
func (h *bmcHosts) Has(name string) bool {
	_, ok := h.ui(name)
	return ok && h.cfg().BMCHost(name) != ""
}
