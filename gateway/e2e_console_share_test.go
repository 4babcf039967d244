package gateway

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
)

// TestE2EConsoleSharing: two viewers see the same bytes; only the writer's
// typing reaches the host; ~w, ~?, ~B, ~~, ~f (with and without
// console.force) and the hand-off when the writer leaves.
func TestE2EConsoleSharing(t *testing.T) {
	h, _ := consoleHarness(t, "")
	bob := startPTY(t, h, "bob", "console", "node01")
	bob.waitFor("read-write")
	bob.waitFor("login: ")
	carol := startPTY(t, h, "carol", "console", "node01")
	carol.waitFor("read-only")
	carol.waitFor("node01 login: ") // scrollback

	// The writer types; both terminals show the same echo.
	mb, mc := bob.mark(), carol.mark()
	bob.send("hello\r")
	bob.waitAfter(mb, "hello\r\n")
	carol.waitAfter(mc, "hello\r\n")

	// A read-only viewer's typing does not reach the host.
	mc = carol.mark()
	carol.send("zzz")
	carol.waitAfter(mc, "read-only: your typing is not sent")
	carol.send("\r~f")
	carol.waitAfter(mc, "write access refused")

	// Escapes: who, help, break, literal escape character.
	mb = bob.mark()
	bob.send("~w")
	bob.waitAfter(mb, "2 attached to node01")
	bob.waitAfter(mb, "bob from")
	bob.waitAfter(mb, "writer")
	bob.waitAfter(mb, "carol from")
	bob.send("~?")
	bob.waitAfter(mb, "~.  detach")
	bob.send("~B")
	bob.waitAfter(mb, "serial break sent")
	bob.send("~~tilde\r")
	bob.waitAfter(mb, "~tilde\r\n")

	// An admin (console.force) takes write access; bob is told.
	alice := startPTY(t, h, "alice", "console", "node01")
	alice.waitFor("read-only while bob has write access")
	ma := alice.mark()
	mb = bob.mark()
	alice.send("~f")
	alice.waitAfter(ma, "you have write access")
	bob.waitAfter(mb, "alice took write access")
	h.waitRecord(t, audit.Query{Code: audit.CodeConsoleHandoff, Actor: "alice"}, func(r audit.Record) bool { return r.Fields["from"] == "bob" })
	mb, mc = bob.mark(), carol.mark()
	bob.send("ignored")
	bob.waitAfter(mb, "read-only")
	alice.send("admin\r")
	alice.waitAfter(ma, "admin\r\n")
	carol.waitAfter(mc, "admin\r\n")
	if strings.Contains(carol.output(), "zzz") || strings.Contains(carol.output(), "ignored") {
		t.Fatalf("read-only input reached the host:\n%q", carol.output())
	}

	// The writer leaves: write access goes to the longest-attached viewer
	// allowed to write (bob), not to carol.
	mb = bob.mark()
	alice.send("\r~.")
	if code := alice.wait(); code != 0 {
		t.Fatalf("alice exit %d", code)
	}
	bob.waitAfter(mb, "you now have write access")
	bob.send("back\r")
	bob.waitAfter(mb, "back\r\n")

	bob.send("\r~.")
	carol.send("~.")
	if bob.wait() != 0 || carol.wait() != 0 {
		t.Fatal("viewers did not detach cleanly")
	}
}

// TestE2EConsoleReloadRecheck: after a reload, a viewer who lost
// console.attach is detached with the reason, and a writer who lost
// console.write is demoted.
func TestE2EConsoleReloadRecheck(t *testing.T) {
	h, _ := consoleHarness(t, "")
	bob := startPTY(t, h, "bob", "console", "node01")
	bob.waitFor("read-write")
	carol := startPTY(t, h, "carol", "console", "node01")
	carol.waitFor("read-only")
	path := h.g.cfg.Path
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(orig), `["bmc.list", "console.attach", "console.write"]`, `["bmc.list", "console.attach"]`, 1)
	changed = strings.Replace(changed, "  - name: carol\n    roles: [watcher]\n", "  - name: carol\n    roles: [viewer]\n", 1)
	if changed == string(orig) {
		t.Fatal("config did not change")
	}
	if err := os.WriteFile(path, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	mb := bob.mark()
	if err := h.g.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	carol.waitFor("detached: no longer allowed")
	if code := carol.wait(); code != 1 {
		t.Fatalf("carol exit %d", code)
	}
	bob.waitAfter(mb, "write access withdrawn")
	bob.send("x")
	bob.waitAfter(mb, "read-only: your typing is not sent")
	h.waitRecord(t, audit.Query{Code: audit.CodeConsoleDetach, Actor: "carol", Outcome: audit.OutcomeError}, func(r audit.Record) bool {
		return strings.Contains(r.Reason, "no longer allowed")
	})
	bob.send("\r~.")
	if code := bob.wait(); code != 0 {
		t.Fatalf("bob exit %d", code)
	}
}

// TestE2EConsoleIdleTimeout: a viewer that types nothing is detached.
func TestE2EConsoleIdleTimeout(t *testing.T) {
	h, _ := consoleHarness(t, "console:\n  idle_timeout: 10s\n")
	h.g.consoles.hub.Load().SetIdleTimeout(300 * time.Millisecond)
	c := startPTY(t, h, "bob", "console", "node01")
	c.waitFor("idle for too long")
	if code := c.wait(); code != 1 {
		t.Fatalf("exit %d", code)
	}
}
