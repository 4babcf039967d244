package gateway

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/offline"
	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
	"github.com/bmcgate/bmcgate/internal/testpeer/solhost"
)

// Consoles under faults, against ipmi_sim: a full data directory, and an
// outside ipmitool that deactivates or takes the console while it is idle.

// requireRoot skips t (fails it with BMCGATE_REQUIRE_PEERS set) unless the
// test can do what needs root, saying why.
func requireRoot(t *testing.T, why string) {
	t.Helper()
	msg := ""
	if os.Geteuid() != 0 {
		msg = "not root"
	} else if _, err := exec.LookPath("mount"); err != nil {
		msg = "no mount command"
	}
	if msg == "" {
		return
	}
	if os.Getenv(ipmisim.RequirePeersEnv) != "" {
		t.Fatalf("%s needs root (%s), and %s is set", why, msg, ipmisim.RequirePeersEnv)
	}
	t.Skipf("%s needs root (%s); run as root or set %s=1 to make this a failure", why, msg, ipmisim.RequirePeersEnv)
}

// tmpfsDir mounts a tmpfs of the given size (e.g. "4m") for the test.
func tmpfsDir(t *testing.T, size string) string {
	t.Helper()
	requireRoot(t, "a small tmpfs data directory")
	dir := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv(ipmisim.RequirePeersEnv) != "" {
			t.Fatalf("mount tmpfs: %v: %s", err, out)
		}
		t.Skipf("mounting a tmpfs is not permitted here (%v: %s)", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fill writes to dir until the filesystem is full and returns the file.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 64<<10)
	for range 1 << 14 { // bounded: 1 GiB
		if _, err := f.Write(block); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				break
			}
			t.Fatal(err)
		}
	}
	// The last bytes: small writes until not one more fits.
	for range 1 << 16 {
		if _, err := f.Write(block[:512]); err != nil {
			break
		}
	}
	return path
}

// ipmisimFaultHarness is ipmisimConsoleHarness with the config changed by
// mutate (for example the data directory), for tests that also run ipmitool.
func ipmisimFaultHarness(t *testing.T, extra string, mutate func(*configs.Config)) (*harness, *ipmisim.Sim, *solhost.Host) {
	t.Helper()
	ipmisim.RequireBinaries(t, "ipmitool")
	return ipmisimConsoleHarnessWith(t, extra, mutate)
}

