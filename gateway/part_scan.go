package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/assemble"
	"github.com/bmcgate/bmcgate/gateway/scans"
	"github.com/bmcgate/bmcgate/gateway/service"
)

// openScan installs the posture scan in the service (on-demand scans) and,
// when scan.interval is set, returns the periodic scanner.
func openScan(ctx context.Context, g *Gateway, cfg *configs.Config) (part, error) {
	x, err := assemble.Scans(cfg, g.log, g.rf)
	if err != nil {
		return nil, err
	}
	g.svc.SetScans(x)
	if g.web != nil {
		g.web.SetScanPanel(scans.NewPanel(g.svc, x.Store, g.log))
	}
	return &periodicScan{g: g, every: make(chan time.Duration, 1), interval: cfg.Scan.Interval.Duration, scans: x,
		done: make(chan struct{})}, nil
}

// periodicScanner is the identity the periodic scan acts as in the audit
// log and in policy decisions.
const periodicScanner = "bmcgate-scheduler"

// periodicScan scans the whole inventory every interval (never when the
// interval is 0) and keeps the service's scan settings current on reload.
type periodicScan struct {
	g        *Gateway
	interval time.Duration
	every    chan time.Duration // interval changes from Reload

	done chan struct{} // closed when Run returns

	mu sync.Mutex
	// scans is the posture scan installed in the service: periodic scans
	// share its scanner, so they never work on a BMC at the same time as
	// an on-demand scan or fix of it.
	scans *service.Scans
	stop  func() // ends Run; nil before Run starts
}

func (p *periodicScan) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	p.mu.Lock()
	p.stop = cancel
	p.mu.Unlock()
	defer close(p.done)
	defer cancel()
	t := time.NewTicker(time.Hour)
	t.Stop()
	if p.interval > 0 {
		t.Reset(p.interval)
	}
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case d := <-p.every:
			t.Stop()
			if d > 0 {
				t.Reset(d)
			}
		case <-t.C:
			p.scanAll(ctx)
		}
	}
}

// scanAll scans every BMC of the inventory directly (not through policy:
// the scheduler is the gateway itself) and audits each report.
func (p *periodicScan) scanAll(ctx context.Context) {
	p.mu.Lock()
	x := p.scans
	p.mu.Unlock()
	start := time.Now()
	n := 0
	reports := scans.Inventory(ctx, x, p.g.svc.State().Inventory.All())
	if ctx.Err() != nil {
		return // cut short: keep the previous complete reports
	}
	for _, r := range reports {
		n++
		if err := x.Store.Save(r); err != nil {
			p.g.log.Error("store scan report", "bmc", r.BMC, "err", err)
		}
		rec := audit.Record{Code: audit.CodeScanReport, Actor: periodicScanner, Door: "scheduler", Target: r.BMC,
			Action: "scan.run", Outcome: audit.OutcomeOK, Duration: r.Duration, Fields: map[string]string{"result": r.String()}}
		if _, err := p.g.store.Append(context.WithoutCancel(ctx), rec); err != nil {
			p.g.log.Error("audit periodic scan", "bmc", r.BMC, "err", err)
		}
	}
	p.g.log.Info("periodic scan done", "bmcs", n, "duration", time.Since(start))
}

func (p *periodicScan) Reload(_ context.Context, cfg *configs.Config, _ *service.State) {
	x, err := assemble.Scans(cfg, p.g.log, p.g.rf)
	if err != nil {
		p.g.log.Error("scan settings not reloaded", "err", err)
		return
	}
	p.g.svc.SetScans(x)
	p.mu.Lock()
	p.scans = x
	p.mu.Unlock()
	select {
	case <-p.every: // an unread older change
	default:
	}
	p.every <- cfg.Scan.Interval.Duration
}

// Close stops a running scan and waits for Run to return, so nothing is
// appended to the audit log after it closes.
func (p *periodicScan) Close() {
	p.mu.Lock()
	stop := p.stop
	p.mu.Unlock()
	if stop == nil {
		return // never ran
	}
	stop()
	<-p.done
}
