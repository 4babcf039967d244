package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
)

// startSim starts an embedded simulated BMC for a test.
func startSim(t *testing.T, name string, opts bmcsim.Options) *bmcsim.BMC {
	t.Helper()
	b, err := bmcsim.Start(context.Background(), name, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// TestE2ECommandsAgainstRealBMCs drives the gateway with OpenSSH against
// OpenIPMI's ipmi_sim (suite 3) and the embedded simulator (suite 17), and
// cross-checks power changes with ipmitool.
func TestE2ECommandsAgainstRealBMCs(t *testing.T) {
	ipmisim.RequireBinaries(t, "ipmitool")
	sim := ipmisim.StartT(t, ipmisim.Options{
		Users:   []ipmisim.User{{ID: 2, Name: "gw", Password: "s3cret-ipmi", Priv: "admin"}},
		Sensors: true,
	})
	emb := startSim(t, "emb01", bmcsim.Options{Username: "gw", Password: "emb-pass-1", CipherSuites: []int{17}, Sensors: true, PowerOn: true})
	h := startHarness(t, []testBMC{
		{name: "sim01", addr: sim.Addr, user: "gw", pass: "s3cret-ipmi", suite: 3, labels: "{rack: r1, kind: openipmi}"},
		{name: "emb01", addr: emb.Addr(), user: "gw", pass: "emb-pass-1", suite: 17, labels: "{rack: r2, kind: goipmi}"},
	}, []testUser{{name: "alice", roles: "[admin]"}, {name: "vic", roles: "[viewer]"}}, "")

	t.Run("list", func(t *testing.T) {
		out, errOut, code := h.ssh("alice", nil, "list")
		if code != 0 || !strings.Contains(out, "sim01") || !strings.Contains(out, "emb01") {
			t.Fatalf("list: code %d\n%s\n%s", code, out, errOut)
		}
	})
	t.Run("power on off via gateway, seen by ipmitool", func(t *testing.T) {
		for _, op := range []string{"on", "off", "on"} {
			out, errOut, code := h.ssh("alice", nil, "power", op, "sim01")
			if code != 0 || !strings.Contains(out, "sim01") {
				t.Fatalf("power %s: code %d\n%s\n%s", op, code, out, errOut)
			}
			on, err := sim.Power()
			if err != nil || on != (op == "on") {
				t.Fatalf("after power %s the simulator says on=%v (%v)", op, on, err)
			}
			ref, _, rc := runCmd(t, nil, "ipmitool", "-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", fmt.Sprint(sim.Port),
				"-U", "gw", "-P", "s3cret-ipmi", "chassis", "power", "status")
			if rc != 0 || !strings.Contains(ref, "is "+op) {
				t.Fatalf("ipmitool after power %s: %q (rc %d)", op, ref, rc)
			}
			st, _, _ := h.ssh("alice", nil, "power", "status", "sim01")
			if !strings.Contains(st, "power "+op) {
				t.Fatalf("gateway status after power %s: %q", op, st)
			}
		}
	})
	t.Run("fan-out json over both kinds", func(t *testing.T) {
		out, errOut, code := h.ssh("alice", nil, "power", "status", "rack=r1", "kind=goipmi", "--json")
		if code != 0 {
			t.Fatalf("code %d: %s", code, errOut)
		}
		var res []struct {
			BMC   string `json:"bmc"`
			OK    bool   `json:"ok"`
			Power string `json:"power"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("json: %v\n%s", err, out)
		}
		if len(res) != 2 || res[0].BMC != "emb01" || res[1].BMC != "sim01" || !res[0].OK || res[0].Power != "on" {
			t.Fatalf("results %+v", res)
		}
	})
	t.Run("ipmi_sim thresholds and event log newest first", func(t *testing.T) {
		out, errOut, code := h.ssh("alice", nil, "sensors", "sim01")
		if code != 0 || !regexp.MustCompile(`CPU Temp\s.*\sok\s+lower -/-/- upper 80/90/-`).MatchString(out) {
			t.Fatalf("sensors sim01: %d\n%s\n%s", code, out, errOut)
		}
		out, errOut, code = h.ssh("alice", nil, "sel", "list", "sim01", "--json")
		var r struct {
			Result []struct{ ID, Log, Severity, Direction, Message string } `json:"result"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 || len(r.Result) != 2 {
			t.Fatalf("sel list sim01 --json: %v %d\n%s\n%s", err, code, out, errOut)
		}
		if e := r.Result; e[0].ID != "2" || e[0].Direction != "deasserted" || e[0].Severity != "ok" || e[0].Log != "sel" ||
			e[1].ID != "1" || e[1].Severity != "warning" || !strings.Contains(e[1].Message, "Upper Non-critical") {
			t.Errorf("ipmi_sim event log, newest first: %+v", e)
		}
		// ipmitool lists the same two records, oldest first.
		ref, _, rc := runCmd(t, nil, "ipmitool", "-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", fmt.Sprint(sim.Port),
			"-U", "gw", "-P", "s3cret-ipmi", "sel", "list")
		if lines := strings.Split(strings.TrimSpace(ref), "\n"); rc != 0 || len(lines) != 2 || !strings.Contains(lines[1], "Deasserted") {
			t.Errorf("ipmitool sel list: %d\n%s", rc, ref)
		}
		out, _, _ = h.ssh("alice", nil, "sel", "list", "sim01", "--limit", "1")
		if !strings.Contains(out, "deasserted") || strings.Contains(out, "warning") {
			t.Errorf("--limit 1 is not the newest entry:\n%s", out)
		}
	})
	t.Run("info sensors sel", func(t *testing.T) {
		for _, b := range []string{"sim01", "emb01"} {
			out, errOut, code := h.ssh("alice", nil, "info", b)
			if code != 0 || !strings.Contains(out, "firmware:") {
				t.Fatalf("info %s: %d %s %s", b, code, out, errOut)
			}
			out, errOut, code = h.ssh("alice", nil, "sensors", b)
			if code != 0 || !strings.Contains(out, "SENSOR") || strings.Count(out, "\n") < 2 {
				t.Fatalf("sensors %s: %d %s %s", b, code, out, errOut)
			}
			_, errOut, code = h.ssh("alice", nil, "sel", "list", b)
			if code != 0 {
				t.Fatalf("sel list %s: %d %s", b, code, errOut)
			}
			_, errOut, code = h.ssh("alice", nil, "sel", "clear", b)
			if code != 0 {
				t.Fatalf("sel clear %s: %d %s", b, code, errOut)
			}
		}
	})
	t.Run("denied is non-zero, explained and audited", func(t *testing.T) {
		_, errOut, code := h.ssh("vic", nil, "power", "off", "sim01", "emb01")
		if code != 1 || strings.Count(errOut, "denied") != 2 {
			t.Fatalf("viewer power off: code %d, stderr %q", code, errOut)
		}
		on, _ := sim.Power()
		if !on {
			t.Fatal("a denied power off reached the BMC")
		}
		h.waitRecord(t, audit.Query{Actor: "vic", Code: audit.CodeDecision, Outcome: audit.OutcomeDeny, Target: "sim01"}, nil)
		out, errOut, code := h.ssh("vic", nil, "power", "status", "sim01", "emb01")
		if code != 0 || strings.Count(out, "power") != 2 {
			t.Fatalf("viewer status: %d %q %q", code, out, errOut)
		}
	})
	t.Run("partial failure exits 1", func(t *testing.T) {
		_, errOut, code := h.ssh("alice", nil, "power", "status", "sim01", "nosuch")
		if code != 1 || !strings.Contains(errOut, "nosuch: unknown BMC") {
			t.Fatalf("unknown BMC: %d %q", code, errOut)
		}
		_, errOut, code = h.ssh("alice", nil, "power", "explode", "sim01")
		if code != 2 || !strings.Contains(errOut, "usage") {
			t.Fatalf("usage error: %d %q", code, errOut)
		}
	})
	t.Run("every command audited with outcome", func(t *testing.T) {
		r := h.waitRecord(t, audit.Query{Actor: "alice", Code: audit.CodeBMCCall, Action: "power.off", Target: "sim01"}, nil)
		if r.Outcome != audit.OutcomeOK || r.Door != "ssh" || r.Source == "" || r.Duration <= 0 {
			t.Fatalf("outcome record %+v", r)
		}
		h.waitRecord(t, audit.Query{Actor: "alice", Code: audit.CodeCmdRun}, func(r audit.Record) bool {
			return r.Fields["command"] == "power off sim01" && r.Fields["exit"] == "0"
		})
		h.waitRecord(t, audit.Query{Actor: "alice", Code: audit.CodeAuthLogin}, nil)
	})
	t.Run("passwords never in output or audit", func(t *testing.T) {
		out, _, _ := h.ssh("alice", nil, "audit", "search", "--limit", "100000", "--json")
		for _, pw := range []string{"s3cret-ipmi", "emb-pass-1"} {
			if strings.Contains(out, pw) {
				t.Fatalf("password %q found in the audit log", pw)
			}
		}
	})
}
