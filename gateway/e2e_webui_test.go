package gateway

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/configs"
)

// TestWebUIOpen follows the dashboard's "Open web UI" form: the ticket
// redirect lands on the BMC host, which shows the BMC page logged in
// without the browser ever holding the BMC's token or password.
func TestWebUIOpen(t *testing.T) {
	w := startWebUI(t)
	c := w.loginUI(t, "alice", "alice-password-1")
	_, dash := get(t, c, w.base+"/")
	if !strings.Contains(dash, `action="/bmc/node01/webui"`) {
		t.Fatalf("dashboard has no web UI button: %.500s", dash)
	}
	if _, page := get(t, c, w.base+"/bmc/node01"); !strings.Contains(page, `id="webui"`) {
		t.Fatalf("BMC page has no web UI button: %.500s", page)
	}
	resp, loc := w.ticketURL(t, c, "node01")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, w.bmcURL("node01", "/.bmcgate/enter?ticket=")) {
		t.Fatalf("open: %d %q", resp.StatusCode, loc)
	}
	resp, _ = get(t, c, loc)
	if ck := resp.Header.Get("Set-Cookie"); resp.StatusCode != http.StatusOK || !strings.Contains(ck, "SameSite=Strict") {
		t.Fatalf("enter: %d, cookie %q", resp.StatusCode, ck)
	}
	resp, body := get(t, c, w.bmcURL("node01", "/"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "logged in to the BMC") {
		t.Fatalf("BMC page: %d %.300s", resp.StatusCode, body)
	}
	if csp := resp.Header.Values("Content-Security-Policy"); !slices.Contains(csp, "frame-ancestors 'self'") || resp.Header.Get("X-Frame-Options") != "SAMEORIGIN" {
		t.Fatalf("BMC page framing policy: CSP %q, X-Frame-Options %q", csp, resp.Header.Get("X-Frame-Options"))
	}
	for k, v := range resp.Header {
		if strings.Contains(strings.ToLower(k+strings.Join(v, " ")), "secret-bmc-token") {
			t.Fatalf("BMC token leaked in header %s", k)
		}
	}
	u, _ := resp.Request.URL.Parse("/")
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name != "__Host-bmcgate-bmc" {
			t.Errorf("unexpected cookie on the BMC host: %s", ck.Name)
		}
	}
	seen := w.fake.headersSeen()
	if strings.Contains(seen, "__Host-bmcgate") {
		t.Fatalf("gateway cookie forwarded to the BMC:\n%s", seen)
	}
	rec := w.waitRecord(t, audit.Query{Code: audit.CodeWebUIRequest, Target: "node01"}, func(r audit.Record) bool {
		return r.Fields["path"] == "/" && r.Fields["status"] == "200"
	})
	if rec.Actor != "alice" || rec.Door != audit.DoorWeb || rec.Action != "web.access" {
		t.Fatalf("request record %+v", rec)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeDecision, Target: "node01", Action: "web.access", Outcome: audit.OutcomeAllow}, nil)

	// Logging out on the main host ends the BMC host session and logs the
	// gateway out of the BMC.
	_, dash = get(t, c, w.base+"/")
	w.post(t, c, "/logout", urlValues("csrf", csrf(t, dash)), "")
	resp, _ = get(t, c, w.bmcURL("node01", "/"))
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("BMC host after logout: %d", resp.StatusCode)
	}
	if w.fake.logouts.Load() != 1 {
		t.Fatalf("BMC-side logouts: %d", w.fake.logouts.Load())
	}
}

// TestWebUIInsecureFlagged: a BMC whose certificate is not verified is
// flagged next to its web UI button.
func TestWebUIInsecureFlagged(t *testing.T) {
	w := startWebUI(t, func(c *configs.Config) {
		c.BMCs[1].WebUI.TLS = configs.BMCWebTLS{InsecureSkipVerifyDangerous: true}
	})
	c := w.loginUI(t, "alice", "alice-password-1")
	_, dash := get(t, c, w.base+"/")
	row := func(name string) string {
		i := strings.Index(dash, `id="bmc-`+name+`"`)
		if i < 0 {
			t.Fatalf("no row for %s", name)
		}
		end := strings.Index(dash[i:], "</tr>")
		return dash[i : i+end]
	}
	if strings.Contains(row("node01"), "not verified") || !strings.Contains(row("node02"), "BMC certificate not verified") {
		t.Fatalf("dashboard rows:\n%s\n%s", row("node01"), row("node02"))
	}
	w.enter(t, c, "node02") // it still works; it is flagged, not refused
}
