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
// service (console.via: ssh): the same hub as SOL (echo, detach,
// recording); a BMC presenting another host key than the pinned one is
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
	h := startHarness(t, nil, []testUser{{name: "bob", roles: "[operator]"}, {name: "aud", roles: "[auditor]"}}, okEntry+badEntry)

	c := startPTY(t, h, "bob", "console", "rf03")
	c.waitFor("read-write")
	// The simulated host shows its prompt when the console attaches;
	// input typed before that is refused, not queued.
	c.waitFor("rf03 login: ")
	c.send("root\r")
	c.waitFor("root\r\n")
	c.send("~.")
	c.waitFor("detached from rf03")
	if code := c.wait(); code != 0 {
		t.Fatalf("exit %d; terminal:\n%q", code, c.output())
	}
	if ok, _ := sc.Logins(); ok == 0 {
		t.Error("the BMC's SSH service saw no login")
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeConsoleOutput, Target: "rf03"}, nil)
	h.waitRecord(t, audit.Query{Code: audit.CodeConsoleInput, Actor: "bob"}, nil)

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
