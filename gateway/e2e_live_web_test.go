package gateway

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/web"
	"github.com/bmcgate/bmcgate/internal/testpeer/oidcop"
	"github.com/chromedp/chromedp"
	"golang.org/x/net/websocket"
)

// newToken makes a personal API token with the given actions from c's
// session.
func (w *webHarness) newToken(t *testing.T, c *http.Client, actions ...string) string {
	t.Helper()
	_, page := get(t, c, w.base+"/tokens")
	resp, page := w.post(t, c, "/tokens", url.Values{"csrf": {csrf(t, page)}, "name": {"live"}, "action": actions, "days": {"7"}}, "")
	m := regexp.MustCompile(`id="new-token">([^<]+)<`).FindStringSubmatch(page)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("token create: %d %.400s", resp.StatusCode, page)
	}
	return m[1]
}

// roles reads the roles of a whoami answer.
func roles(out map[string]any) string {
	rs, _ := out["roles"].([]any)
	var s []string
	for _, r := range rs {
		s = append(s, r.(string))
	}
	return strings.Join(s, ",")
}

// TestWebLiveFollowsReload: a browser session (HTTP client with the
// session cookie), a personal API token and a provider JWT, all open across
// reloads. When the reload maps the user's group to a lesser role, each
// one's next power cycle is denied and recorded, and whoami shows the new
// role. When the reload maps the group to nothing, the session is revoked
// on the server (its next page says why) and both tokens are refused.
func TestWebLiveFollowsReload(t *testing.T) {
	fake := oidcop.StartFake(t, "bmcgate")
	w := startWeb(t, webOptions{issuer: fake.Issuer})
	c := w.client(t)
	get(t, c, fakeCallback(t, w, c, "/"))
	_, page := get(t, c, w.base+"/tokens")
	hdr := map[string]string{"Origin": w.base, web.CSRFHeader: csrf(t, page)}
	pt := w.newToken(t, c, "bmc.list", "power.status", "power.cycle")
	jwt := fake.SignTyp(fake.AccessClaims("bmcgate", "bmcgate", "alice", []string{"ops"}), "at+jwt")
	cycle := `{"action":"cycle"}`
	creds := map[string]struct {
		bearer string
		hdr    map[string]string
	}{"session": {"", hdr}, "token": {pt, nil}, "jwt": {jwt, nil}}

	for name, cr := range creds {
		if code, out := w.api(t, c, "POST", "/api/v1/bmcs/node01/power", cr.bearer, cycle, cr.hdr); code != 200 {
			t.Fatalf("%s: power cycle before the reload: %d %v", name, code, out)
		}
	}
	cycles := w.bmc.PowerCycles()

	// (a) ops users become viewers.
	w.reloadWith(t, "ops: [admin]", "ops: [viewer]")
	for name, cr := range creds {
		code, out := w.api(t, c, "POST", "/api/v1/bmcs/node01/power", cr.bearer, cycle, cr.hdr)
		if code != 403 || errCode(out) != "denied" {
			t.Errorf("%s: power cycle after losing admin: %d %v", name, code, out)
		}
		if code, out := w.api(t, c, "GET", "/api/v1/whoami", cr.bearer, "", cr.hdr); code != 200 || roles(out) != "viewer" {
			t.Errorf("%s: whoami after losing admin: %d %v", name, code, out)
		}
	}
	if resp, _ := get(t, c, w.base+"/bmc/node01/power/cycle"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("power cycle page after losing admin: %d", resp.StatusCode)
	}
	if w.bmc.PowerCycles() != cycles {
		t.Fatal("a power cycle reached the BMC after the reload")
	}
	// One refusal recorded per credential: the session is named by its
	// handle, the tokens by their own.
	kind := func(session string) string {
		before, _, found := strings.Cut(session, "-")
		if !found {
			return "session"
		}
		return before
	}
	for _, k := range []string{"session", "token", "bearer"} {
		w.waitRecord(t, audit.Query{Code: audit.CodeDecision, Actor: "alice", Action: "power.cycle", Outcome: audit.OutcomeDeny},
			func(r audit.Record) bool {
				return kind(r.Session) == k && strings.Contains(r.Reason, `role(s) "viewer"`)
			})
	}

	// (b) ops maps to no role: alice may no longer use bmcgate at all.
	w.reloadWith(t, "      ops: [viewer]\n", "")
	why := "the user's groups map to no bmcgate role in the gateway config"
	w.waitRecord(t, audit.Query{Code: audit.CodeSessionEnd, Actor: "alice", Outcome: audit.OutcomeDeny},
		func(r audit.Record) bool { return r.Door == "web" && strings.Contains(r.Reason, why) })
	resp, body := get(t, c, w.base+"/")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Your bmcgate session was ended: "+strings.ReplaceAll(why, "'", "&#39;")) {
		t.Fatalf("next page after the reload: %d %.600s", resp.StatusCode, body)
	}
	if resp, _ := get(t, noFollow(c), w.base+"/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the ended session's cookie still counts: %d", resp.StatusCode)
	}
	for name, bearer := range map[string]string{"token": pt, "jwt": jwt} {
		code, out := w.api(t, c, "POST", "/api/v1/bmcs/node01/power", bearer, cycle, nil)
		if e, _ := out["error"].(map[string]any); code != 401 || !strings.Contains(e["message"].(string), why) {
			t.Errorf("%s after the reload: %d %v", name, code, out)
		}
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeAuthFail, Actor: "alice"}, func(r audit.Record) bool {
		return strings.Contains(r.Reason, "personal API token") && strings.Contains(r.Reason, why)
	})
	if w.bmc.PowerCycles() != cycles {
		t.Fatal("a power cycle reached the BMC after the reload")
	}
}

