package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/offline"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/internal/datadir"
	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
	"github.com/bmcgate/bmcgate/proxy/scan"
)

// fixableSim is a simulated BMC with every weakness --fix can remove.
func fixableSim(t *testing.T, name string) *bmcsim.BMC {
	return startSim(t, name, bmcsim.Options{Username: "gw", Password: "gw-Fix-Pass-1", CipherSuites: []int{0, 3, 17},
		V15AuthTypes: []string{"none", "password"}, NullUser: true})
}

// fixScanConfig paces the fix tests' probes quickly and leaves the probe
// timeout at its default (2s): every probe here is answered (the tests
// take as long with a 5s timeout), so a shorter timeout only turned a
// late answer from a loaded machine into a missing finding.
const fixScanConfig = "scan:\n  probe_interval: 1ms\n"

var fixedIDs = []string{scan.IDCipherSuite0, scan.IDIPMI15None, scan.IDIPMI15Password, scan.IDAnonymousLogin, scan.IDNullUser}

// TestE2EScanFixSSH: --fix plans and changes nothing, --fix --yes applies
// every fix (each audited) and the rescan no longer shows the findings;
// a user without scan.fix is refused.
func TestE2EScanFixSSH(t *testing.T) {
	b := fixableSim(t, "fix01")
	h := startHarness(t, []testBMC{{name: "fix01", addr: b.Addr(), user: "gw", pass: "gw-Fix-Pass-1", suite: 3}},
		[]testUser{{name: "alice", roles: "[admin]"}, {name: "vic", roles: "[viewer]"}},
		fixScanConfig)

	out, errOut, code := h.ssh("alice", nil, "scan", "--fix", "fix01")
	if code != 4 || !strings.Contains(out, "--fix --yes") || !strings.Contains(out, "planned fixes: ") {
		t.Fatalf("plan: exit %d\n%s\n%s", code, out, errOut)
	}
	if len(h.records(t, audit.Query{Code: audit.CodeScanFix})) != 0 {
		t.Fatal("planning wrote fix records")
	}
	if _, _, code := h.ssh("vic", nil, "scan", "--fix", "--yes", "fix01"); code == 0 {
		t.Fatal("a viewer could fix")
	}

	out, errOut, code = h.ssh("alice", nil, "scan", "--fix", "--yes", "--json", "fix01")
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	var got struct {
		BMCs []struct {
			Fixes []scan.FixResult `json:"fixes"`
			After *scan.Report     `json:"after"`
		} `json:"bmcs"`
		Applied bool `json:"applied"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.BMCs) != 1 || got.BMCs[0].After == nil || !got.Applied {
		t.Fatalf("json: %v\n%s", err, out)
	}
	for _, id := range fixedIDs {
		if got.BMCs[0].After.Has(id) {
			t.Errorf("after the fixes %s is still found", id)
		}
	}
	recs := h.records(t, audit.Query{Code: audit.CodeScanFix, Actor: "alice"})
	if len(recs) != len(got.BMCs[0].Fixes) || len(recs) < 3 {
		t.Errorf("%d fix records for %d fixes", len(recs), len(got.BMCs[0].Fixes))
	}
	for _, r := range recs {
		if r.Outcome != audit.OutcomeOK || r.Target != "fix01" || r.Fields["finding"] == "" {
			t.Errorf("fix record %+v", r)
		}
	}
	// --last shows the rescan.
	out, _, code = h.ssh("alice", nil, "scan", "--last", "--json", "fix01")
	if code != 0 || strings.Contains(out, scan.IDCipherSuite0) {
		t.Errorf("--last after the fixes: exit %d\n%s", code, out)
	}
}

// TestFixOffline: refused while a gateway holds the audit log; declined
// confirmation changes nothing; confirmed fixes are applied and audited.
func TestFixOffline(t *testing.T) {
	b := fixableSim(t, "fix02")
	h := startHarness(t, []testBMC{{name: "fix02", addr: b.Addr(), user: "gw", pass: "gw-Fix-Pass-1", suite: 3}},
		[]testUser{{name: "alice", roles: "[admin]"}}, fixScanConfig)
	cfg := h.g.cfg
	yes := func([]*service.ScanFixOutcome) bool { return true }
	if _, err := offline.FixOffline(context.Background(), cfg, []string{"fix02"}, yes, nil); err == nil || !strings.Contains(err.Error(), "running gateway") {
		t.Fatalf("while the gateway runs: %v", err)
	}
	h.stop()

	plans, err := offline.FixOffline(context.Background(), cfg, []string{"fix02"}, func([]*service.ScanFixOutcome) bool { return false }, nil)
	if !errors.Is(err, offline.ErrFixNotConfirmed) || len(plans) != 1 || len(plans[0].Planned) == 0 {
		t.Fatalf("declined: %v %+v", err, plans)
	}
	outs, err := offline.FixOffline(context.Background(), cfg, []string{"fix02"}, yes, nil)
	if err != nil || len(outs) != 1 || outs[0].After == nil {
		t.Fatalf("confirmed: %v %+v", err, outs)
	}
	for _, id := range fixedIDs {
		if outs[0].After.Has(id) {
			t.Errorf("after: %s still there", id)
		}
	}
	st, err := audit.Open(filepath.Join(cfg.DataDir, datadir.AuditDB), audit.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	n := 0
	_ = st.Search(context.Background(), audit.Query{Code: audit.CodeScanFix}, func(r audit.Record) error {
		if r.Door != "cli" || r.Target != "fix02" {
			t.Errorf("record %+v", r)
		}
		n++
		return nil
	})
	if n != len(outs[0].Fixes) {
		t.Errorf("%d records for %d fixes", n, len(outs[0].Fixes))
	}
	if fi, err := os.Stat(filepath.Join(cfg.DataDir, datadir.ScanDir, "fix02.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("stored report: %v %v", fi, err)
	}
}

// TestE2EScanFixIPMISim runs scan --fix --yes against ipmi_sim: the null
// user is disabled and the vendor default account gets a random password,
// kept in the secret store (0600), with which ipmitool then logs in.
func TestE2EScanFixIPMISim(t *testing.T) {
	ipmisim.RequireBinaries(t, "ipmitool")
	sim := ipmisim.StartT(t, ipmisim.Options{Users: []ipmisim.User{
		{ID: 1, Name: "", Password: "", Priv: "admin"},
		{ID: 2, Name: "gw", Password: "gw-Sim-Pass-9", Priv: "admin"},
		{ID: 3, Name: "USERID", Password: "PASSW0RD", Priv: "operator"},
	}})
	h := startHarness(t, []testBMC{{name: "sim01", addr: sim.Addr, user: "gw", pass: "gw-Sim-Pass-9", suite: 3}},
		[]testUser{{name: "alice", roles: "[admin]"}}, fixScanConfig)
	out, errOut, code := h.ssh("alice", nil, "scan", "--fix", "--yes", "sim01")
	// ipmi_sim keeps suite 0 whatever parameter 24 says: that fix fails,
	// so the exit status is 1, and the finding stays.
	if code != 1 || !strings.Contains(out, "fix default-credentials") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out, "PASSW0RD") {
		t.Fatalf("output shows the default password")
	}
	path, err := datadir.Secret(h.g.cfg.DataDir, "sim01", "USERID")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v", fi, err)
	}
	data, _ := os.ReadFile(path)
	pw := strings.TrimSpace(string(data))
	if strings.Contains(out, pw) {
		t.Fatal("output shows the new password")
	}
	ref, _, rc := runCmd(t, nil, "ipmitool", "-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", strconv.Itoa(sim.Port),
		"-U", "USERID", "-P", pw, "-L", "OPERATOR", "mc", "info")
	if rc != 0 || !strings.Contains(ref, "Firmware Revision") {
		t.Fatalf("ipmitool with the stored password: rc %d\n%s", rc, ref)
	}
	out, _, _ = h.ssh("alice", nil, "scan", "--last", "sim01")
	for _, id := range []string{scan.IDDefaultCredentials, scan.IDAnonymousLogin, scan.IDNullUser} {
		if strings.Contains(out, id) {
			t.Errorf("after the fixes %s is still reported:\n%s", id, out)
		}
	}
}
