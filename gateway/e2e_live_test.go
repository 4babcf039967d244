package gateway

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/assemble"
	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
)

// reloadWith replaces old by new in the running gateway's config file, once,
// and reloads it as SIGHUP does.
func (h *harness) reloadWith(t testing.TB, old, new string) {
	t.Helper()
	path := h.g.cfg.Path
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(orig), old, new, 1)
	if changed == string(orig) {
		t.Fatalf("config has no %q", old)
	}
	if err := os.WriteFile(path, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.g.Reload(context.Background()); err != nil {
		t.Fatalf("reload: %v", err)
	}
}

// controlPath returns a path for an OpenSSH control socket short enough for
// a Unix socket (test temp dirs can be too long).
func controlPath(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "bg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return filepath.Join(dir, "c")
}

var sessionLine = regexp.MustCompile(`session: ([0-9a-f]+)`)

// TestE2ELiveSSHFollowsReload: an interactive OpenSSH shell that is also a
// ControlMaster, with exec sessions multiplexed over it, across reloads.
// When a reload removes the user's admin role, the next power cycle and
// power reset, typed in the shell or run over the master, are denied and
// recorded with the reason, and whoami shows the new roles. When a reload
// disables the user, the connection ends at once and the shell shows why.
func TestE2ELiveSSHFollowsReload(t *testing.T) {
	b := startSim(t, "node01", bmcsim.Options{Username: "gw", Password: "pw-node01", CipherSuites: []int{17}, PowerOn: true})
	h := startHarness(t, []testBMC{{name: "node01", addr: b.Addr(), user: "gw", pass: "pw-node01", suite: 17}},
		[]testUser{{name: "alice", roles: "[admin, viewer]"}, {name: "vic", roles: "[viewer]"}}, "")
	ctl := controlPath(t)
	args := append(h.sshArgs("alice", "-tt", "-e", "none", "-o", "ControlMaster=yes", "-o", "ControlPath="+ctl,
		"-o", "ControlPersist=no"), "alice@127.0.0.1")
	sh := startPTYCmd(t, "ssh", args...)
	sh.waitFor("bmcgate> ")
	muxed := []string{"-o", "ControlMaster=no", "-o", "ControlPath=" + ctl}

	// Before: the shell and an exec over the master run with admin rights,
	// on one connection.
	m := sh.mark()
	sh.send("whoami\r")
	sh.waitAfter(m, "roles:   admin, viewer\r\n")
	sh.waitAfter(m, "\r\nbmcgate> ") // the whole answer is there
	sid := sessionLine.FindStringSubmatch(sh.output()[m:])
	if sid == nil {
		t.Fatalf("no session id in %q", sh.output()[m:])
	}
	out, errOut, code := h.ssh("alice", muxed, "whoami")
	if code != 0 || !strings.Contains(out, "session: "+sid[1]) {
		t.Fatalf("exec over the master: %d %q %q (want session %s)", code, out, errOut, sid[1])
	}
	m = sh.mark()
	sh.send("power cycle node01\r")
	sh.waitAfter(m, "power cycle sent")
	if out, errOut, code := h.ssh("alice", muxed, "power", "reset", "node01"); code != 0 || !strings.Contains(out, "power reset sent") {
		t.Fatalf("reset before the reload: %d %q %q", code, out, errOut)
	}
	cycles := b.PowerCycles()

	// (a) The reload takes admin away: the open session follows.
	h.reloadWith(t, "roles: [admin, viewer]", "roles: [viewer]")
	m = sh.mark()
	sh.send("power cycle node01\r")
	sh.waitAfter(m, `denied: no rule of role(s) "viewer" allows power.cycle on node01`)
	sh.send("whoami\r")
	sh.waitAfter(m, "roles:   viewer\r\n")
	if strings.Contains(sh.output()[m:], "admin") {
		t.Fatalf("whoami still lists admin: %q", sh.output()[m:])
	}
	out, errOut, code = h.ssh("alice", muxed, "power", "reset", "node01")
	if code != 1 || !strings.Contains(errOut, `denied: no rule of role(s) "viewer" allows power.reset`) {
		t.Fatalf("reset over the master after the reload: %d %q %q", code, out, errOut)
	}
	if out, _, code := h.ssh("alice", muxed, "whoami"); code != 0 || !strings.Contains(out, "roles:   viewer\n") {
		t.Fatalf("whoami over the master: %d %q", code, out)
	}
	if b.PowerCycles() != cycles {
		t.Fatal("a power cycle reached the BMC after the reload")
	}
	for _, a := range []string{"power.cycle", "power.reset"} {
		r := h.waitRecord(t, audit.Query{Code: audit.CodeDecision, Actor: "alice", Action: a, Outcome: audit.OutcomeDeny}, nil)
		if r.Session != sid[1] || r.Target != "node01" || !strings.Contains(r.Reason, `role(s) "viewer"`) {
			t.Errorf("%s refusal record %+v", a, r)
		}
	}
	if n := len(h.records(t, audit.Query{Code: audit.CodeBMCCall, Actor: "alice", Action: "power.reset"})); n != 1 {
		t.Errorf("%d power resets reached the broker, want the one before the reload", n)
	}

	// (b) The reload disables alice: the connection ends at once, with why.
	h.reloadWith(t, "  - name: alice\n    roles: [viewer]\n", "  - name: alice\n    roles: [viewer]\n    disabled: true\n")
	sh.waitFor("session ended: the account is disabled in the gateway config")
	if code := sh.wait(); code != exitRefusedStatus {
		t.Fatalf("shell exit %d; it shows:\n%q", code, sh.output())
	}
	if _, _, code := h.ssh("alice", muxed, "whoami"); code == 0 {
		t.Fatal("a disabled user still runs commands")
	}
	r := h.waitRecord(t, audit.Query{Code: audit.CodeSessionEnd, Actor: "alice", Session: sid[1]}, nil)
	if r.Outcome != audit.OutcomeDeny || !strings.Contains(r.Reason, "disabled") {
		t.Fatalf("session.end record %+v", r)
	}
	// Another user's session is untouched.
	if out, _, code := h.ssh("vic", nil, "power", "status", "node01"); code != 0 || !strings.Contains(out, "power on") {
		t.Fatalf("vic after the reload: %d %q", code, out)
	}
}

