package bmchost

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/gateway/httpfront"
)

// Issue is the ticket issuer of the hand-off: the main door, having checked
// that its logged-in user may open the web UI of bmc, asks for a one-time
// ticket bound to the user session userID (a server-side secret, never
// shown) and that BMC, and sends the browser to the returned address on the
// BMC host, which redeems it.
func (h *Hosts) Issue(userID, bmc string) (string, error) {
	host := h.cfg().BMCHost(bmc)
	if host == "" {
		return "", errors.New("no BMC host for " + bmc)
	}
	t, err := h.issueTicket(userID, bmc)
	if err != nil {
		return "", err
	}
	return "https://" + host + enterPath + "?ticket=" + url.QueryEscape(t), nil
}

// issueTicket stores a ticket for userID on bmc and returns it.
func (h *Hosts) issueTicket(userID, bmc string) (string, error) {
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, t := range h.tickets {
		if now.After(t.expires) {
			delete(h.tickets, k)
		}
	}
	if len(h.tickets) >= maxTickets {
		return "", errors.New("too many web UI tickets in flight")
	}
	v := newSecret()
	h.tickets[secretKey(v)] = ticket{userID: userID, bmc: bmc, expires: now.Add(ticketTTL)}
	return v, nil
}

// takeTicket removes a ticket and returns it when it has not expired; a
// ticket is gone after its first use, whatever the outcome.
func (h *Hosts) takeTicket(v string) (ticket, bool) {
	if v == "" {
		return ticket{}, false
	}
	k := secretKey(v)
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.tickets[k]
	delete(h.tickets, k)
	return t, ok && !h.now().After(t.expires)
}

// enter (GET /.bmcgate/enter?ticket=… on a BMC host) redeems a ticket: the
// ticket must be live, unused and issued for this BMC, its user session
// live, and web.access allowed (decided and recorded once here for the
// reads of the whole BMC-host session). It sets the host-only BMC-host
// cookie and sends the browser on to the BMC UI's root from a page of the
// BMC host itself.
func (h *Hosts) enter(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method != http.MethodGet {
		h.page(w, http.StatusMethodNotAllowed, "Method not allowed.")
		return
	}
	t, ok := h.takeTicket(r.URL.Query().Get("ticket"))
	if !ok || t.bmc != name {
		reason := "BMC web UI ticket refused: unknown, expired or already used"
		if ok {
			reason = "BMC web UI ticket refused: issued for another BMC"
		}
		h.front.Note(r, reason, audit.Record{Code: audit.CodeDecision, Door: audit.DoorWeb, Source: httpfront.RemoteIP(r),
			Target: name, Action: string(authz.WebAccess), Outcome: audit.OutcomeDeny, Reason: reason})
		h.page(w, http.StatusForbidden, "This link has expired or was already used. Open the web UI again from the bmcgate dashboard.")
		return
	}
	u, err := h.users.User(r, t.userID)
	if err != nil {
		h.page(w, http.StatusUnauthorized, "Your bmcgate session has ended. Log in again and open the web UI from the dashboard.")
		return
	}
	c := u.Caller
	_, b := h.svc.Permits(c, authz.WebAccess, name)
	if b == nil {
		h.page(w, http.StatusNotFound, "Unknown BMC.")
		return
	}
	d, err := h.svc.Decide(r.Context(), c, authz.WebAccess, b.Target())
	if err != nil || !d.Allowed {
		h.page(w, http.StatusForbidden, "You may not open this BMC's web UI: "+d.Reason)
		return
	}
	v, err := h.newHostSession(t.userID, u, name, httpfront.RemoteIP(r))
	if err != nil {
		h.log.Warn("BMC web UI session refused", "bmc", name, "err", err)
		h.page(w, http.StatusServiceUnavailable, "Too many web UI sessions right now. Try again later.")
		return
	}
	_ = h.svc.Audit(r.Context(), audit.Record{Code: audit.CodeSessionStart, Actor: u.Name, Door: audit.DoorWeb,
		Source: httpfront.RemoteIP(r), Session: c.Session, Target: name, Outcome: audit.OutcomeOK, Reason: "BMC web UI session opened"})
	maxAge := int(u.Expires.Sub(h.now()) / time.Second)
	http.SetCookie(w, &http.Cookie{Name: Cookie, Value: v, Path: "/", MaxAge: max(maxAge, 1),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	// Not a redirect: the browser arrived from the gateway's own host,
	// which may be another site, and a SameSite=Strict cookie is not sent
	// on the rest of a redirect chain that began there. A navigation the
	// BMC host's own page starts carries it.
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write([]byte(`<!doctype html><meta http-equiv="refresh" content="0;url=/"><title>bmcgate</title>` +
		`<p id="bmcgate-continue"><a href="/">Continue to the BMC's web UI</a></p>` + "\n"))
}
