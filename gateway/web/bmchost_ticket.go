package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/gateway/httpfront"
	"github.com/bmcgate/bmcgate/gateway/service"
)

// Values of webUIAllowed: the BMC's certificate is verified (pinned or by a
// CA), or verification is off and the page flags it.
const (
	webUIVerified = "verified"
	webUIInsecure = "insecure"
)

// webUIAllowed reports, for showing "Open web UI" buttons, which of the
// named BMCs have a web UI through bmcgate that the caller may open, and
// whether the BMC's certificate is verified. It is a query, not a
// decision: opening is decided and recorded at the BMC host.
func (s *Server) webUIAllowed(c service.Caller, names ...string) map[string]string {
	out := map[string]string{}
	w := s.cfg.Load()
	for _, n := range names {
		if w.BMCHost(n) == "" {
			continue
		}
		ui, ok := s.bmcUI(n)
		if !ok {
			continue
		}
		if d, _ := s.svc.Permits(c, authz.WebAccess, n); d.Allowed {
			out[n] = webUIVerified
			if ui.Proxy.Insecure() {
				out[n] = webUIInsecure
			}
		}
	}
	return out
}

// webUIOpen (POST /bmc/{name}/webui on the main host, CSRF-checked by
// RequireSession) issues a one-time ticket bound to the user session and
// the BMC and sends the browser to the BMC host to redeem it. A user
// without web.access on the BMC gets no ticket.
func (s *Server) webUIOpen(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	name := r.PathValue("name")
	host := s.cfg.Load().BMCHost(name)
	d, b := s.svc.Permits(c, authz.WebAccess, name)
	_, hasUI := s.bmcUI(name)
	if b == nil || host == "" || !hasUI {
		s.errorPage(w, r, http.StatusNotFound, "This BMC has no web UI through bmcgate.")
		return
	}
	if !d.Allowed {
		d, _ = s.svc.Decide(r.Context(), c, authz.WebAccess, b.Target()) // records the refusal
		s.errorPage(w, r, http.StatusForbidden, "You may not open this BMC's web UI: "+d.Reason)
		return
	}
	ck, err := r.Cookie(SessionCookie)
	if err != nil {
		s.errorPage(w, r, http.StatusUnauthorized, "Your session has ended. Log in again.")
		return
	}
	t, err := s.issueTicket(ck.Value, b.Name)
	if err != nil {
		s.log.Warn("web UI ticket refused", "bmc", b.Name, "err", err)
		s.errorPage(w, r, http.StatusServiceUnavailable, "Too many web UI openings right now. Try again in a minute.")
		return
	}
	http.Redirect(w, r, "https://"+host+enterPath+"?ticket="+url.QueryEscape(t), http.StatusSeeOther)
}

// enterBMCHost (GET /.bmcgate/enter?ticket=… on a BMC host) redeems a
// ticket: the ticket must be live, unused and issued for this BMC, its user
// session live, and web.access allowed (decided and recorded once here for
// the reads of the whole BMC-host session). It sets the host-only BMC-host
// cookie and sends the browser on to the BMC UI's root from a page of the
// BMC host itself.
func (s *Server) enterBMCHost(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method != http.MethodGet {
		s.bmcHostPage(w, http.StatusMethodNotAllowed, "Method not allowed.")
		return
	}
	t, ok := s.takeTicket(r.URL.Query().Get("ticket"))
	if !ok || t.bmc != name {
		reason := "BMC web UI ticket refused: unknown, expired or already used"
		if ok {
			reason = "BMC web UI ticket refused: issued for another BMC"
		}
		s.front.Note(r, reason, audit.Record{Code: audit.CodeDecision, Door: audit.DoorWeb, Source: httpfront.RemoteIP(r),
			Target: name, Action: string(authz.WebAccess), Outcome: audit.OutcomeDeny, Reason: reason})
		s.bmcHostPage(w, http.StatusForbidden, "This link has expired or was already used. Open the web UI again from the bmcgate dashboard.")
		return
	}
	ss, _, err := s.sessionByID(r, t.userID)
	if err != nil {
		s.bmcHostPage(w, http.StatusUnauthorized, "Your bmcgate session has ended. Log in again and open the web UI from the dashboard.")
		return
	}
	c := sessionCaller(ss, audit.DoorWeb, r)
	_, b := s.svc.Permits(c, authz.WebAccess, name)
	if b == nil {
		s.bmcHostPage(w, http.StatusNotFound, "Unknown BMC.")
		return
	}
	d, err := s.svc.Decide(r.Context(), c, authz.WebAccess, b.Target())
	if err != nil || !d.Allowed {
		s.bmcHostPage(w, http.StatusForbidden, "You may not open this BMC's web UI: "+d.Reason)
		return
	}
	v, err := s.newHostSession(t.userID, ss, name, httpfront.RemoteIP(r))
	if err != nil {
		s.log.Warn("BMC web UI session refused", "bmc", name, "err", err)
		s.bmcHostPage(w, http.StatusServiceUnavailable, "Too many web UI sessions right now. Try again later.")
		return
	}
	_ = s.svc.Audit(r.Context(), audit.Record{Code: audit.CodeSessionStart, Actor: ss.User, Door: audit.DoorWeb,
		Source: httpfront.RemoteIP(r), Session: ss.Handle, Target: name, Outcome: audit.OutcomeOK, Reason: "BMC web UI session opened"})
	maxAge := int(ss.Expires.Sub(s.now()) / time.Second)
	setStrictCookie(w, BMCHostCookie, v, max(maxAge, 1))
	// Not a redirect: the browser arrived from the gateway's own host,
	// which may be another site, and a SameSite=Strict cookie is not sent
	// on the rest of a redirect chain that began there. A navigation the
	// BMC host's own page starts carries it.
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write([]byte(`<!doctype html><meta http-equiv="refresh" content="0;url=/"><title>bmcgate</title>` +
		`<p id="bmcgate-continue"><a href="/">Continue to the BMC's web UI</a></p>` + "\n"))
}
