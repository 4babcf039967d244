package web

import (
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

// routes registers every handler.
func (s *Server) routes() {
	m := s.mux
	m.Handle("GET /static/", staticHandler())
	m.HandleFunc("GET /login", s.loginPage)
	m.HandleFunc("GET /auth/login", s.authStart)
	m.HandleFunc("GET "+CallbackPath, s.authCallback)
	m.HandleFunc("POST /login/breakglass", s.breakGlassLogin)
	m.Handle("POST /logout", s.RequireSession(http.HandlerFunc(s.logout)))
	m.Handle("GET /{$}", s.RequireSession(http.HandlerFunc(s.dashboard)))
	m.Handle("GET /bmc/{name}", s.RequireSession(http.HandlerFunc(s.bmcPage)))
	m.Handle("GET /bmc/{name}/power/{op}", s.RequireSession(http.HandlerFunc(s.powerConfirm)))
	m.Handle("POST /bmc/{name}/power/{op}", s.RequireSession(http.HandlerFunc(s.powerDo)))
	m.Handle("POST /bmc/{name}/webui", s.RequireSession(http.HandlerFunc(s.webUIOpen)))
	m.Handle("POST /bmc/{name}/boot", s.RequireSession(http.HandlerFunc(s.bootDo)))
	m.Handle("POST /bmc/{name}/media", s.RequireSession(http.HandlerFunc(s.mediaDo)))
	m.Handle("POST /bmc/{name}/sel/clear", s.RequireSession(http.HandlerFunc(s.selClear)))
	m.Handle("GET /audit", s.RequireSession(http.HandlerFunc(s.auditPage)))
	m.Handle("GET /audit/export", s.RequireSession(http.HandlerFunc(s.auditExport)))
	m.Handle("GET /audit/record/{seq}", s.RequireSession(http.HandlerFunc(s.auditRecord)))
	m.Handle("GET /tokens", s.RequireSession(http.HandlerFunc(s.tokensPage)))
	m.Handle("POST /tokens", s.RequireSession(http.HandlerFunc(s.tokenCreate)))
	m.Handle("POST /tokens/{id}/revoke", s.RequireSession(http.HandlerFunc(s.tokenRevoke)))
	m.Handle("GET /ssh", s.RequireSession(http.HandlerFunc(s.sshPage)))
	m.Handle("GET /sessions", s.RequireSession(http.HandlerFunc(s.sessionsPage)))
	m.Handle("POST /sessions/terminate", s.RequireSession(http.HandlerFunc(s.sessionTerminate)))
	m.Handle("POST /ssh", s.RequireSession(http.HandlerFunc(s.sshSign)))
	s.apiRoutes()
}

// ScanPanel, when set, renders the posture-scan summary shown on the
// dashboard for a caller (the scan feature fills it in).
type ScanPanel func(r *http.Request, c service.Caller) template.HTML

// SetScanPanel installs the dashboard's scan summary hook.
func (s *Server) SetScanPanel(p ScanPanel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scan = p
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	bmcs, err := s.svc.Dashboard(r.Context(), c, s.cache)
	if err != nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, service.Message(err))
		return
	}
	events, err := s.svc.OwnEvents(r.Context(), c, 20)
	if err != nil {
		s.log.Warn("own events", "err", err)
	}
	names := make([]string, len(bmcs))
	for i, b := range bmcs {
		names[i] = b.Name
	}
	data := map[string]any{"BMCs": bmcs, "Events": events, "WebUI": s.bmc.Allowed(c, names...)}
	s.mu.Lock()
	scan := s.scan
	s.mu.Unlock()
	if scan != nil {
		data["Scan"] = scan(r, c)
	}
	s.render(w, r, http.StatusOK, "dashboard", data)
}

// bmcView is the data of a BMC page.
type bmcView struct {
	Name         string
	Power        ipmi.PowerState
	Allowed      map[string]bool
	Info         *service.InfoView
	Sensors      []service.Sensor
	SEL          []service.LogEntry
	Done, Failed string
	InfoErr      string
	SensorsErr   string
	SELErr       string
	WebUI        string // the caller may open the BMC's web UI: "verified" or "insecure"; "" when not
	bootMediaView
}

// doneMessages are the fixed texts shown after an action (no user text is
// reflected from the query).
var doneMessages = map[string]string{
	"on": "power on sent", "off": "power off sent", "cycle": "power cycle sent",
	"reset": "power reset sent", "soft": "soft shutdown sent",
	"boot": "boot override set", "insert": "image inserted", "eject": "media ejected", "selclear": "event log cleared",
}

