package gateway

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
)

// TestWebOIDCLoginAndPower logs in at a real OpenID provider, sees the
// dashboard, power-cycles a BMC behind the confirmation step and finds the
// audit records.
func TestWebOIDCLoginAndPower(t *testing.T) {
	w := startWeb(t, webOptions{})
	c := w.client(t)
	resp, body := w.login(t, c, "alice", "alice-password-1", "/bmc/node01")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/bmc/node01" {
		t.Fatalf("after login: %d %s: %.500s", resp.StatusCode, resp.Request.URL, body)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeAuthLogin, Actor: "alice"}, func(r audit.Record) bool { return r.Door == "web" })
	_, body = get(t, c, w.base+"/")
	if !strings.Contains(body, `id="bmc-node01"`) || !strings.Contains(body, "rack=r1") {
		t.Fatalf("dashboard: %.800s", body)
	}
	resp, body = get(t, c, w.base+"/bmc/node01/power/cycle")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="confirm"`) {
		t.Fatalf("confirm page: %d %.500s", resp.StatusCode, body)
	}
	resp, body = w.post(t, c, "/bmc/node01/power/cycle", url.Values{"csrf": {csrf(t, body)}}, "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "power cycle sent") {
		t.Fatalf("power cycle: %d %.500s", resp.StatusCode, body)
	}
	if w.bmc.PowerCycles() != 1 {
		t.Fatalf("BMC saw %d power cycles", w.bmc.PowerCycles())
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeBMCCall, Action: "power.cycle", Actor: "alice"}, func(r audit.Record) bool {
		return r.Door == "web" && r.Outcome == audit.OutcomeOK && r.Target == "node01"
	})
}
