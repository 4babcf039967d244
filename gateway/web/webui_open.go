package web

import (
	"net/http"

	"github.com/bmcgate/bmcgate/authz"
)

// webUIOpen (POST /bmc/{name}/webui on the main host, CSRF-checked by
// RequireSession) has the BMC hosts issue a one-time ticket bound to the
// user session and the BMC and sends the browser to the BMC host to redeem
// it. A user without web.access on the BMC gets no ticket.
func (s *Server) webUIOpen(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	name := r.PathValue("name")
	d, b := s.svc.Permits(c, authz.WebAccess, name)
	if b == nil || !s.bmc.Has(name) {
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
	to, err := s.bmc.Issue(ck.Value, b.Name)
	if err != nil {
		s.log.Warn("web UI ticket refused", "bmc", b.Name, "err", err)
		s.errorPage(w, r, http.StatusServiceUnavailable, "Too many web UI openings right now. Try again in a minute.")
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}
