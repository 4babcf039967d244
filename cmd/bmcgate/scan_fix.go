package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/offline"
	"github.com/bmcgate/bmcgate/gateway/scans"
	"github.com/bmcgate/bmcgate/gateway/service"
)

// runScanFix plans the fixes, asks for confirmation (unless yes) and
// applies them.
func runScanFix(ctx context.Context, cfg *configs.Config, targets []string, yes, asJSON bool, stdout, stderr io.Writer, log *slog.Logger) int {
	if len(targets) == 0 {
		fmt.Fprintln(stderr, "bmcgate scan --fix: name the BMCs to fix")
		return exitUsage
	}
	confirm := func(plans []*service.ScanFixOutcome) bool {
		fmt.Fprintln(stderr, "planned fixes:")
		n := scans.WriteFixPlan(stderr, plans)
		if yes {
			return true
		}
		fmt.Fprintf(stderr, "apply these %d fixes? [y/N] ", n)
		line, _ := bufio.NewReader(stdin).ReadString('\n')
		a := strings.ToLower(strings.TrimSpace(line))
		return a == "y" || a == "yes"
	}
	outcomes, err := offline.FixOffline(ctx, cfg, targets, confirm, log)
	if errors.Is(err, offline.ErrFixNotConfirmed) {
		fmt.Fprintln(stderr, "bmcgate scan:", err)
		return exitFailed
	}
	if werr := scans.WriteFixOutcomes(stdout, outcomes, asJSON); werr != nil {
		fmt.Fprintln(stderr, "bmcgate scan:", werr)
		return exitFailed
	}
	if err != nil {
		fmt.Fprintln(stderr, "bmcgate scan:", err)
		return exitFailed
	}
	status := exitOK
	for _, o := range outcomes {
		if o.Refused != "" {
			status = exitFailed
		}
		for _, f := range o.Fixes {
			if !f.OK {
				status = exitFailed
			}
		}
		final := o.Before
		if o.After != nil {
			final = o.After
		}
		if status == exitOK && final.Worst() == "critical" {
			status = exitCritical
		}
	}
	return status
}
