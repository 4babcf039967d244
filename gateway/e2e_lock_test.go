package gateway

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/locks"
)

// TestE2ELockUser: bmcgate lock (the data dir's locks file) ends a user's
// live shell with the reason and refuses their next login until the lock
// is lifted; other users go on. Each is audited.
func TestE2ELockUser(t *testing.T) {
	h := authHarness(t, "")
	sh := startPTYCmd(t, "ssh", append(h.sshArgs("vic", "-T"), "vic@127.0.0.1")...)
	sh.send("whoami\n")
	sh.waitFor("roles:   viewer")
	if err := locks.Set(h.g.cfg.DataDir, "vic", time.Hour, "incident 42", time.Now()); err != nil {
		t.Fatal(err)
	}
	sh.waitFor("session ended: the user is locked: incident 42")
	if code := sh.wait(); code != exitRefusedStatus {
		t.Fatalf("exit %d:\n%q", code, sh.output())
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeLockSet}, func(r audit.Record) bool {
		return r.Target == "vic" && r.Reason == "incident 42" && r.Fields["until"] != ""
	})
	h.waitRecord(t, audit.Query{Code: audit.CodeSessionEnd, Actor: "vic"}, func(r audit.Record) bool {
		return strings.Contains(r.Reason, "locked")
	})
	if _, errOut, code := h.ssh("vic", nil, "whoami"); code == 0 || !strings.Contains(errOut, "the user is locked: incident 42") {
		t.Fatalf("locked user's login: %d %q", code, errOut)
	}
	if out, _, code := h.ssh("alice", nil, "whoami"); code != 0 || !strings.Contains(out, "alice") {
		t.Fatalf("alice while vic is locked: %d %q", code, out)
	}
	if err := locks.Lift(h.g.cfg.DataDir, "vic", "cleared", time.Now()); err != nil {
		t.Fatal(err)
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeLockLift}, func(r audit.Record) bool { return r.Target == "vic" })
	if out, errOut, code := h.ssh("vic", nil, "whoami"); code != 0 || !strings.Contains(out, "vic") {
		t.Fatalf("vic after unlock: %d %q %q", code, out, errOut)
	}
}

// TestE2ELockRole: a lock of a role name refuses everyone holding it.
func TestE2ELockRole(t *testing.T) {
	h := authHarness(t, "")
	if err := locks.Set(h.g.cfg.DataDir, "admin", 0, "rotate admin keys", time.Now()); err != nil {
		t.Fatal(err)
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeLockSet}, func(r audit.Record) bool { return r.Target == "admin" })
	if _, errOut, code := h.ssh("alice", nil, "whoami"); code == 0 || !strings.Contains(errOut, "the role admin is locked: rotate admin keys") {
		t.Fatalf("admin while the role is locked: %d %q", code, errOut)
	}
	if out, _, code := h.ssh("vic", nil, "whoami"); code != 0 || !strings.Contains(out, "vic") {
		t.Fatalf("vic (viewer): %d %q", code, out)
	}
}

// TestWebLockedUser: a lock ends the user's web session at once (its next
// page says why) and refuses their next single sign-on login.
func TestWebLockedUser(t *testing.T) {
	w := startWeb(t, webOptions{})
	c := w.client(t)
	if resp, _ := w.login(t, c, "vic", "vic-password-1", "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	if err := locks.Set(w.g.cfg.DataDir, "vic", 0, "left the team", time.Now()); err != nil {
		t.Fatal(err)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeSessionEnd, Actor: "vic"}, func(r audit.Record) bool {
		return r.Door == "web" && strings.Contains(r.Reason, "the user is locked: left the team")
	})
	if resp, body := get(t, c, w.base+"/"); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "the user is locked: left the team") {
		t.Fatalf("page after the lock: %d %.400s", resp.StatusCode, body)
	}
	resp, body := w.login(t, w.client(t), "vic", "vic-password-1", "/")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "You may not log in to bmcgate now: the user is locked: left the team") {
		t.Fatalf("login while locked: %d %.400s", resp.StatusCode, body)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeAuthFail, Actor: "vic"}, func(r audit.Record) bool { return strings.Contains(r.Reason, "locked") })
}
