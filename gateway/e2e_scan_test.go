package gateway

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/offline"
	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/proxy/scan"
)

// scanJSON is the --json answer of scan.
type scanJSON struct {
	BMCs     []*scan.Report `json:"bmcs"`
	Failures []struct {
		BMC    string `json:"bmc"`
		Denied bool   `json:"denied"`
	} `json:"failures"`
	Summary scan.Summary `json:"summary"`
}

func findReport(t *testing.T, out scanJSON, name string) *scan.Report {
	t.Helper()
	for _, r := range out.BMCs {
		if r.BMC == name {
			return r
		}
	}
	t.Fatalf("no report for %s in %+v", name, out)
	return nil
}

// TestE2EScan scans an insecure and a hardened simulated BMC through the
// SSH door with OpenSSH, reads the stored results with --last, checks the
// policy and the audit trail, and runs the offline scan on the same config.
func TestE2EScan(t *testing.T) {
	ins := startSim(t, "ins01", bmcsim.Options{Username: "ADMIN", Password: "ADMIN", CipherSuites: []int{0, 3, 17},
		V15AuthTypes: []string{"none", "password"}, NullUser: true, SOL: true})
	sec := startSim(t, "sec01", bmcsim.Options{Username: "gw", Password: "Vq8#mZ2!rT6pLw9x", Privilege: "operator"})
	h := startHarness(t, []testBMC{
		{name: "ins01", addr: ins.Addr(), user: "ADMIN", pass: "ADMIN", suite: 3},
		{name: "sec01", addr: sec.Addr(), user: "gw", pass: "Vq8#mZ2!rT6pLw9x", suite: 3},
	}, []testUser{{name: "alice", roles: "[admin]"}, {name: "vic", roles: "[viewer]"}},
		"scan:\n  probe_interval: 1ms\n  timeout: 500ms\n")

	t.Run("scan table, exit status for critical findings", func(t *testing.T) {
		out, errOut, code := h.ssh("alice", nil, "scan")
		if code != 4 {
			t.Fatalf("scan: exit %d, want 4 (critical)\n%s\n%s", code, out, errOut)
		}
		for _, want := range []string{"ins01", "sec01", "CRITICAL", "cipher-suite-0", "default-credentials", "fleet: 2 BMCs scanned", "firmware:"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "ADMIN\n") || strings.Contains(out, "password: ADMIN") {
			t.Errorf("output shows a password:\n%s", out)
		}
	})
	t.Run("last json, insecure vs hardened", func(t *testing.T) {
		out, errOut, code := h.ssh("alice", nil, "scan", "--last", "--json")
		if code != 4 {
			t.Fatalf("scan --last: exit %d\n%s\n%s", code, out, errOut)
		}
		var got scanJSON
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("json: %v\n%s", err, out)
		}
		bad, good := findReport(t, got, "ins01"), findReport(t, got, "sec01")
		for _, id := range []string{scan.IDCipherSuite0, scan.IDDefaultCredentials, scan.IDAnonymousLogin, scan.IDIPMI15None, scan.IDIPMI15Password} {
			if !bad.Has(id) {
				t.Errorf("ins01 lacks %s", id)
			}
			if good.Has(id) {
				t.Errorf("sec01 has %s", id)
			}
		}
		if got.Summary.Critical != 1 || got.Summary.BMCs != 2 {
			t.Errorf("summary = %+v", got.Summary)
		}
	})
	t.Run("hardened only: exit 0", func(t *testing.T) {
		out, errOut, code := h.ssh("alice", nil, "scan", "sec01")
		if code != 0 {
			t.Fatalf("scan sec01: exit %d\n%s\n%s", code, out, errOut)
		}
	})
	t.Run("viewer is denied and audited", func(t *testing.T) {
		_, _, code := h.ssh("vic", nil, "scan", "--json", "ins01")
		if code == 0 {
			t.Fatalf("viewer could scan")
		}
		h.waitRecord(t, audit.Query{Code: audit.CodeDecision, Actor: "vic"}, func(r audit.Record) bool {
			return r.Action == "scan.run" && r.Outcome == audit.OutcomeDeny
		})
		h.waitRecord(t, audit.Query{Code: audit.CodeBMCCall, Actor: "alice"}, func(r audit.Record) bool {
			return r.Action == "scan.run" && r.Target == "ins01" && strings.Contains(r.Fields["result"], "worst critical")
		})
	})
	t.Run("offline scan of the same inventory", func(t *testing.T) {
		reports, err := offline.ScanOffline(context.Background(), h.g.cfg, []string{"ins01"}, nil)
		if err != nil || len(reports) != 1 || !reports[0].Has(scan.IDCipherSuite0) {
			t.Fatalf("offline: %v %+v", err, reports)
		}
	})
}

// TestE2EScanUnreachable: a BMC that answers nothing is a failure (exit 1),
// not a clean bill of health.
func TestE2EScanUnreachable(t *testing.T) {
	h := startHarness(t, []testBMC{{name: "gone01", addr: closedUDPAddr(t), user: "gw", pass: "gw-Gone-Pass-1", suite: 3}},
		[]testUser{{name: "alice", roles: "[admin]"}}, "scan:\n  probe_interval: 1ms\n  timeout: 200ms\n")
	out, errOut, code := h.ssh("alice", nil, "scan", "gone01")
	if code != 1 || !strings.Contains(out, "unreachable") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	out, _, code = h.ssh("alice", nil, "scan", "--last", "--json", "gone01")
	if code != 1 || !strings.Contains(out, `"reachable": false`) {
		t.Fatalf("--last: exit %d\n%s", code, out)
	}
}