// TestWebLiveBreakGlass: a break-glass session loses a role, then its
// account is disabled by reloads.
func TestWebLiveBreakGlass(t *testing.T) {
	item, totp := breakGlassUser(t, "breaker", "breaker-password-1", "[admin]")
	w := startWeb(t, webOptions{issuer: "http://" + freeTCPAddr(t), breakGlass: item})
	c := w.client(t)
	if loc := w.bgLogin(t, c, "breaker", "breaker-password-1", totp.Code(totp.Step(time.Now()))); loc != "/" {
		t.Fatalf("break-glass login went to %q", loc)
	}
	if resp, _ := get(t, c, w.base+"/bmc/node01/power/cycle"); resp.StatusCode != http.StatusOK {
		t.Fatalf("power cycle page as admin: %d", resp.StatusCode)
	}
	w.reloadWith(t, "      roles: [admin]\n", "      roles: [viewer]\n")
	if resp, _ := get(t, c, w.base+"/bmc/node01/power/cycle"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("power cycle page as viewer: %d", resp.StatusCode)
	}
	if code, out := w.api(t, c, "GET", "/api/v1/whoami", "", "", nil); code != 200 || roles(out) != "viewer" {
		t.Fatalf("whoami: %d %v", code, out)
	}
	w.reloadWith(t, "      roles: [viewer]\n", "      roles: [viewer]\n      disabled: true\n")
	resp, body := get(t, c, w.base+"/")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "the break-glass account is disabled in the gateway config") {
		t.Fatalf("next page after disabling: %d %.600s", resp.StatusCode, body)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeSessionEnd, Actor: "breaker", Outcome: audit.OutcomeDeny}, nil)
}

// TestWebUILiveRevokedUser: a BMC web UI session with a live websocket
// ends when a reload leaves its user without a role, and the main door's
// next page says why.
func TestWebUILiveRevokedUser(t *testing.T) {
	w := startWebUI(t)
	alice, hc, ws := w.openKVM(t, "alice", "alice-password-1")
	var echo string
	// The harness sets node01's web UI in memory only: put it in the file,
	// so that the reloads below change nothing but the group mapping. A
	// reload that revokes nothing leaves the websocket open.
	w.reloadWith(t, "  - name: node01\n", fmt.Sprintf("  - name: node01\n    web:\n      url: %q\n      login: redfish\n"+
		"      host_header: bmc_address\n      max_sessions: 4\n      idle_timeout: 10m\n      tls:\n        pin_sha256: %q\n",
		w.fake.srv.URL, w.fake.pin()))
	if err := websocket.Message.Send(ws, "again"); err != nil {
		t.Fatal(err)
	}
	if err := websocket.Message.Receive(ws, &echo); err != nil || echo != "again" {
		t.Fatalf("echo after a reload that revokes nothing: %q, %v", echo, err)
	}
	w.reloadWith(t, "      ops: [admin]\n", "")
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := websocket.Message.Receive(ws, &echo); err == nil {
		t.Fatal("websocket still open after the user lost all roles")
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeSessionEnd, Actor: "alice", Target: "node01"}, func(r audit.Record) bool {
		return strings.Contains(r.Reason, "groups map to no bmcgate role")
	})
	if resp, _ := w.bare(t, w.bmcURL("node01", "/"), hc); resp.StatusCode == http.StatusOK {
		t.Fatal("BMC host still serves after the reload")
	}
	if resp, body := get(t, alice, w.base+"/"); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Your bmcgate session was ended") {
		t.Fatalf("main door after the reload: %d %.400s", resp.StatusCode, body)
	}
}

// TestBrowserLiveSessionEnded: in Chromium, a page loaded after a reload
// that leaves the user without a role says the session was ended and why.
func TestBrowserLiveSessionEnded(t *testing.T) {
	w := startWeb(t, webOptions{})
	ctx := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(w.base+"/"), ssoLogin("alice", "alice-password-1"),
		chromedp.WaitVisible(chromedp.CSS("#bmcs"))); err != nil {
		t.Fatalf("browser login: %v", err)
	}
	w.reloadWith(t, "      ops: [admin]\n", "")
	if err := chromedp.Do(ctx, chromedp.Navigate(w.base+"/bmc/node01")); err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "Your bmcgate session was ended: the user's groups map to no bmcgate role") {
		t.Fatalf("page after the reload:\n%s", pageDump(ctx))
	}
}
