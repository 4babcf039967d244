package gateway

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/scans"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
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
	r, err := scans.NewStore(h.g.cfg.DataDir).Load("per01")
	if err != nil || !r.Has(scan.IDCipherSuite0) {
		t.Fatalf("stored report: %v %+v", err, r)
	}
}

// countingScanner is a service.Scanner that only counts its scans.
type countingScanner struct{ scans atomic.Int64 }

func (c *countingScanner) Scan(_ context.Context, ep ipmi.Endpoint) *scan.Report {
	c.scans.Add(1)
	return &scan.Report{BMC: ep.Name, Address: ep.Host}
}

func (c *countingScanner) Fix(context.Context, ipmi.Endpoint, *scan.Report, scan.SecretSaver) ([]scan.FixResult, error) {
	return nil, nil
}

// TestPeriodicScanKeepsScans: a periodic scan runs on the scan installed
// at start or reload (whose scanner serializes the work on each BMC with
// on-demand scans and fixes), not on a scanner of its own.
func TestPeriodicScanKeepsScans(t *testing.T) {
	h := startHarness(t, []testBMC{{name: "keep01", addr: closedUDPAddr(t), user: "gw", pass: "gw-Keep-Pass-1", suite: 3}},
		[]testUser{{name: "alice", roles: "[admin]"}}, "")
	var p *periodicScan
	for _, part := range h.g.parts {
		if ps, ok := part.(*periodicScan); ok {
			p = ps
		}
	}
	if p == nil {
		t.Fatal("no periodic scan part")
	}
	fake := &countingScanner{}
	p.mu.Lock()
	if p.scans == nil || p.scans.Scanner == nil {
		p.mu.Unlock()
		t.Fatal("periodic scan has no scan settings")
	}
	p.scans = &service.Scans{Scanner: fake, Store: scans.NewStore(t.TempDir()), Concurrency: 1}
	p.mu.Unlock()
	p.scanAll(context.Background())
	if n := fake.scans.Load(); n != 1 {
		t.Fatalf("scans on the installed scanner: %d, want 1", n)
	}
}
