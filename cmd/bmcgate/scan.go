package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/bmcgate/bmcgate/gateway"
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
	flags, targets := splitScanArgs(args)
	if err := fs.Parse(flags); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	targets = append(targets, fs.Args()...)
	if *path == "" {
		fmt.Fprintln(stderr, "bmcgate scan: --config is required")
		return exitUsage
	}
	log, err := newLogger(stderr, "text", *logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "bmcgate scan:", err)
		return exitUsage
	}
	cfg, err := gateway.LoadConfig(*path, false)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFailed
	}
	if *fix {
		return runScanFix(ctx, cfg, targets, *yes, *asJSON, stdout, stderr, log)
	}
	reports, err := gateway.ScanOffline(ctx, cfg, targets, log)
	if err != nil {
		fmt.Fprintln(stderr, "bmcgate scan:", err)
		if reports == nil {
			return exitFailed
		}
	}
	critical, unreachable, werr := gateway.WriteScanReports(stdout, reports, *asJSON)
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

// splitScanArgs separates flags from targets so targets may come first.
func splitScanArgs(args []string) (flags, targets []string) {
	takesValue := map[string]bool{"-config": true, "--config": true, "-log-level": true, "--log-level": true}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case takesValue[a]:
			flags = append(flags, a)
			if i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		case len(a) > 1 && a[0] == '-':
			flags = append(flags, a)
		default:
			targets = append(targets, a)
		}
	}
	return flags, targets
}
