package gateway

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"golang.org/x/net/websocket"
)

// dialKVM opens node01's websocket echo through the gateway with the
// BMC-host cookie.
func (w *webUIHarness) dialKVM(t *testing.T, cookie string) *websocket.Conn {
	t.Helper()
	ws, err := dialWS(t, "node01.localhost", w.port, strings.Replace(w.bmcURL("node01", "/kvm"), "https", "wss", 1), w.bmcURL("node01", ""), cookie)
	if err != nil {
		t.Fatalf("websocket: %v", err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	return ws
}

// openKVM logs user in, opens node01's web UI and its websocket echo, and
// checks that the echo works. It returns the user's client, the BMC-host
// cookie header and the websocket.
func (w *webUIHarness) openKVM(t *testing.T, user, password string) (*http.Client, string, *websocket.Conn) {
	t.Helper()
	c := w.loginUI(t, user, password)
	w.enter(t, c, "node01")
	hc := "__Host-bmcgate-bmc=" + w.hostCookie(t, c, "node01")
	ws := w.dialKVM(t, hc)
	if err := websocket.Message.Send(ws, "hello"); err != nil {
		t.Fatal(err)
	}
	var echo string
	if err := websocket.Message.Receive(ws, &echo); err != nil || echo != "hello" {
		t.Fatalf("echo %q, %v", echo, err)
	}
	return c, hc, ws
}

// logoutClosesWS logs c out of the gateway and fails the test unless ws, a
// websocket of one of c's BMC-host sessions (what, in the failure), is
// closed within 10 seconds.
func (w *webUIHarness) logoutClosesWS(t *testing.T, c *http.Client, ws *websocket.Conn, what string) {
	t.Helper()
	_, dash := get(t, c, w.base+"/")
	w.post(t, c, "/logout", urlValues("csrf", csrf(t, dash)), "")
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var msg string
	if err := websocket.Message.Receive(ws, &msg); err == nil {
		t.Fatal(what + " still open after logout")
	}
}

// TestWebUILiveRevocation: a reload that withdraws web.access ends the
// user's BMC-host session, its live websocket included.
func TestWebUILiveRevocation(t *testing.T) {
	w := startWebUI(t)
	_, hc, ws := w.openKVM(t, "vic", "vic-password-1")
	var echo string
	w.waitRecord(t, audit.Query{Code: audit.CodeWebUIWSOpen, Actor: "vic"}, nil)

	// The config file has no web.access for viewers (the harness adds it
	// in memory only): reloading it withdraws vic's access.
	if err := w.g.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := websocket.Message.Receive(ws, &echo); err == nil {
		t.Fatal("websocket still open after web.access was withdrawn")
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeSessionEnd, Actor: "vic", Target: "node01"}, func(r audit.Record) bool {
		return strings.Contains(r.Reason, "web.access withdrawn")
	})
	w.waitRecord(t, audit.Query{Code: audit.CodeWebUIWSClose, Actor: "vic"}, nil)
	if resp, _ := w.bare(t, w.bmcURL("node01", "/"), hc); resp.StatusCode == http.StatusOK {
		t.Fatal("BMC host still serves after the reload")
	}
}

// TestWebUIRedfishReset: a user with power.* may reset through the BMC's
// Redfish API; the decision is recorded with the action it maps to.
func TestWebUIRedfishReset(t *testing.T) {
	w := startWebUI(t)
	alice := w.loginUI(t, "alice", "alice-password-1")
	w.enter(t, alice, "node01")
	req, _ := http.NewRequest(http.MethodPost, w.bmcURL("node01", "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset"),
		strings.NewReader(`{"ResetType":"ForceRestart"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", w.bmcURL("node01", ""))
	resp, body := do(t, alice, req)
	if resp.StatusCode != http.StatusNoContent || w.fake.resets.Load() != 1 {
		t.Fatalf("reset: %d %q, BMC saw %d", resp.StatusCode, body, w.fake.resets.Load())
	}
	d := w.waitRecord(t, audit.Query{Code: audit.CodeDecision, Actor: "alice", Target: "node01", Outcome: audit.OutcomeAllow},
		func(r audit.Record) bool { return strings.HasPrefix(r.Action, "power.") })
	r := w.waitRecord(t, audit.Query{Code: audit.CodeWebUIRequest, Actor: "alice", Action: d.Action}, nil)
	if r.Fields["status"] != "204" || r.Fields["redfish"] != "ComputerSystem.Reset" || r.Outcome != audit.OutcomeOK {
		t.Fatalf("request record %+v", r)
	}
}

// TestWebUILogoutEndsWebsocket: logging out on the main host ends the live
// websocket on the BMC host and logs the gateway out of the BMC.
func TestWebUILogoutEndsWebsocket(t *testing.T) {
	w := startWebUI(t)
	alice := w.loginUI(t, "alice", "alice-password-1")
	w.enter(t, alice, "node01")
	ws := w.dialKVM(t, "__Host-bmcgate-bmc="+w.hostCookie(t, alice, "node01"))
	if err := websocket.Message.Send(ws, "x"); err != nil {
		t.Fatal(err)
	}
	var echo string
	if err := websocket.Message.Receive(ws, &echo); err != nil {
		t.Fatal(err)
	}
	w.logoutClosesWS(t, alice, ws, "websocket")
	w.waitRecord(t, audit.Query{Code: audit.CodeWebUIWSClose, Actor: "alice"}, nil)
	// The BMC-side logout follows the close record. Once it is seen and
	// the gateway has stopped (its shutdown logs out every BMC-side
	// session still held), the BMC must have seen exactly one.
	select {
	case <-w.fake.loggedOut:
	case <-time.After(10 * time.Second):
		t.Fatal("no BMC-side logout")
	}
	w.stop()
	if n := w.fake.logouts.Load(); n != 1 {
		t.Fatalf("BMC-side logouts: %d", n)
	}
}
