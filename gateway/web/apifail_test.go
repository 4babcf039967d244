package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bmcgate/bmcgate/gateway/service"
)

// TestAPIFailDecidesOnSentinels: the API's status and code come from the
// error's sentinel (errors.Is), never from its text, and the body carries
// the user message, not the cause.
func TestAPIFailDecidesOnSentinels(t *testing.T) {
	for _, tt := range []struct {
		name   string
		err    error
		status int
		code   string
		msg    string
	}{
		{"unknown BMC", fmt.Errorf("info: %w", &service.UserError{Msg: "node99: unknown BMC", Err: service.ErrUnknownBMC}),
			http.StatusNotFound, "unknown_bmc", "node99: unknown BMC"},
		{"the words alone", &service.UserError{Msg: "rack7: unknown BMC (typed by the user)"},
			http.StatusBadRequest, "bad_request", "rack7: unknown BMC (typed by the user)"},
		{"audit down", service.ErrAuditUnavailable, http.StatusServiceUnavailable, "audit_unavailable", service.ErrAuditUnavailable.Msg},
		{"a cause stays out", &service.UserError{Msg: "audit search failed", Err: errors.New("bolt: /var/lib/bmcgate/audit.db: i/o error")},
			http.StatusBadRequest, "bad_request", "audit search failed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			apiFail(rec, tt.err)
			var body apiErr
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if rec.Code != tt.status || body.Error.Code != tt.code || body.Error.Message != tt.msg {
				t.Errorf("%d %q %q, want %d %q %q", rec.Code, body.Error.Code, body.Error.Message, tt.status, tt.code, tt.msg)
			}
		})
	}
}
