package scan

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

// scanFleet scans every BMC of fleet with at most limit at once and
// returns the reports and the highest number of scans in flight.
func scanFleet(ctx context.Context, sc *Scanner, fleet []*bmcsim.BMC, user, pass string, limit int) ([]*Report, int64) {
	out := make([]*Report, len(fleet))
	sem := make(chan struct{}, limit)
	var inFlight, peak atomic.Int64
	var wg sync.WaitGroup
	for i, b := range fleet {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			n := inFlight.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			ep := ipmi.Endpoint{Name: b.Name(), Host: b.Host(), Port: b.Port(), Username: user, Password: pass, CipherSuite: 3, Privilege: ipmi.PrivOperator}
			out[i] = sc.Scan(ctx, ep)
			inFlight.Add(-1)
		}()
	}
	wg.Wait()
	return out, peak.Load()
}

// BenchmarkScanFleet500 scans 500 simulated BMCs (cipher suite 0 and
// IPMI 1.5 on, so every probe runs) with bounded concurrency. Reported:
// wall time per fleet scan (ns/op), scans/s, and the most sessions one
// scan held on its BMC at once (must be 1).
//
//	go test -run '^$' -bench ScanFleet500 -benchtime 1x ./proxy/scan/
func BenchmarkScanFleet500(b *testing.B) {
	fleet, err := bmcsim.StartFleet(context.Background(), 500, "bench", bmcsim.Options{Username: "gw", Password: "gw-Bench-Pass-1",
		Privilege: "operator", CipherSuites: []int{0, 3, 17}, V15AuthTypes: []string{"md5"}})
	if err != nil {
		b.Fatal(err)
	}
	defer bmcsim.CloseAll(fleet)
	for _, cfg := range []struct {
		interval time.Duration
		limit    int
	}{{DefaultInterval, 64}, {time.Millisecond, 64}} {
		b.Run(fmt.Sprintf("interval=%s/concurrency=%d", cfg.interval, cfg.limit), func(b *testing.B) {
			sc := New(Options{Interval: cfg.interval, Timeout: 2 * time.Second, Credentials: testCreds,
				IPMI: ipmi.Options{ConnectTimeout: 5 * time.Second, CallTimeout: 5 * time.Second}})
			start := time.Now()
			total, worst := 0, 0
			var inFlight int64
			for b.Loop() {
				reports, peak := scanFleet(context.Background(), sc, fleet, "gw", "gw-Bench-Pass-1", cfg.limit)
				inFlight = max(inFlight, peak)
				for _, r := range reports {
					total++
					worst = max(worst, r.PeakSessions)
					if !r.LoggedIn || !r.Has(IDCipherSuite0) {
						b.Fatalf("%s: incomplete scan: %v", r.BMC, r.Problems)
					}
				}
			}
			b.ReportMetric(float64(total)/time.Since(start).Seconds(), "scans/s")
			b.ReportMetric(float64(worst), "max-sessions/BMC")
			b.ReportMetric(float64(inFlight), "max-concurrent-scans")
			if worst > 1 || inFlight > int64(cfg.limit) {
				b.Fatalf("bounds broken: %d sessions on one BMC, %d scans at once", worst, inFlight)
			}
		})
	}
}

// TestOneSessionPerBMC: concurrent scans of one BMC wait for each other,
// and a scan never holds more than one session on it.
func TestOneSessionPerBMC(t *testing.T) {
	b := startSim(t, bmcsim.Options{Username: "gw", Password: "gw-Pass-1234", CipherSuites: []int{0, 3}, NullUser: true})
	sc := testScanner()
	ep := simEndpoint(b, "gw", "gw-Pass-1234", ipmi.PrivOperator)
	var wg sync.WaitGroup
	reports := make([]*Report, 4)
	for i := range reports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reports[i] = sc.Scan(context.Background(), ep)
		}()
	}
	wg.Wait()
	for _, r := range reports {
		if r.PeakSessions != 1 || !r.LoggedIn || len(r.Problems) > 0 {
			t.Errorf("peak %d, logged in %v, problems %v", r.PeakSessions, r.LoggedIn, r.Problems)
		}
	}
}
