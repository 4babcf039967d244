package sshd

import (
	"fmt"

	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/proxy/scan"
)

// exitCritical is the exit status of a scan that found a critical problem
// (the scan itself worked), so cron and CI jobs can tell it from failures.
const exitCritical = 4

// scanCommands are the posture scan commands.
func scanCommands() []*command {
	return []*command{
		{name: "scan", usage: "scan [TARGET...] [--last] [--json] | scan --fix [--yes] TARGET... [--json]",
			summary: "check BMCs for insecure settings (needs scan.run); --last shows the stored results; --fix plans the remedies and --fix --yes applies them (needs scan.fix)",
			flags:   flagSpec{"json": false, "last": false, "fix": false, "yes": false}, run: cmdScan},
	}
}

// scanFailure is a BMC the scan could not report on.
type scanFailure struct {
	BMC    string `json:"bmc"`
	Denied bool   `json:"denied,omitempty"`
	Error  string `json:"error"`
}

// scanOutput is the --json answer: one object per BMC and the fleet summary.
type scanOutput struct {
	Reports  []*scan.Report `json:"bmcs"`
	Failures []scanFailure  `json:"failures,omitempty"`
	Summary  scan.Summary   `json:"summary"`
}

func cmdScan(e *env, p parsed) int {
	if p.has("fix") {
		return cmdScanFix(e, p)
	}
	if p.has("yes") {
		fmt.Fprintln(e.errw, "bmcgate: --yes confirms --fix; it means nothing alone")
		return usage(e, "scan")
	}
	targets := p.args
	if len(targets) == 0 {
		targets = []string{"*"}
	}
	var out scanOutput
	collect := func(r service.Result) {
		rep, ok := r.Value.(*scan.Report)
		if !r.OK || !ok {
			out.Failures = append(out.Failures, scanFailure{BMC: r.BMC, Denied: r.Denied, Error: r.Message})
			return
		}
		out.Reports = append(out.Reports, rep)
	}
	var err error
	if p.has("last") {
		err = e.srv.svc.ScanLast(e.ctx, e.caller, targets, collect)
	} else {
		err = e.srv.svc.Scan(e.ctx, e.caller, targets, collect)
	}
	if err != nil {
		return e.fail(err)
	}
	out.Summary = scan.Summarize(out.Reports)
	status := exitOK
	if len(out.Failures) > 0 || out.Summary.Unreachable > 0 {
		status = exitFailed
	}
	if out.Summary.Critical > 0 && status == exitOK {
		status = exitCritical
	}
	if e.json {
		if code := e.writeJSON(out); code != exitOK {
			return code
		}
		return status
	}
	scan.WriteTable(e.out, out.Reports)
	for _, f := range out.Failures {
		fmt.Fprintf(e.out, "%s  %s\n", clean(f.BMC), clean(f.Error))
	}
	fmt.Fprintln(e.out)
	scan.WriteSummary(e.out, out.Summary)
	return status
}
