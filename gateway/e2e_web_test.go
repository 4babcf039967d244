package gateway

import (
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/internal/testpeer/oidcop"
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
	clock := stepWebClock(t)
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
	// A personal token made now follows its owner's roles.
	_, page := get(t, c, w.base+"/tokens")
	_, page = w.post(t, c, "/tokens", url.Values{"csrf": {csrf(t, page)}, "name": {"t"}, "action": {"power.cycle"}, "days": {"1"}}, "")
	m := regexp.MustCompile(`id="new-token">([^<]+)<`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no token: %.300s", page)
	}
	w.op.SetGroups("u-alice", []string{"viewers"})
	clock.advance(1100 * time.Millisecond)
	resp, _ := get(t, c, w.base+"/bmc/node01/power/cycle")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("after the groups shrank: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	if code, out := w.api(t, c, "POST", "/api/v1/bmcs/node01/power", m[1], `{"action":"cycle"}`, nil); code != http.StatusForbidden || errCode(out) != "denied" {
		t.Fatalf("token kept the lost role: %d %v", code, out)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeSessionStart, Actor: "alice"}, func(r audit.Record) bool {
		return strings.Contains(r.Reason, "refreshed; roles viewer")
	})
	// Without any group mapping to a role the refresh ends the session.
	w.op.SetGroups("u-alice", []string{"strangers"})
	clock.advance(1100 * time.Millisecond)
	if resp, _ := get(t, noFollow(c), w.base+"/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("session without roles survived its refresh: %d", resp.StatusCode)
	}
}

// TestWebSessionLifetimes checks the idle and absolute session limits on
// the web door's clock, stepped by the test.
func TestWebSessionLifetimes(t *testing.T) {
	clock := stepWebClock(t)
	fake := oidcop.StartFake(t, "bmcgate")
	w := startWeb(t, webOptions{issuer: fake.Issuer, mutate: func(c *configs.Config) {
		c.Web.Session.IdleTimeout.Duration = 800 * time.Millisecond
		c.Web.Session.MaxLifetime.Duration = 2 * time.Second
	}})
	idle := w.client(t)
	get(t, idle, fakeCallback(t, w, idle, "/"))
	busy := w.client(t)
	get(t, busy, fakeCallback(t, w, busy, "/"))
	for i := range 6 { // busy stays in use: only the idle one times out
		clock.advance(300 * time.Millisecond)
		if !loggedIn(t, w, busy) {
			t.Fatalf("a session in use ended before its idle timeout, at +%v", clock.since())
		}
		if i == 2 && loggedIn(t, w, idle) { // +900ms
			t.Fatal("idle session still valid")
		}
	}
	// +1.8s: busy was last used 0ms ago; +2.1s is past its absolute
	// lifetime though only 300ms past its last use.
	clock.advance(300 * time.Millisecond)
	if loggedIn(t, w, busy) {
		t.Fatal("session outlived its absolute lifetime")
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeSessionEnd}, func(r audit.Record) bool { return r.Reason == "session expired" })
}

// TestWebPagesByRole checks what each role sees: the BMC page, power
// buttons only when allowed, and the audit search page for audit.read.
func TestWebPagesByRole(t *testing.T) {
	w := startWeb(t, webOptions{})
	admin := w.client(t)
	w.login(t, admin, "alice", "alice-password-1", "/")
	_, body := get(t, admin, w.base+"/bmc/node01")
	for _, want := range []string{`id="sensors"`, `id="sel"`, `id="op-cycle"`, "Firmware", `id="power">on`} {
		if !strings.Contains(body, want) {
			t.Errorf("admin BMC page lacks %q", want)
		}
	}

	// The scan feature's slot on the dashboard.
	w.g.Web().SetScanPanel(func(_ *http.Request, c service.Caller) template.HTML {
		return template.HTML(`<p id="scan">posture for ` + template.HTMLEscapeString(c.Name()) + `</p>`)
	})
	if _, body := get(t, admin, w.base+"/"); !strings.Contains(body, `<p id="scan">posture for alice</p>`) {
		t.Errorf("scan panel missing")
	}

	viewer := w.client(t)
	w.login(t, viewer, "vic", "vic-password-1", "/")
	_, body = get(t, viewer, w.base+"/")
	if !strings.Contains(body, `id="bmc-node01"`) || strings.Contains(body, "/power/") {
		t.Errorf("viewer dashboard: %.600s", body)
	}
	_, body = get(t, viewer, w.base+"/bmc/node01")
	if strings.Contains(body, `id="op-`) || !strings.Contains(body, `id="sensors"`) {
		t.Errorf("viewer BMC page shows power buttons or lacks sensors")
	}
	if resp, _ := get(t, viewer, w.base+"/bmc/node01/power/off"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer confirm page: %d", resp.StatusCode)
	}
	if resp, _ := get(t, viewer, w.base+"/audit"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer without audit.read got the audit page: %d", resp.StatusCode)
	}
	if resp, _ := get(t, viewer, w.base+"/bmc/nope"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown BMC page: %d", resp.StatusCode)
	}

	auditor := w.client(t)
	w.login(t, auditor, "audrey", "audrey-password-1", "/")
	resp, body := get(t, auditor, w.base+"/audit?code=auth.login&user=vic&newest=1")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "auth.login") || !strings.Contains(body, "vic") || strings.Contains(body, ">alice<") {
		t.Fatalf("audit search: %d %.800s", resp.StatusCode, body)
	}
	if resp, _ := get(t, auditor, w.base+"/audit?since=garbage"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad since: %d", resp.StatusCode)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeAuditSearch, Actor: "audrey"}, func(r audit.Record) bool { return r.Door == "web" })
}

// TestWebNoRoleAtProvider refuses a provider user whose groups map to no role.
func TestWebNoRoleAtProvider(t *testing.T) {
	w := startWeb(t, webOptions{})
	c := w.client(t)
	resp, body := w.login(t, c, "nobody", "nobody-password-1", "/")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "none of your groups") {
		t.Fatalf("user without roles: %d %.300s", resp.StatusCode, body)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeAuthFail, Actor: "nobody"}, nil)
}
