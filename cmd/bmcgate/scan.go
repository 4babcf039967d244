package main

import (
	"context"
	"fmt"
	"io"

	"github.com/bmcgate/bmcgate/gateway/assemble"
	"github.com/bmcgate/bmcgate/gateway/offline"
	"github.com/bmcgate/bmcgate/gateway/scans"
)

// exitCritical is the exit status when a scan found a critical problem.
const exitCritical = 4

const scanSynopsis = "scan --config FILE [--json] [TARGET...] | scan --config FILE --fix [--yes] TARGET..."

// runScan scans the config's BMCs offline (no running gateway needed).
func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("scan", scanSynopsis, stdout)
	path := fs.String("config", "", "config file whose inventory to scan")
	asJSON := fs.Bool("json", false, "print one JSON object per BMC and the fleet summary")
	logLevel := fs.String("log-level", "warn", "log level: debug, info, warn, error")
	fix := fs.Bool("fix", false, "apply the remedies of fixable findings (asks for confirmation; every change is audited)")
	yes := fs.Bool("yes", false, "with --fix: do not ask for confirmation")
	targets, code, ok := parseArgs(fs, args, stderr)
	if !ok {
		return code
	}
	if *path == "" {
		fmt.Fprintln(stderr, "bmcgate scan: --config is required")
		return exitUsage
	}
	log, err := newLogger(stderr, "text", *logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "bmcgate scan:", err)
		return exitUsage
	}
	cfg, err := assemble.LoadConfig(*path, false)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFailed
	}
	if *fix {
		return runScanFix(ctx, cfg, targets, *yes, *asJSON, stdout, stderr, log)
	}
	reports, err := offline.ScanOffline(ctx, cfg, targets, log)
	if err != nil {
		fmt.Fprintln(stderr, "bmcgate scan:", err)
		if reports == nil {
			return exitFailed
		}
	}
	critical, unreachable, werr := scans.WriteReports(stdout, reports, *asJSON)
	if werr != nil {
		fmt.Fprintln(stderr, "bmcgate scan:", werr)
		return exitFailed
	}
	switch {
	case err != nil, unreachable > 0:
		return exitFailed
	case critical > 0:
		return exitCritical
	}
	return exitOK
}
