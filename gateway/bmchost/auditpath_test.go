package bmchost

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/proxy/webui"
)

// pathService records which way each audit record went: Audit (durable
// before the caller goes on) or AuditQueued (the next group commit).
type pathService struct {
	Service
	durable, queued []audit.Record
}

func (p *pathService) Audit(_ context.Context, r audit.Record) error {
	p.durable = append(p.durable, r)
	return nil
}

func (p *pathService) AuditQueued(_ context.Context, r audit.Record) error {
	p.queued = append(p.queued, r)
	return nil
}

// Only a BMC web UI read the session was allowed and the BMC answered
// (webui.request, web.access, not a server error) is queued; writes,
// refusals, failures and websockets are durable before the response ends.
func TestBMCHostRecordsQueuedOrDurable(t *testing.T) {
	read := webui.Operation{Method: http.MethodGet, Path: "/redfish/v1/Systems", Action: webui.ActionWebAccess}
	for _, tc := range []struct {
		name   string
		sum    webui.Summary
		opened bool
		queued bool
	}{
		{"read answered", webui.Summary{Method: http.MethodGet, Operation: read, Status: http.StatusOK}, false, true},
		{"read answered not found", webui.Summary{Method: http.MethodGet, Operation: read, Status: http.StatusNotFound}, false, true},
		{"read the BMC failed", webui.Summary{Method: http.MethodGet, Operation: read, Status: http.StatusBadGateway, Err: errors.New("reset")}, false, false},
		{"read refused", webui.Summary{Method: http.MethodGet, Operation: read, Status: http.StatusForbidden, Refused: "not allowed"}, false, false},
		{"write", webui.Summary{Method: http.MethodPatch, Operation: webui.Operation{Method: http.MethodPatch, Action: webui.ActionWebWrite}, Status: http.StatusOK}, false, false},
		{"power action", webui.Summary{Method: http.MethodPost, Operation: webui.Operation{Method: http.MethodPost, Action: webui.ActionPowerCycle, Redfish: "ComputerSystem.Reset", ResetType: "PowerCycle"}, Status: http.StatusNoContent}, false, false},
		{"write refused", webui.Summary{Method: http.MethodPost, Operation: webui.Operation{Method: http.MethodPost, Action: webui.ActionBMCAccounts}, Status: http.StatusForbidden, Refused: "not allowed"}, false, false},
		{"websocket opened", webui.Summary{Method: http.MethodGet, Operation: read, Websocket: true, Status: http.StatusSwitchingProtocols}, true, false},
		{"websocket closed", webui.Summary{Method: http.MethodGet, Operation: read, Websocket: true, Status: http.StatusSwitchingProtocols}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &pathService{}
			h := &Hosts{svc: p, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			tc.sum.BMC = "node01"
			h.auditProxied(context.Background(), service.Caller{Source: "127.0.0.1:4444", Session: "s1"}, "node01.bmc.example", tc.sum, tc.opened)
			if got := len(p.queued) == 1; got != tc.queued || len(p.queued)+len(p.durable) != 1 {
				t.Fatalf("queued %d, durable %d; want queued %v", len(p.queued), len(p.durable), tc.queued)
			}
		})
	}
}
