package gateway

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
)

// TestE2EConsoleTargetChangedByReload: a reload that leaves a console's
// target alone keeps its viewers attached; one that points the BMC at
// another address ends the live console with a reason the viewer sees
// in OpenSSH, records it, and the next attach reaches the new target.
func TestE2EConsoleTargetChangedByReload(t *testing.T) {
	h, oldSim := consoleHarness(t, "")
	newSim, err := bmcsim.Start(t.Context(), "node01-new", bmcsim.Options{Username: "bmcadmin", Password: "sol-pass-0001", SOL: true, Privilege: "operator"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = newSim.Close() })
	reload := func(from, to string) {
		t.Helper()
		path := h.g.cfg.Path
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		changed := strings.Replace(string(orig), from, to, 1)
		if changed == string(orig) {
			t.Fatalf("config has no %q", from)
		}
		if err := os.WriteFile(path, []byte(changed), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := h.g.Reload(context.Background()); err != nil {
			t.Fatalf("reload: %v", err)
		}
	}

	c := startPTY(t, h, "bob", "console", "node01")
	c.waitFor("read-write")
	c.waitFor("node01 login: ")
	// A reload that changes something else: the console stays.
	reload("name: vic\n", "name: vic\n    disabled: true\n")
	m := c.mark()
	c.send("root\r")
	c.waitAfter(m, "root\r\n")

	// The BMC now answers at another address: the console ends.
	reload(oldSim.Addr(), newSim.Addr())
	c.waitFor("console target changed by reload")
	if code := c.wait(); code == 0 {
		t.Errorf("the client exited 0 after the console was ended; terminal:\n%q", c.output())
	}
	r := h.waitRecord(t, audit.Query{Code: audit.CodeConsoleStatus, Target: "node01"}, func(r audit.Record) bool {
		return r.Reason == "console target changed by reload"
	})
	if r.Fields["state"] != "ended" || r.Fields[audit.FieldConsole] == "" {
		t.Errorf("console end record %+v", r)
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeConsoleDetach, Actor: "bob"}, func(r audit.Record) bool {
		return strings.Contains(r.Reason, "console target changed by reload")
	})

	// The next attach opens a line to the new target.
	c = startPTY(t, h, "bob", "console", "node01")
	c.waitFor("read-write")
	c.waitFor("node01-new login: ")
	c.send("admin\r")
	c.waitFor("login: admin\r\n")
	c.send("~.")
	c.waitFor("detached from node01")
	c.wait()
	if got := string(newSim.ConsoleReceived()); !strings.Contains(got, "admin\r") {
		t.Errorf("the new target received %q", got)
	}
	if got := string(oldSim.ConsoleReceived()); strings.Contains(got, "admin") {
		t.Errorf("the old target received input after the reload: %q", got)
	}
}