// recordedInput returns the input the audit log says was sent to the BMC
// (console.input chunks recorded before sending), and the bytes it says
// were not delivered or refused.
func recordedInput(t *testing.T, search audit.SearchFunc) (sent, notSent []byte) {
	t.Helper()
	err := search(context.Background(), audit.Query{Code: audit.CodeConsoleInput, Limit: audit.MaxSearchLimit}, func(r audit.Record) error {
		fr, err := audit.ChunkFrames(r)
		if err != nil {
			return err
		}
		for _, f := range fr {
			if r.Outcome == audit.OutcomeOK {
				sent = append(sent, f.Data...)
			} else {
				notSent = append(notSent, f.Data...)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sent, notSent
}

// TestE2EConsoleFullDataDirRecordsBeforeSend: the data directory fills up
// while a writer types. Every byte the host receives was recorded as
// console.input first; when recording fails the input is not sent and the
// writer is told.
func TestE2EConsoleFullDataDirRecordsBeforeSend(t *testing.T) {
	data := tmpfsDir(t, "4m")
	// No free-space floor: the disk fills while the session runs (the
	// floor only refuses new sessions; TestE2EDiskFloorRefusesNewSessions).
	h, _, host := ipmisimFaultHarness(t, "audit:\n  min_free: \"0\"\n", func(c *configs.Config) { c.DataDir = data })
	bob := startPTY(t, h, "bob", "console", "host01")
	bob.waitFor("read-write")
	waitLive(t, host, bob)
	bob.send("echo before\r")
	waitReceived(t, host, len("echo before\r"))

	filler := fill(t, data)
	ended := false
	for i := range 400 { // bounded: the session ends long before
		m := bob.mark()
		bob.send("echo typed-while-full-" + strings.Repeat("x", 40) + "\r")
		if bob.sawAfter(m, "could not be recorded") || bob.sawAfter(m, "recording failed") || bob.exited() {
			ended = true
			t.Logf("recording failed after %d lines", i+1)
			break
		}
		time.Sleep(20 * time.Millisecond) // pace the typist, not a synchronisation
	}
	if !ended {
		t.Fatalf("400 lines typed into a full data directory without a recording failure:\n%q", bob.output())
	}
	if code := bob.wait(); code == 0 {
		t.Fatalf("the session survived the recording failure")
	}
	received := append([]byte(nil), host.Received()...)
	h.stop()
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	s, err := offline.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sent, _ := recordedInput(t, s.Search)
	if !bytes.HasPrefix(sent, received) {
		t.Fatalf("the host received input the audit log does not hold:\n host    %q\n recorded %q", received, sent)
	}
	t.Logf("host received %d bytes, %d recorded as sent", len(received), len(sent))
}

// outsideSOL runs `ipmitool sol activate` against sim in a terminal.
func outsideSOL(t *testing.T, sim *ipmisim.Sim) *ptyClient {
	t.Helper()
	c := startPTYCmd(t, "ipmitool", "-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", strings.Split(sim.Addr, ":")[1],
		"-U", "admin", "-P", "password", "sol", "activate")
	c.waitFor("SOL Session operational")
	return c
}

// outsideDeactivate runs `ipmitool sol deactivate` against sim.
func outsideDeactivate(t *testing.T, sim *ipmisim.Sim) {
	t.Helper()
	out, err := exec.Command("ipmitool", "-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", strings.Split(sim.Addr, ":")[1],
		"-U", "admin", "-P", "password", "sol", "deactivate").CombinedOutput()
	if err != nil {
		t.Fatalf("ipmitool sol deactivate: %v: %s", err, out)
	}
}

// TestE2EConsoleOutsideTakeoverIsNotUndone: with allow_takeover off, an
// outside client deactivates the gateway's idle console and activates its
// own. The viewers are told who holds the console, typing is refused (and
// recorded as refused), the gateway never deactivates the outside client,
// and it gets the console back once the outside client leaves.
func TestE2EConsoleOutsideTakeoverIsNotUndone(t *testing.T) {
	h, sim, host := ipmisimFaultHarness(t, "console:\n  reconnect_min: 200ms\n  reconnect_max: 1s\n", nil)
	bob := startPTY(t, h, "bob", "console", "host01")
	waitLive(t, host, bob)
	carol := startPTY(t, h, "carol", "console", "host01")
	carol.waitFor("read-only")
	mb, mc := bob.mark(), carol.mark()

	outsideDeactivate(t, sim)
	outside := outsideSOL(t, sim)
	// Nobody types: the payload check notices.
	bob.waitAfter(mb, "another client took the console (BMC session")
	carol.waitAfter(mc, "another client took the console (BMC session")
	bob.waitAfter(mb, "console.allow_takeover")

	m := bob.mark()
	bob.send("echo mine\r")
	bob.waitAfter(m, "not sent (nor kept for later): the console is not connected")
	h.waitRecord(t, audit.Query{Code: audit.CodeConsoleInput, Actor: "bob", Outcome: audit.OutcomeError}, func(r audit.Record) bool {
		return r.Fields["input"] == "refused" && bytes.Contains(r.Data, []byte("echo mine"))
	})
	// Several re-checks later the outside client still holds the console.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(outside.output(), "deactivated") || outside.exited() {
			t.Fatalf("the gateway ended the outside client's console:\n%q", outside.output())
		}
		time.Sleep(100 * time.Millisecond) // observation window, not a synchronisation
	}
	if got := h.records(t, audit.Query{Code: audit.CodeConsoleTakeover}); len(got) != 0 {
		t.Fatalf("takeover records without a takeover: %+v", got)
	}
	if strings.Contains(string(host.Received()), "mine") {
		t.Fatalf("refused input reached the host: %q", host.Received())
	}

	// The outside client leaves; the gateway gets the console back.
	m = bob.mark()
	outside.send("~.")
	outside.wait()
	bob.waitAfter(m, "console connected")
	host.Reset()
	bob.send("echo back\r")
	waitReceived(t, host, len("echo back\r"))
	if got := string(host.Received()); got != "echo back\r" {
		t.Fatalf("host received %q", got)
	}
}

// TestE2EConsoleOutsideTakeoverWithTakeoverAllowed: with allow_takeover on,
// the gateway still never evicts the outside client by itself; a user with
// console.force does, which is audited and told to every viewer.
func TestE2EConsoleOutsideTakeoverWithTakeoverAllowed(t *testing.T) {
	h, sim, host := ipmisimFaultHarness(t, "console:\n  allow_takeover: true\n  reconnect_min: 200ms\n  reconnect_max: 1s\n", nil)
	alice := startPTY(t, h, "alice", "console", "host01")
	waitLive(t, host, alice)
	carol := startPTY(t, h, "carol", "console", "host01")
	carol.waitFor("read-only")
	ma, mc := alice.mark(), carol.mark()
	outsideDeactivate(t, sim)
	outside := outsideSOL(t, sim)
	alice.waitAfter(ma, "another client took the console")
	alice.waitAfter(ma, "~f takes it over")
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if outside.exited() || strings.Contains(outside.output(), "deactivated") {
			t.Fatalf("the gateway evicted the outside client by itself:\n%q", outside.output())
		}
		time.Sleep(100 * time.Millisecond) // observation window, not a synchronisation
	}
	ma = alice.mark()
	alice.send("~f")
	alice.waitAfter(ma, "console connected")
	carol.waitAfter(mc, "alice takes the console over from BMC session")
	r := h.waitRecord(t, audit.Query{Code: audit.CodeConsoleTakeover, Actor: "alice"}, nil)
	if !strings.Contains(r.Fields["holder"], "BMC session") {
		t.Fatalf("takeover record without the holder: %+v", r.Fields)
	}
	host.Reset()
	alice.send("echo taken\r")
	waitReceived(t, host, len("echo taken\r"))
}

// TestE2EConsoleOutsideDeactivateWhileIdle: an outside `sol deactivate`
// while the console is idle is noticed without a keystroke; a line typed
// during the outage is either refused whole (and recorded as refused) or
// delivered whole, never cut; the console comes back by itself.
func TestE2EConsoleOutsideDeactivateWhileIdle(t *testing.T) {
	h, sim, host := ipmisimFaultHarness(t, "console:\n  reconnect_min: 2s\n  reconnect_max: 4s\n", nil)
	bob := startPTY(t, h, "bob", "console", "host01")
	waitLive(t, host, bob)
	carol := startPTY(t, h, "carol", "console", "host01")
	carol.waitFor("read-only")
	mb, mc := bob.mark(), carol.mark()
	outsideDeactivate(t, sim)
	bob.waitAfter(mb, "console connection lost: the BMC ended the console session")
	carol.waitAfter(mc, "console connection lost: the BMC ended the console session")

	host.Reset()
	const line = "echo X1-during-outage\r"
	bob.send(line)
	bob.waitAfter(mb, "console connected")
	bob.send("echo X2\r")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(string(host.Received()), "echo X2\r") {
		if time.Now().After(deadline) {
			t.Fatalf("host received %q", host.Received())
		}
		time.Sleep(20 * time.Millisecond)
	}
	got := string(host.Received())
	refused := false
	for _, r := range h.records(t, audit.Query{Code: audit.CodeConsoleInput, Actor: "bob", Outcome: audit.OutcomeError}) {
		if bytes.Contains(r.Data, []byte("X1-during-outage")) {
			refused = true
		}
	}
	switch {
	case refused && got != "echo X2\r":
		t.Fatalf("refused input reached the host: %q", got)
	case !refused && got != line+"echo X2\r":
		t.Fatalf("the line typed during the outage arrived as %q (not refused)", got)
	}
	if refused && !strings.Contains(bob.output(), "not sent") && !strings.Contains(bob.output(), "not delivered") {
		t.Fatalf("the writer was not told: %q", bob.output())
	}
	t.Logf("typed during the outage: refused=%v", refused)
}

// sawAfter reports whether the output after position from contains s.
func (c *ptyClient) sawAfter(from int, s string) bool {
	out := c.output()
	return len(out) >= from && strings.Contains(out[from:], s)
}

// exited reports whether the client has exited.
func (c *ptyClient) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// waitLive waits until the console's output reaches c: the host prints a
// prompt until c shows it.
func waitLive(t *testing.T, host *solhost.Host, c *ptyClient) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !c.sawAfter(0, "host01 login: ") {
		if time.Now().After(deadline) {
			t.Fatalf("the console never went live; the terminal shows:\n%q", c.output())
		}
		if err := host.Print("\r\nhost01 login: "); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond) // the host repeats its prompt until it shows
	}
}
