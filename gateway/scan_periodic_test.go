package gateway

import (
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/proxy/bmcsim"
	"github.com/bmcgate/bmcgate/proxy/scan"
)

// TestPeriodicScan: with scan.interval set, the gateway scans its
// inventory by itself, stores the reports and audits them.
func TestPeriodicScan(t *testing.T) {
	b := startSim(t, "per01", bmcsim.Options{Username: "gw", Password: "gw-Per-Pass-1", CipherSuites: []int{0, 3}})
	h := startHarnessWith(t, []testBMC{{name: "per01", addr: b.Addr(), user: "gw", pass: "gw-Per-Pass-1", suite: 3}},
		[]testUser{{name: "alice", roles: "[admin]"}}, "scan:\n  probe_interval: 1ms\n  timeout: 500ms\n",
		func(c *configs.Config) { c.Scan.Interval.Duration = 200 * time.Millisecond })
	rec := h.waitRecord(t, audit.Query{Code: audit.CodeScanReport, Actor: periodicScanner}, nil)
	if rec.Target != "per01" || rec.Fields["result"] == "" {
		t.Fatalf("record %+v", rec)
	}
	r, err := newScanStore(h.g.cfg.DataDir).Load("per01")
	if err != nil || !r.Has(scan.IDCipherSuite0) {
		t.Fatalf("stored report: %v %+v", err, r)
	}
}