// exitRefusedStatus is the exit status of a session the gateway ended.
const exitRefusedStatus = 3

// TestE2ELiveSSHRemovedUser: a session without a terminal (commands on
// stdin) whose account a reload removes ends with the reason, though no
// command runs and the client sends nothing more.
func TestE2ELiveSSHRemovedUser(t *testing.T) {
	h := authHarness(t, "")
	c := startPTYCmd(t, "ssh", append(h.sshArgs("vic", "-T"), "vic@127.0.0.1")...)
	c.send("whoami\n")
	c.waitFor("roles:   viewer")
	h.reloadWith(t, "  - name: vic\n", "  - name: victor\n") // vic is gone
	c.waitFor("session ended: the account was removed from the gateway config")
	if code := c.wait(); code != exitRefusedStatus {
		t.Fatalf("exit %d; it shows:\n%q", code, c.output())
	}
}

// TestE2ELiveConsole: a console attached from an interactive shell follows
// reloads: a user who lost console.write can no longer type into it, and a
// disabled user is detached with the reason and their connection ends.
func TestE2ELiveConsole(t *testing.T) {
	h, _ := consoleHarness(t, "")
	c := startPTY(t, h, "bob")
	c.waitFor("bmcgate> ")
	c.send("console node01\r")
	c.waitFor("read-write")
	c.waitFor("node01 login: ")

	m := c.mark()
	h.reloadWith(t, "  - name: bob\n    roles: [operator]\n", "  - name: bob\n    roles: [watcher]\n")
	c.waitAfter(m, "write access withdrawn")
	c.send("x")
	c.waitAfter(m, "read-only: your typing is not sent")

	m = c.mark()
	h.reloadWith(t, "  - name: bob\n    roles: [watcher]\n", "  - name: bob\n    roles: [watcher]\n    disabled: true\n")
	c.waitAfter(m, "detached: the account is disabled in the gateway config")
	c.waitAfter(m, "session ended: the account is disabled in the gateway config")
	if code := c.wait(); code != exitRefusedStatus {
		t.Fatalf("exit %d; it shows:\n%q", code, c.output())
	}
	if strings.Contains(c.output()[m:], "bmcgate> ") {
		t.Fatalf("the prompt came back after the account was disabled:\n%q", c.output()[m:])
	}
	r := h.waitRecord(t, audit.Query{Code: audit.CodeConsoleDetach, Actor: "bob"}, nil)
	if !strings.Contains(r.Reason, "disabled") {
		t.Fatalf("detach record %+v", r)
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeDecision, Actor: "bob", Action: "console.attach", Outcome: audit.OutcomeDeny},
		func(r audit.Record) bool { return strings.Contains(r.Reason, "disabled") })
}