func (s *Server) bmcPage(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	b, ok := s.svc.Lookup(c, r.PathValue("name"))
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "Unknown BMC.")
		return
	}
	v := bmcView{Name: b.Name, Allowed: s.svc.PowerAllowed(c, b.Target()), Done: doneMessages[r.URL.Query().Get("done")]}
	v.WebUI = s.bmc.Allowed(c, b.Name)[b.Name]
	ctx := r.Context()
	if v.Allowed["status"] {
		_ = s.svc.Power(ctx, c, "status", []string{b.Name}, func(res service.Result) {
			if ps, ok := res.Value.(ipmi.PowerState); ok {
				v.Power = ps
			}
		})
	}
	if res, err := s.svc.Info(ctx, c, b.Name); err == nil && res.OK {
		iv := res.Value.(service.InfoView)
		v.Info = &iv
	} else {
		v.InfoErr = resultMessage(res, err)
	}
	if res, err := s.svc.Sensors(ctx, c, b.Name); err == nil && res.OK {
		v.Sensors, _ = res.Value.([]service.Sensor)
	} else {
		v.SensorsErr = resultMessage(res, err)
	}
	if res, err := s.svc.SEL(ctx, c, b.Name, 50); err == nil && res.OK {
		v.SEL, _ = res.Value.([]service.LogEntry)
	} else {
		v.SELErr = resultMessage(res, err)
	}
	v.bootMediaView = s.bootMedia(ctx, c, b)
	s.render(w, r, http.StatusOK, "bmc", v)
}

func resultMessage(res service.Result, err error) string {
	if err != nil {
		return service.Message(err)
	}
	return res.Message
}

// powerConfirm is the confirmation step before a power action; shown only
// when the policy allows it.
func (s *Server) powerConfirm(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	op := r.PathValue("op")
	b, ok := s.svc.Lookup(c, r.PathValue("name"))
	if _, isOp := service.PowerActions[op]; !ok || op == "status" || !isOp {
		s.errorPage(w, r, http.StatusNotFound, "Unknown BMC or power operation.")
		return
	}
	if !s.svc.PowerAllowed(c, b.Target())[op] {
		s.errorPage(w, r, http.StatusForbidden, "You may not do this on this BMC.")
		return
	}
	s.render(w, r, http.StatusOK, "confirm", map[string]string{"Name": b.Name, "Op": op})
}

// powerDo runs a confirmed power action through the service layer (decided and audited
// there) and redirects back to the BMC page.
func (s *Server) powerDo(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	op := r.PathValue("op")
	b, ok := s.svc.Lookup(c, r.PathValue("name"))
	if _, isOp := service.PowerActions[op]; !ok || op == "status" || !isOp {
		s.errorPage(w, r, http.StatusNotFound, "Unknown BMC or power operation.")
		return
	}
	var res service.Result
	err := s.svc.Power(r.Context(), c, op, []string{b.Name}, func(x service.Result) { res = x })
	if err != nil || !res.OK {
		msg := resultMessage(res, err)
		status := http.StatusBadGateway
		if res.Denied {
			status = http.StatusForbidden
		}
		s.errorPage(w, r, status, "power "+op+" "+b.Name+": "+msg)
		return
	}
	s.cache.Invalidate()
	http.Redirect(w, r, "/bmc/"+b.Name+"?done="+op, http.StatusSeeOther)
}

// auditPage searches the audit log with the SSH `audit search` filters,
// newest first unless order=oldest, a page at a time.
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	q, since, until, limit, perr := parseAuditQuery(r, s.now())
	pageOrder(r, &q)
	data := map[string]any{"Q": q, "Since": since, "Until": until, "Limit": limit}
	if perr != "" {
		data["Error"] = perr
		s.render(w, r, http.StatusBadRequest, "audit", data)
		return
	}
	var recs []audit.Record
	page, err := s.svc.AuditSearchPage(r.Context(), c, q, func(rec audit.Record) error {
		rec.Data = nil
		recs = append(recs, rec)
		return nil
	})
	if err != nil {
		data["Error"] = service.Message(err)
		s.render(w, r, http.StatusForbidden, "audit", data)
		return
	}
	data["Records"] = recs
	data["Export"] = exportLinks(r.URL.Query())
	if page.More {
		data["Next"] = "/audit?" + nextCursor(r.URL.Query(), q, page).Encode()
	}
	s.render(w, r, http.StatusOK, "audit", data)
}

// parseAuditQuery reads the audit filters from the query string.
func parseAuditQuery(r *http.Request, now time.Time) (q audit.Query, since, until, limit, problem string) {
	v := r.URL.Query()
	q = audit.Query{Actor: v.Get("user"), Target: v.Get("bmc"), Action: v.Get("action"),
		Outcome: v.Get("outcome"), Code: v.Get("code"), Session: v.Get("session"),
		Newest: v.Get("newest") != "", Limit: 100}
	since, until, limit = v.Get("since"), v.Get("until"), v.Get("limit")
	if since != "" {
		t, err := service.ParseTime(since, now)
		if err != nil {
			return q, since, until, limit, "since: " + err.Error()
		}
		q.Since = t
	}
	if until != "" {
		t, err := service.ParseTime(until, now)
		if err != nil {
			return q, since, until, limit, "until: " + err.Error()
		}
		q.Until = t
	}
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 || n > 10000 {
			return q, since, until, limit, "limit must be a number from 1 to 10000"
		}
		q.Limit = n
	}
	for _, c := range []struct {
		name string
		v    *uint64
	}{{"after", &q.AfterSeq}, {"before", &q.BeforeSeq}} {
		if x := v.Get(c.name); x != "" {
			n, err := strconv.ParseUint(x, 10, 64)
			if err != nil || n == 0 {
				return q, since, until, limit, c.name + " must be a record number"
			}
			*c.v = n
		}
	}
	return q, since, until, limit, ""
}
