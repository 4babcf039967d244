package offline

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/user"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/assemble"
	"github.com/bmcgate/bmcgate/gateway/scans"
	"github.com/bmcgate/bmcgate/proxy/scan"
)

// ScanOffline scans the config's BMCs that match selectors (all when none
// are given) without a running gateway, stores every report in the data
// directory (so `ssh gw scan --last` shows it) and returns the reports in
// name order. The reports are recorded in the audit log when it can be
// opened (it cannot while a gateway holds it); the scan runs either way.
func ScanOffline(ctx context.Context, cfg *configs.Config, selectors []string, log *slog.Logger) ([]*scan.Report, error) {
	if log == nil {
		log = slog.Default()
	}
	st, err := assemble.State(cfg)
	if err != nil {
		return nil, err
	}
	bmcs, err := scans.Select(st.Inventory, selectors)
	if err != nil {
		return nil, err
	}
	rf := assemble.OfflineRedfish(cfg, log)
	defer rf.Close()
	x, err := assemble.Scans(cfg, log, rf)
	if err != nil {
		return nil, err
	}
	reports := scans.Inventory(ctx, x, bmcs)
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
	st, err := assemble.OpenAuditLog(cfg, log)
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

// offlineActor names who ran an offline command: the operating system user.
func offlineActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "os:" + u.Username
	}
	return fmt.Sprintf("os:uid-%d", os.Getuid())
}