// silentUDPAddr returns a loopback UDP address that receives and never
// answers: a BMC whose scan waits until its timeout.
func silentUDPAddr(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return pc.LocalAddr().String()
}

// TestE2ELiveScan: a scan typed in an open shell is decided under the
// current roles, and a scan running when the user is disabled stops with
// the session.
func TestE2ELiveScan(t *testing.T) {
	h := startHarness(t, []testBMC{{name: "mute01", addr: silentUDPAddr(t), user: "gw", pass: "gw-Mute-Pass-1", suite: 3}},
		[]testUser{{name: "alice", roles: "[admin, viewer]"}, {name: "vic", roles: "[viewer]"}}, "scan:\n  probe_interval: 1ms\n  timeout: 1m\n")
	sh := startPTY(t, h, "alice")
	sh.waitFor("bmcgate> ")

	h.reloadWith(t, "roles: [admin, viewer]", "roles: [viewer]")
	m := sh.mark()
	sh.send("scan mute01\r")
	sh.waitAfter(m, `denied: no rule of role(s) "viewer" allows scan.run on mute01`)
	h.waitRecord(t, audit.Query{Code: audit.CodeDecision, Actor: "alice", Action: "scan.run", Outcome: audit.OutcomeDeny}, nil)

	h.reloadWith(t, "roles: [viewer]", "roles: [admin, viewer]")
	sh.send("scan mute01\r")
	// The scan has started once its decision is recorded; it would run
	// for minutes.
	h.waitRecord(t, audit.Query{Code: audit.CodeDecision, Actor: "alice", Action: "scan.run", Outcome: audit.OutcomeAllow}, nil)
	m = sh.mark()
	h.reloadWith(t, "  - name: alice\n    roles: [admin, viewer]\n", "  - name: alice\n    roles: [admin, viewer]\n    disabled: true\n")
	sh.waitAfter(m, "session ended: the account is disabled in the gateway config")
	if code := sh.wait(); code != exitRefusedStatus {
		t.Fatalf("exit %d; it shows:\n%q", code, sh.output())
	}
	r := h.waitRecord(t, audit.Query{Code: audit.CodeBMCCall, Actor: "alice", Action: "scan.run"}, nil)
	if r.Outcome != audit.OutcomeError || r.Reason != "canceled" {
		t.Fatalf("the interrupted scan's record %+v", r)
	}
}

// TestE2ELiveConsoleKeystrokeDecidedNow: keystrokes are decided under the
// state they arrive in, even before a reload's re-check pass reaches the
// console: the state is swapped here without that pass, and the writer's
// next keystrokes are refused and never reach the BMC.
func TestE2ELiveConsoleKeystrokeDecidedNow(t *testing.T) {
	h, _ := consoleHarness(t, "")
	c := startPTY(t, h, "bob", "console", "node01")
	c.waitFor("read-write")
	c.waitFor("node01 login: ")
	c.send("root\r")
	c.waitFor("login: root\r\n")

	cfg, err := assemble.LoadConfig(h.g.cfg.Path, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := range cfg.Users {
		if cfg.Users[i].Name == "bob" {
			cfg.Users[i].Roles = []string{"watcher"}
		}
	}
	st, err := assemble.State(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.g.svc.Swap(st) // no re-check pass: only the keystroke path sees it
	m := c.mark()
	c.send("zz\r")
	c.waitAfter(m, "write access withdrawn by a policy change")
	c.waitAfter(m, "read-only: your typing is not sent")
	c.send("~.")
	c.waitAfter(m, "detached from node01")
	if code := c.wait(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	att := h.waitRecord(t, audit.Query{Code: audit.CodeConsoleAttach, Actor: "bob"}, nil)
	rec, err := audit.LoadRecording(context.Background(), func(ctx context.Context, q audit.Query, fn func(audit.Record) error) error {
		return h.g.store.Search(ctx, q, fn)
	}, att.Session)
	if err != nil {
		t.Fatal(err)
	}
	var in strings.Builder
	for _, e := range rec.Events {
		if e.Input {
			in.Write(e.Data)
		}
	}
	if in.String() != "root\r" {
		t.Fatalf("input sent to the BMC %q, want only what was typed before the swap", in.String())
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeDecision, Actor: "bob", Action: "console.write", Outcome: audit.OutcomeDeny}, nil)
}
