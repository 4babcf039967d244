package web

import (
	"net/http"
	"strconv"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/service"
)

// auditRecord shows one audit record in full (its fields and the hashes
// that chain it), for users with audit.read; a console recording's payload
// is not shown.
func (s *Server) auditRecord(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil || seq == 0 {
		s.errorPage(w, r, http.StatusBadRequest, "A record number is a positive whole number.")
		return
	}
	var rec *audit.Record
	_, err = s.svc.AuditSearchPage(r.Context(), c, audit.Query{AfterSeq: seq - 1, Limit: 1}, func(got audit.Record) error {
		if got.Seq == seq {
			got.Data = nil
			rec = &got
		}
		return nil
	})
	if err != nil {
		s.errorPage(w, r, http.StatusForbidden, service.Message(err))
		return
	}
	if rec == nil {
		s.errorPage(w, r, http.StatusNotFound, "No audit record #"+strconv.FormatUint(seq, 10)+".")
		return
	}
	s.render(w, r, http.StatusOK, "record", map[string]any{"Record": rec})
}
