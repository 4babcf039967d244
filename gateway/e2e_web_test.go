package gateway

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/configs"
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

// TestWebSessionRefresh shrinks a user's groups at the provider and checks
// the session loses the role at its next refresh (refresh token grant).
func TestWebSessionRefresh(t *testing.T) {
	w := startWeb(t, webOptions{
		extraWeb: "    scopes: [openid, profile, groups, offline_access]\n",
		mutate:   func(c *configs.Config) { c.Web.Session.RefreshInterval.Duration = time.Second },
	})
	c := w.client(t)
	if resp, body := w.login(t, c, "alice", "alice-password-1", "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d %.300s", resp.StatusCode, body)
	}
	if resp, _ := get(t, c, w.base+"/bmc/node01/power/cycle"); resp.StatusCode != http.StatusOK {
		t.Fatalf("admin confirm page: %d", resp.StatusCode)
	}
	w.op.SetGroups("u-alice", []string{"viewers"})
	time.Sleep(1100 * time.Millisecond)
	resp, _ := get(t, c, w.base+"/bmc/node01/power/cycle")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("after the groups shrank: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeSessionStart, Actor: "alice"}, func(r audit.Record) bool {
		return strings.Contains(r.Reason, "refreshed; roles viewer")
	})
	// Without any group mapping to a role the refresh ends the session.
	w.op.SetGroups("u-alice", []string{"strangers"})
	time.Sleep(1100 * time.Millisecond)
	if resp, _ := get(t, noFollow(c), w.base+"/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("session without roles survived its refresh: %d", resp.StatusCode)
	}
}
