package gateway

import (
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
	"github.com/bmcgate/bmcgate/internal/testpeer/solhost"
)

// ipmisimConsoleHarness runs ipmi_sim with its SOL line wired to a fake
// host, and a gateway in front of it ("host01").
func ipmisimConsoleHarness(t *testing.T, extra string) (*harness, *ipmisim.Sim, *solhost.Host) {
	t.Helper()
	return ipmisimConsoleHarnessWith(t, extra, nil)
}

// ipmisimConsoleHarnessWith is ipmisimConsoleHarness with a last change to
// the loaded config (see startHarnessWith).
func ipmisimConsoleHarnessWith(t *testing.T, extra string, mutate func(*configs.Config)) (*harness, *ipmisim.Sim, *solhost.Host) {
	t.Helper()
	ipmisim.Require(t)
	host, err := solhost.Start(t.Context(), "BIOS v1.0\r\nbooting host01\r\n")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = host.Close() })
	sim := ipmisim.StartT(t, ipmisim.Options{SOLAddr: host.Addr()})
	waitHostConnections(t, host, 1)
	h := startHarnessWith(t, []testBMC{{name: "host01", addr: sim.Addr, user: "admin", pass: "password", suite: 3}},
		[]testUser{{name: "alice", roles: "[admin]"}, {name: "bob", roles: "[operator]"}, {name: "carol", roles: "[watcher]"}}, extra, mutate)
	return h, sim, host
}

func waitHostConnections(t *testing.T, host *solhost.Host, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for host.Connections() < n {
		if time.Now().After(deadline) {
			t.Fatal("ipmi_sim never connected to the fake host")
		}
		select {
		case <-host.Changed():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestE2EConsoleIPMISimMatchesIpmitool: through the gateway, two viewers
// see the host's output; what the writer types reaches the host exactly as
// the same text typed into `ipmitool sol activate` does.
func TestE2EConsoleIPMISimMatchesIpmitool(t *testing.T) {
	h, sim, host := ipmisimConsoleHarness(t, "")
	const text = "root\rls -la /tmp | grep 'x y' && echo \"$HOME\"\r\t~ok\x7f\r"
	typed := strings.ReplaceAll(text, "\r~", "\r~~") // a ~ at line start is typed twice

	bob := startPTY(t, h, "bob", "console", "host01")
	bob.waitFor("read-write")
	carol := startPTY(t, h, "carol", "console", "host01")
	carol.waitFor("read-only")
	// The line is active once the hub has recorded it so.
	h.waitRecord(t, audit.Query{Code: audit.CodeConsoleStatus, Target: "host01"}, func(r audit.Record) bool { return r.Fields["state"] == "active" })
	if err := host.Print("\r\nhost01 login: "); err != nil {
		t.Fatal(err)
	}
	bob.waitFor("host01 login: ")
	carol.waitFor("host01 login: ")
	host.Reset()
	mc := carol.mark()
	bob.send(typed)
	carol.waitAfter(mc, "~ok")
	waitReceived(t, host, len(text))
	viaGateway := string(host.Received())
	bob.send("\r~.")
	carol.send("~.")
	bob.wait()
	carol.wait()
	host.Reset()

	// The same text through the reference client. ipmitool's own escape
	// character is "~" too, so a "~" at line start is doubled for it as well.
	ipmitoolPTY := startPTYCmd(t, "ipmitool", "-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", strings.Split(sim.Addr, ":")[1],
		"-U", "admin", "-P", "password", "sol", "activate")
	ipmitoolPTY.waitFor("SOL Session operational")
	ipmitoolPTY.waitRaw() // ipmitool puts its terminal in raw mode just after
	host.Reset()
	ipmitoolPTY.send(typed)
	waitReceived(t, host, len(text))
	viaIpmitool := string(host.Received())
	ipmitoolPTY.send("~.")
	ipmitoolPTY.wait()
	if viaGateway != text || viaIpmitool != text {
		t.Fatalf("the host received\n via gateway  %q\n via ipmitool %q\nwant %q", viaGateway, viaIpmitool, text)
	}
}

func waitReceived(t *testing.T, host *solhost.Host, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(host.Received()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("host received %q, want %d bytes", host.Received(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // nothing more may arrive
}

// TestE2EConsoleIPMISimBusyTakeoverRestart: an outside ipmitool holds the
// console; viewers are told, an admin takes it over (audited); then the BMC
// restarts and the gateway re-activates the console while viewers stay.
func TestE2EConsoleIPMISimBusyTakeoverRestart(t *testing.T) {
	h, sim, host := ipmisimConsoleHarness(t, "console:\n  allow_takeover: true\n  keepalive: 1s\n  reconnect_min: 50ms\n  reconnect_max: 500ms\n")
	outside := startPTYCmd(t, "ipmitool", "-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", strings.Split(sim.Addr, ":")[1],
		"-U", "admin", "-P", "password", "sol", "activate")
	outside.waitFor("SOL Session operational")

	bob := startPTY(t, h, "bob", "console", "host01")
	bob.waitFor("in use by another client")
	mb := bob.mark()
	bob.send("~f")
	bob.waitAfter(mb, "write access refused") // bob lacks console.force

	alice := startPTY(t, h, "alice", "console", "host01")
	alice.waitFor("in use by another client")
	ma := alice.mark()
	alice.send("~f")
	alice.waitAfter(ma, "takes the console over")
	alice.waitAfter(ma, "console connected")
	h.waitRecord(t, audit.Query{Code: audit.CodeConsoleTakeover, Actor: "alice"}, nil)
	if err := host.Print("after takeover\r\n"); err != nil {
		t.Fatal(err)
	}
	bob.waitAfter(mb, "after takeover")

	// The BMC restarts on the same port.
	port := sim.Port
	if err := sim.Kill(); err != nil {
		t.Fatal(err)
	}
	// The gateway may re-activate the console as soon as the BMC is back,
	// before this test looks: "console connected" is looked for after
	// the loss, not after a later mark.
	ma = alice.waitAfter(ma, "console connection lost")
	bob.waitAfter(mb, "console connection lost")
	conns := host.Connections()
	ipmisim.StartT(t, ipmisim.Options{SOLAddr: host.Addr(), Port: port})
	waitHostConnections(t, host, conns+1)
	ma = alice.waitAfter(ma, "console connected")
	host.Reset()
	alice.send("back\r")
	alice.waitAfter(ma, "back\r\n")
	if got := string(host.Received()); got != "back\r" {
		t.Fatalf("host received %q", got)
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeConsoleStatus, Target: "host01", Outcome: audit.OutcomeError}, nil)
	alice.send("~.")
	bob.send("\r~.")
	alice.wait()
	bob.wait()
}
