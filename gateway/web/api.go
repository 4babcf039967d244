package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

// apiRoutes registers the JSON API.
func (s *Server) apiRoutes() {
	m := s.mux
	h := func(pattern string, a authz.Action, fn http.HandlerFunc) {
		m.Handle(pattern, s.apiAuth(a, fn))
	}
	h("GET /api/v1/whoami", "", s.apiWhoami)
	h("GET /api/v1/bmcs", authz.BMCList, s.apiList)
	h("GET /api/v1/bmcs/{name}", authz.BMCInfo, s.apiInfo)
	h("GET /api/v1/bmcs/{name}/power", authz.PowerStatus, s.apiPowerStatus)
	h("POST /api/v1/bmcs/{name}/power", "", s.apiPowerAction)
	h("GET /api/v1/bmcs/{name}/sensors", authz.SensorsRead, s.apiSensors)
	h("GET /api/v1/bmcs/{name}/sel", authz.SELRead, s.apiSEL)
	h("DELETE /api/v1/bmcs/{name}/sel", authz.SELClear, s.apiClearSEL)
	h("GET /api/v1/bmcs/{name}/boot", authz.BootRead, s.apiBoot)
	h("PUT /api/v1/bmcs/{name}/boot", authz.BootSet, s.apiSetBoot)
	h("GET /api/v1/bmcs/{name}/media", authz.MediaRead, s.apiMedia)
	h("POST /api/v1/bmcs/{name}/media", "", s.apiMediaAction)
	h("GET /api/v1/audit", authz.AuditRead, s.apiAudit)
	h("POST /api/v1/ssh/certificates", "", s.apiSSHCert)
	s.credRoutes()
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "not_found", "no such API endpoint")
	})
}

// apiErr is the JSON error body.
type apiErr struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// apiError writes {"error":{"code":...,"message":...}}.
func apiError(w http.ResponseWriter, status int, code, msg string) {
	var e apiErr
	e.Error.Code, e.Error.Message = code, msg
	writeJSON(w, status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// apiFail answers with an error from service.
func apiFail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, service.ErrAuditUnavailable):
		apiError(w, http.StatusServiceUnavailable, "audit_unavailable", service.Message(err))
	case errors.Is(err, service.ErrRevoked):
		apiError(w, http.StatusUnauthorized, "unauthorized", service.Message(err))
	case errors.Is(err, service.ErrUnknownBMC):
		apiError(w, http.StatusNotFound, "unknown_bmc", service.Message(err))
	default:
		apiError(w, http.StatusBadRequest, "bad_request", service.Message(err))
	}
}

// apiResult answers with a one-BMC result from service.
func apiResult(w http.ResponseWriter, res service.Result, err error, v any) {
	switch {
	case err != nil:
		apiFail(w, err)
	case res.Denied:
		apiError(w, http.StatusForbidden, "denied", res.Message)
	case !res.OK:
		apiError(w, http.StatusBadGateway, "bmc_error", res.Message)
	default:
		writeJSON(w, http.StatusOK, v)
	}
}

func (s *Server) apiWhoami(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	id, err := s.svc.Whoami(r.Context(), c)
	if err != nil {
		apiFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, id)
}

func (s *Server) apiList(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	list, err := s.svc.List(r.Context(), c, r.URL.Query()["select"])
	if err != nil {
		apiFail(w, err)
		return
	}
	if list == nil {
		list = []service.ListEntry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"bmcs": list})
}

func (s *Server) apiInfo(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	res, err := s.svc.Info(r.Context(), c, r.PathValue("name"))
	apiResult(w, res, err, res.Value)
}

// powerView is the answer of a power read or action.
type powerView struct {
	BMC    string          `json:"bmc"`
	State  ipmi.PowerState `json:"state,omitempty"`
	Action string          `json:"action,omitempty"`
	Result string          `json:"result,omitempty"`
}

func (s *Server) apiPowerStatus(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	var res service.Result
	err := s.svc.Power(r.Context(), c, "status", []string{r.PathValue("name")}, func(x service.Result) { res = x })
	ps, _ := res.Value.(ipmi.PowerState)
	apiResult(w, res, err, powerView{BMC: res.BMC, State: ps})
}

func (s *Server) apiPowerAction(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	var body struct {
		Action string `json:"action"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		apiError(w, http.StatusBadRequest, "bad_request", `body must be {"action":"on|off|cycle|reset|soft"}`)
		return
	}
	a, ok := service.PowerActions[body.Action]
	if !ok || body.Action == "status" {
		apiError(w, http.StatusBadRequest, "bad_request", "action must be on, off, cycle, reset or soft")
		return
	}
	if !s.tokenAllows(w, r, c, a) {
		return
	}
	var res service.Result
	err := s.svc.Power(r.Context(), c, body.Action, []string{r.PathValue("name")}, func(x service.Result) { res = x })
	if err == nil && res.OK {
		s.cache.Invalidate()
	}
	apiResult(w, res, err, powerView{BMC: res.BMC, Action: body.Action, Result: "sent"})
}

func (s *Server) apiSensors(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	res, err := s.svc.Sensors(r.Context(), c, r.PathValue("name"))
	apiResult(w, res, err, map[string]any{"bmc": res.BMC, "sensors": res.Value})
}

func (s *Server) apiSEL(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			apiError(w, http.StatusBadRequest, "bad_request", "limit must be a number from 1 to 1000")
			return
		}
		limit = n
	}
	res, err := s.svc.SEL(r.Context(), c, r.PathValue("name"), limit)
	apiResult(w, res, err, map[string]any{"bmc": res.BMC, "entries": res.Value})
}

// apiClearSEL clears the event log (the system's logs and the manager's
// SEL on Redfish).
func (s *Server) apiClearSEL(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	res, err := s.svc.ClearSEL(r.Context(), c, r.PathValue("name"))
	apiResult(w, res, err, map[string]any{"bmc": res.BMC, "cleared": true})
}

func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	q, _, _, _, problem := parseAuditQuery(r, s.now())
	if problem != "" {
		apiError(w, http.StatusBadRequest, "bad_request", problem)
		return
	}
	recs := []audit.Record{}
	page, err := s.svc.AuditSearchPage(r.Context(), c, q, func(rec audit.Record) error {
		rec.Data = nil
		recs = append(recs, rec)
		return nil
	})
	if err != nil {
		if errors.Is(err, service.ErrDenied) {
			apiError(w, http.StatusForbidden, "denied", service.Message(err))
			return
		}
		if errors.Is(err, service.ErrRevoked) {
			apiFail(w, err)
			return
		}
		if errors.Is(err, audit.ErrInvalidQuery) {
			apiError(w, http.StatusBadRequest, "bad_request", service.Message(err))
			return
		}
		apiError(w, http.StatusServiceUnavailable, "unavailable", service.Message(err))
		return
	}
	res := map[string]any{"records": recs, "more": page.More}
	if page.More {
		// The cursor of the next page: the same query with after= (or
		// before= for newest=1) set to it.
		cursor := "after"
		if q.Newest {
			cursor = "before"
		}
		res["next"] = map[string]uint64{cursor: page.Last}
	}
	writeJSON(w, http.StatusOK, res)
}
