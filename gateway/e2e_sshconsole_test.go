package gateway

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	gossh "golang.org/x/crypto/ssh"
)

// TestE2ESSHConsoleRedfishBMC attaches through OpenSSH to the console of a
// Redfish-only BMC whose console goes through the BMC's own SSH console
// service (console.via: ssh): the same hub as SOL (echo, a second viewer
// with the scrollback, re-activation after the BMC's service drops the
// connection, hand-off when the writer leaves, recording and replay,
// detach); a BMC presenting another host key than the pinned one is
// refused, and the refusal audited.
func TestE2ESSHConsoleRedfishBMC(t *testing.T) {
	const pass = "rf-Console-Pass-5"
	entry := func(name string, pinned gossh.PublicKey) (string, *bmcsim.BMC, *bmcsim.SSHConsole) {
		sim := startSim(t, name, bmcsim.Options{Username: "unused", Password: "unused-Pass-1", SOL: true})
		rf, err := sim.StartRedfish(t.Context(), bmcsim.RedfishOptions{Username: "gw", Password: pass})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rf.Close() })
		sc, err := sim.StartSSH(t.Context(), bmcsim.SSHOptions{Username: "gw", Password: pass})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sc.Close() })
		if pinned == nil {
			pinned = sc.HostKey()
		}
		_, port, _ := strings.Cut(sc.Addr(), ":")
		return redfishBMCEntry(t, t.TempDir(), name, rf, "gw", pass, "{}") + fmt.Sprintf(`    console:
      via: ssh
      profile: openbmc
      port: %s
      host_key: %q
`, port, strings.TrimSpace(string(gossh.MarshalAuthorizedKey(pinned)))), sim, sc
	}
	okEntry, _, sc := entry("rf03", nil)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	otherSigner, _ := gossh.NewSignerFromKey(other)
	badEntry, _, _ := entry("rf04", otherSigner.PublicKey())
	h := startHarness(t, nil, []testUser{{name: "bob", roles: "[operator]"}, {name: "carol", roles: "[operator]"}, {name: "aud", roles: "[auditor]"}}, okEntry+badEntry)

	c := startPTY(t, h, "bob", "console", "rf03")
	c.waitFor("read-write")
	// The simulated host shows its prompt when the console attaches;
	// input typed before that is refused, not queued.
	c.waitFor("rf03 login: ")
	c.send("root\r")
	c.waitFor("root\r\n")

	// The hub as for SOL: a second viewer gets the scrollback and the
	// same bytes live, read-only while bob writes.
	carol := startPTY(t, h, "carol", "console", "rf03")
	carol.waitFor("read-only")
	carol.waitFor("rf03 login: root\r\n") // scrollback
	mb, mc := c.mark(), carol.mark()
	c.send("hello\r")
	c.waitAfter(mb, "hello\r\n")
	carol.waitAfter(mc, "hello\r\n")

	// The BMC's SSH service drops the connection: both stay attached, are
	// told, and the gateway opens a new line to it.
	logins, _ := sc.Logins()
	mb, mc = c.mark(), carol.mark()
	sc.DropConnections()
	c.waitAfter(mb, "console connection lost")
	carol.waitAfter(mc, "console connection lost")
	c.waitAfter(mb, "console connected")
	if again, _ := sc.Logins(); again <= logins {
		t.Errorf("no new login to the BMC's SSH service after the drop (%d, then %d)", logins, again)
	}
	mc = carol.mark()
	c.send("again\r")
	carol.waitAfter(mc, "again\r\n")

	// The writer leaves: write access passes to carol.
	c.send("~.")
	c.waitFor("detached from rf03")
	if code := c.wait(); code != 0 {
		t.Fatalf("exit %d; terminal:\n%q", code, c.output())
	}
	carol.waitAfter(mc, "you now have write access")
	carol.send("~.")
	carol.wait()
	if ok, _ := sc.Logins(); ok == 0 {
		t.Error("the BMC's SSH service saw no login")
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeConsoleOutput, Target: "rf03"}, func(r audit.Record) bool {
		return strings.Contains(string(r.Data), "again\r\n")
	})
	h.waitRecord(t, audit.Query{Code: audit.CodeConsoleInput, Actor: "bob"}, nil)
	att := h.waitRecord(t, audit.Query{Code: audit.CodeConsoleAttach, Actor: "bob"}, nil)
	h.waitRecord(t, audit.Query{Code: audit.CodeConsoleDetach, Actor: "bob"}, nil)
	// Replayed: what bob saw, typed output and the lines from both
	// connections to the BMC.
	out, errOut, code := h.ssh("aud", nil, "audit", "replay", att.Session, "--speed", "0")
	if code != 0 || !strings.Contains(out, "rf03 login: root\r\n") || !strings.Contains(out, "hello\r\n") || !strings.Contains(out, "again\r\n") {
		t.Errorf("replay: exit %d, %q\n%q", code, errOut, out)
	}

	c = startPTY(t, h, "bob", "console", "rf04")
	c.waitFor("host key")
	c.send("~.")
	c.wait()
	r := h.waitRecord(t, audit.Query{Code: audit.CodeConsoleStatus, Target: "rf04"}, func(r audit.Record) bool {
		return r.Outcome == audit.OutcomeError && strings.Contains(r.Reason, "host key")
	})
	if strings.Contains(r.Reason, pass) {
		t.Errorf("the password in %+v", r)
	}
}
