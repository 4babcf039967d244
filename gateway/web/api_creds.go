package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/bmcgate/bmcgate/gateway/creds"
	"github.com/bmcgate/bmcgate/gateway/service"
)

// credRoutes registers the automation credential API: POST issues (the
// answer carries the password, once), GET lists the caller's, DELETE
// revokes one. Each is the caller's own; the service layer audits them.
func (s *Server) credRoutes() {
	m := s.mux
	m.Handle("POST /api/v1/credentials", s.apiAuth("", s.apiIssueCredential))
	m.Handle("GET /api/v1/credentials", s.apiAuth("", s.apiListCredentials))
	m.Handle("DELETE /api/v1/credentials/{user}", s.apiAuth("", s.apiRevokeCredential))
}

// apiIssueCredential issues a credential: {"for": "8h", "scope":
// ["power.status"], "targets": ["bmc1"], "rmcp": false}, every field
// optional.
func (s *Server) apiIssueCredential(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	var body struct {
		For     string   `json:"for"`
		Scope   []string `json:"scope"`
		Targets []string `json:"targets"`
		RMCP    bool     `json:"rmcp"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAPIBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		apiError(w, http.StatusBadRequest, "bad_request", `body must be {"for":"8h","scope":["ACTION"],"targets":["BMC"],"rmcp":false}, every field optional`)
		return
	}
	req := service.CredentialRequest{Scope: body.Scope, Targets: body.Targets, RMCP: body.RMCP}
	if body.For != "" {
		d, err := time.ParseDuration(body.For)
		if err != nil || d <= 0 {
			apiError(w, http.StatusBadRequest, "bad_request", `"for" must be a positive duration such as "30m" or "8h"`)
			return
		}
		req.Lifetime = d
	}
	v, password, err := s.svc.IssueCredential(r.Context(), c, req)
	if err != nil {
		apiFail(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, struct {
		service.CredentialView
		Password string `json:"password"`
	}{v, password})
}

func (s *Server) apiListCredentials(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	list, err := s.svc.ListCredentials(r.Context(), c)
	if err != nil {
		apiFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"credentials": list})
}

func (s *Server) apiRevokeCredential(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	v, err := s.svc.RevokeCredential(r.Context(), c, r.PathValue("user"))
	if errors.Is(err, creds.ErrNotFound) {
		apiError(w, http.StatusNotFound, "not_found", service.Message(err))
		return
	}
	if err != nil {
		apiFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
