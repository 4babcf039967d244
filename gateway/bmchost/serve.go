package bmchost

import (
	"context"
	"html"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/gateway/httpfront"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/internal/usererr"
	"github.com/bmcgate/bmcgate/proxy/webui"
)

// bmcHostDeadline bounds one non-websocket request on a BMC host (firmware
// uploads and large downloads need longer than the door's own pages).
const bmcHostDeadline = 30 * time.Minute

// ServeHost serves one request on the host of the BMC called name ("" for
// a name that cannot be one) once the listener's front has checked its
// connection and Host (httpfront.Front.BMCHostRequest): on its main port
// when port is 0, else on the web.proxy_ports listener of that BMC port.
func (h *Hosts) ServeHost(w http.ResponseWriter, r *http.Request, name string, port int) {
	setBMCHostHeaders(w)
	hr, ok := h.admit(w, r, name, port)
	if !ok {
		return
	}
	h.proxy(w, r, name, port, hr)
}

// hostRequest is a BMC-host request admitted by admit: the BMC's UI, the
// BMC-host session, the caller (its user session's) and the BMC.
type hostRequest struct {
	ui UI
	hs *hostSession
	c  service.Caller
	b  *service.BMC
}

// admit checks a request to a BMC host before anything reaches the
// BMC: the host and port exist, the request is not cross-site, it carries
// a live BMC-host session of a live user session, and the user still has
// web.access. It answers the request itself (and returns false) otherwise;
// the entry path is answered here too.
func (h *Hosts) admit(w http.ResponseWriter, r *http.Request, name string, port int) (hostRequest, bool) {
	ui, ok := h.ui(name)
	if name == "" || !ok {
		h.page(w, http.StatusNotFound, "There is no BMC web UI at this address.")
		return hostRequest{}, false
	}
	if port != 0 && !ui.Proxy.ServesPort(port) {
		h.page(w, http.StatusNotFound, "This BMC has no web UI on this port.")
		return hostRequest{}, false
	}
	if why := httpfront.CrossSiteRefusal(r, h.origins(name)); why != "" {
		h.front.Refusal(r, "BMC host "+name+": "+why)
		h.page(w, http.StatusForbidden, "This BMC's web UI cannot be embedded in or used from another page. Open it from the bmcgate dashboard.")
		return hostRequest{}, false
	}
	if port == 0 && r.URL.Path == enterPath {
		h.enter(w, r, name)
		return hostRequest{}, false
	}
	if strings.HasPrefix(r.URL.Path, reservedPrefix) {
		h.page(w, http.StatusNotFound, "Not found.")
		return hostRequest{}, false
	}
	ck, _ := r.Cookie(Cookie)
	var hs *hostSession
	if ck != nil {
		hs = h.hostSession(ck.Value, name)
	}
	if hs == nil {
		h.page(w, http.StatusUnauthorized, "Open this BMC's web UI from the bmcgate dashboard.")
		return hostRequest{}, false
	}
	u, err := h.userOf(r, hs)
	if err != nil {
		h.EndUser(r.Context(), hs.userID, "the bmcgate session ended")
		h.page(w, http.StatusUnauthorized, "Your bmcgate session has ended. Log in again and open the web UI from the dashboard.")
		return hostRequest{}, false
	}
	c := u.Caller
	d, b := h.svc.Permits(c, authz.WebAccess, name)
	if b == nil || !d.Allowed {
		if b != nil {
			d, _ = h.svc.Decide(r.Context(), c, authz.WebAccess, b.Target()) // records the refusal
		}
		h.endHostSessions(r.Context(), "web.access withdrawn", func(x *hostSession) bool { return x == hs })
		h.page(w, http.StatusForbidden, "You may no longer use this BMC's web UI: "+d.Reason)
		return hostRequest{}, false
	}
	return hostRequest{ui: ui, hs: hs, c: c, b: b}, true
}

