package gateway

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/service"
)

// TestE2ESessionsTerminate: a user with session.join sees the live SSH and
// web sessions over SSH and on the web page; with session.terminate they
// end one with a reason its user is shown. A user without them is denied.
// All audited.
func TestE2ESessionsTerminate(t *testing.T) {
	w := startWeb(t, webOptions{})
	// alice is the config's SSH user (admin) and moderates; vic logs in on
	// the web.
	web := w.client(t)
	if resp, _ := w.login(t, web, "vic", "vic-password-1", "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("web login: %d", resp.StatusCode)
	}
	sh := startPTYCmd(t, "ssh", append(w.sshArgs("alice", "-T"), "alice@127.0.0.1")...)
	sh.send("whoami\n")
	sh.waitFor("session: ")

	out, errOut, code := w.ssh("alice", nil, "sessions", "--json")
	var list []service.LiveSession
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil {
		t.Fatalf("sessions: %d %q %q", code, out, errOut)
	}
	var sshID, webID string
	for _, ls := range list {
		switch {
		case ls.Door == "ssh" && ls.User == "alice" && sshID == "":
			sshID = ls.ID
		case ls.Door == "web" && ls.User == "vic":
			webID = ls.ID
		}
	}
	if sshID == "" || webID == "" {
		t.Fatalf("sessions list lacks the shell or the web login: %+v", list)
	}
	if out, _, code := w.ssh("alice", nil, "sessions"); code != 0 || !strings.Contains(out, webID) || !strings.Contains(out, "vic") {
		t.Fatalf("sessions table: %d %q", code, out)
	}
	// The web page, for a moderator logged in on the web.
	admin := w.client(t)
	w.login(t, admin, "alice", "alice-password-1", "/")
	if resp, body := get(t, admin, w.base+"/sessions"); resp.StatusCode != http.StatusOK || !strings.Contains(body, webID) {
		t.Fatalf("sessions page: %d %.600s", resp.StatusCode, body)
	}
	// vic (viewer) may not list them.
	if resp, _ := get(t, web, w.base+"/sessions"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer's sessions page: %d", resp.StatusCode)
	}

	// Terminate the web login from SSH: vic's next page says who and why.
	if _, errOut, code := w.ssh("alice", nil, "sessions", "terminate", webID); code != 1 || !strings.Contains(errOut, "reason") {
		t.Fatalf("terminate without a reason: %d %q", code, errOut)
	}
	if out, errOut, code := w.ssh("alice", nil, "sessions", "terminate", webID, "--reason", "'audit of the rack'"); code != 0 {
		t.Fatalf("terminate web: %d %q %q", code, out, errOut)
	}
	if resp, body := get(t, web, w.base+"/"); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "terminated by alice: audit of the rack") {
		t.Fatalf("vic's page after termination: %d %.400s", resp.StatusCode, body)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeSessionTerminate, Actor: "alice"}, func(r audit.Record) bool {
		return r.Target == webID && r.Outcome == audit.OutcomeOK && strings.Contains(r.Reason, "audit of the rack")
	})

	// Terminate the SSH shell from the web page.
	_, page := get(t, admin, w.base+"/sessions")
	resp, body := w.post(t, admin, "/sessions/terminate", url.Values{"csrf": {csrf(t, page)}, "id": {sshID}, "reason": {"rebooting the gateway"}}, "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "was terminated") {
		t.Fatalf("terminate from the page: %d %.400s", resp.StatusCode, body)
	}
	sh.waitFor("session ended: terminated by alice: rebooting the gateway")
	if code := sh.wait(); code != exitRefusedStatus {
		t.Fatalf("shell exit %d", code)
	}
	if _, _, code := w.ssh("alice", nil, "sessions", "terminate", "nope", "--reason", "x"); code != 1 {
		t.Fatalf("unknown session: %d", code)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeSessionTerminate}, func(r audit.Record) bool { return r.Target == "nope" && r.Outcome == audit.OutcomeFail })
}
