package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/user"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/proxy/scan"
)

// scanInventory scans bmcs with the configured concurrency and returns the
// reports in inventory order. Each BMC is scanned by one goroutine, so it
// never sees more than one session of this scan at a time. Once ctx is
// done no further BMC is started: the reports of the BMCs scanned so far
// are returned.
func scanInventory(ctx context.Context, x *service.Scans, bmcs []*service.BMC) []*scan.Report {
	var out []*scan.Report
	service.Fanout(ctx, len(bmcs), max(x.Concurrency, 1), func(ctx context.Context, i int) *scan.Report {
		if ctx.Err() != nil {
			return nil // cut short: not started
		}
		return service.ScanBMC(ctx, x.Scanner, bmcs[i])
	}, func(_ int, r *scan.Report) {
		if r != nil {
			out = append(out, r)
		}
	})
	return out
}

// ScanOffline scans the config's BMCs that match selectors (all when none
// are given) without a running gateway, stores every report in the data
// directory (so `ssh gw scan --last` shows it) and returns the reports in
// name order. The reports are recorded in the audit log when it can be
// opened (it cannot while a gateway holds it); the scan runs either way.
func ScanOffline(ctx context.Context, cfg *configs.Config, selectors []string, log *slog.Logger) ([]*scan.Report, error) {
	if log == nil {
		log = slog.Default()
	}
	st, err := buildState(cfg)
	if err != nil {
		return nil, err
	}
	bmcs, err := selectBMCs(st.Inventory, selectors)
	if err != nil {
		return nil, err
	}
	x, err := newScans(cfg, log)
	if err != nil {
		return nil, err
	}
	reports := scanInventory(ctx, x, bmcs)
	if ctx.Err() != nil {
		return reports, ctx.Err() // cut short: the stored reports stay as they were
	}
	for _, r := range reports {
		if err := x.Store.Save(r); err != nil {
			return reports, fmt.Errorf("store the report of %s: %w", r.BMC, err)
		}
	}
	auditOffline(ctx, cfg, reports, log)
	return reports, ctx.Err()
}

// auditOffline records the reports of an offline scan, best effort.
func auditOffline(ctx context.Context, cfg *configs.Config, reports []*scan.Report, log *slog.Logger) {
	st, err := openAuditLog(cfg, log)
	if err != nil {
		log.Warn("offline scan not recorded in the audit log", "err", err)
		return
	}
	defer func() { _ = st.Close() }()
	for _, r := range reports {
		rec := audit.Record{Code: audit.CodeScanReport, Actor: offlineActor(), Door: "cli", Target: r.BMC,
			Action: string(authz.ScanRun), Outcome: audit.OutcomeOK, Duration: r.Duration, Fields: map[string]string{"result": r.String()}}
		if _, err := st.Append(context.WithoutCancel(ctx), rec); err != nil {
			log.Warn("offline scan not recorded in the audit log", "bmc", r.BMC, "err", err)
			return
		}
	}
}

// selectBMCs returns the inventory's BMCs matching any selector, in name
// order; all of them when there are no selectors.
func selectBMCs(inv *service.Inventory, selectors []string) ([]*service.BMC, error) {
	if len(selectors) == 0 {
		return inv.All(), nil
	}
	var sels []authz.Selector
	for _, s := range selectors {
		sel, err := authz.ParseSelector(s)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
		sels = append(sels, sel)
	}
	var out []*service.BMC
	for _, b := range inv.All() {
		for _, sel := range sels {
			if sel.Match(b.Target()) {
				out = append(out, b)
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no BMC matches %v", selectors)
	}
	return out, nil
}

// offlineActor names who ran an offline command: the operating system user.
func offlineActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "os:" + u.Username
	}
	return fmt.Sprintf("os:uid-%d", os.Getuid())
}