// proxy forwards an admitted request through the BMC's proxy, with
// the user's BMC-side session, under the BMC-host session's lifetime.
func (h *Hosts) proxy(w http.ResponseWriter, r *http.Request, name string, port int, hr hostRequest) {
	ui, c, b := hr.ui, hr.c, hr.b
	// Requests and websockets end with the BMC-host session.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(hr.hs.ctx, cancel)
	defer stop()
	r = r.WithContext(ctx)

	var bs *webui.Session
	if ui.Pool != nil {
		var err error
		if bs, err = ui.Pool.Acquire(ctx, hr.c.Session); err != nil {
			h.log.Warn("BMC web login failed", "bmc", name, "err", err)
			h.page(w, http.StatusBadGateway, "bmcgate could not log in to this BMC's web UI: "+usererr.MessageOr(err, "the BMC did not answer as expected"))
			return
		}
	}
	stripGatewayCookies(r)
	rc := http.NewResponseController(w)
	if webui.IsWebsocket(r) {
		_ = rc.SetReadDeadline(time.Time{})
		_ = rc.SetWriteDeadline(time.Time{})
	} else {
		_ = rc.SetReadDeadline(time.Now().Add(bmcHostDeadline))
		_ = rc.SetWriteDeadline(time.Now().Add(bmcHostDeadline))
	}
	host := h.cfg().BMCHost(name)
	portHost := h.portHostFunc(name)
	shown := host // the host the browser used, for the audit record
	if port != 0 {
		shown = portHost(port)
	}
	ui.Proxy.Serve(w, r, webui.Request{
		PublicHost: host,
		Port:       port,
		PortHost:   portHost,
		Session:    bs,
		Authorize: func(op webui.Operation) error {
			// web.access reads were decided when the session opened and
			// are re-checked above on every request; every other action,
			// and each websocket, is decided and recorded here.
			if op.Action == webui.ActionWebAccess && !op.Websocket {
				return nil
			}
			d, err := h.svc.Decide(ctx, c, authz.Action(op.Action), b.Target())
			if err != nil || !d.Allowed {
				// The proxy shows the user the error's message.
				return usererr.New("bmcgate refused this "+op.Action+": "+d.Reason, usererr.ErrDenied)
			}
			return nil
		},
		Audit:  func(sum webui.Summary) { h.auditProxied(context.WithoutCancel(ctx), c, shown, sum, false) },
		Opened: func(sum webui.Summary) { h.auditProxied(context.WithoutCancel(ctx), c, shown, sum, true) },
	})
}

// auditProxied records one proxied request, or a websocket's open or close.
func (h *Hosts) auditProxied(ctx context.Context, c service.Caller, host string, sum webui.Summary, opened bool) {
	code := audit.CodeWebUIRequest
	switch {
	case opened:
		code = audit.CodeWebUIWSOpen
	case sum.Websocket && sum.Status == http.StatusSwitchingProtocols:
		code = audit.CodeWebUIWSClose
	}
	outcome := audit.OutcomeOK
	switch {
	case sum.Refused != "" && sum.Status == http.StatusForbidden:
		outcome = audit.OutcomeDeny
	case sum.Refused != "" || sum.Status >= 500 || sum.Err != nil && sum.Status == 0:
		outcome = audit.OutcomeError
	}
	f := map[string]string{
		"method": sum.Method, "path": sum.Path, "status": strconv.Itoa(sum.Status), "host": host,
		"bytes_in": strconv.FormatInt(sum.BytesIn, 10), "bytes_out": strconv.FormatInt(sum.BytesOut, 10),
	}
	if sum.Operation.Redfish != "" {
		f["redfish"] = sum.Operation.Redfish
	}
	if sum.Operation.ResetType != "" {
		f["reset_type"] = sum.Operation.ResetType
	}
	rec := audit.Record{Code: code, Actor: c.Name(), Door: audit.DoorWeb, Source: c.Source,
		Session: c.Session, Target: sum.BMC, Action: sum.Operation.Action, Outcome: outcome,
		Reason: sum.Refused, Duration: sum.Duration, Fields: f}
	record := h.svc.Audit
	if code == audit.CodeWebUIRequest && sum.Operation.Action == webui.ActionWebAccess && outcome == audit.OutcomeOK {
		// A read the session was allowed (web.access, decided at entry and
		// re-checked on this request) that the BMC answered: recorded by
		// the next group commit, off the response path. Writes, refusals,
		// failures and websockets are durable before the response ends.
		record = h.svc.AuditQueued
	}
	if err := record(ctx, rec); err != nil {
		h.log.Error("could not record a proxied BMC web request", "bmc", sum.BMC, "err", err)
	}
	if sum.Err != nil {
		h.log.Info("BMC web request", "bmc", sum.BMC, "path", sum.Path, "status", sum.Status, "err", sum.Err)
	}
}

// stripGatewayCookies removes every cookie the gateway sets (main session,
// login, BMC-host) from a request about to be forwarded to a BMC.
func stripGatewayCookies(r *http.Request) {
	cs := r.Cookies()
	r.Header.Del("Cookie")
	kept := make([]string, 0, len(cs))
	for _, c := range cs {
		if !strings.HasPrefix(c.Name, GatewayCookiePrefix) {
			kept = append(kept, c.Name+"="+c.Value)
		}
	}
	if len(kept) > 0 {
		r.Header.Set("Cookie", strings.Join(kept, "; "))
	}
}

// page is the gateway's own minimal page on a BMC host (no gateway
// template, script or style is served there).
func (h *Hosts) page(w http.ResponseWriter, status int, msg string) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	origin := h.cfg().Origin()
	_, _ = w.Write([]byte("<!doctype html><title>bmcgate</title><p id=\"bmcgate-msg\">" + html.EscapeString(msg) +
		"</p><p><a href=\"" + html.EscapeString(origin) + "/\">bmcgate dashboard</a></p>\n"))
}
