package sshd

import (
	"fmt"
	"strings"

	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/proxy/scan"
)

// scanFixOutput is the --json answer of scan --fix.
type scanFixOutput struct {
	Outcomes []*service.ScanFixOutcome `json:"bmcs"`
	Failures []scanFailure             `json:"failures,omitempty"`
	Applied  bool                      `json:"applied"`
}

// cmdScanFix scans the targets and plans their fixes; with --yes it
// applies them. Targets must be named: a fix never runs on "everything"
// by default.
func cmdScanFix(e *env, p parsed) int {
	if len(p.args) == 0 || p.has("last") {
		return usage(e, "scan")
	}
	apply := p.has("yes")
	out := scanFixOutput{Applied: apply}
	err := e.srv.svc.ScanFix(e.ctx, e.caller, p.args, apply, func(r service.Result) {
		o, ok := r.Value.(*service.ScanFixOutcome)
		if !r.OK || !ok {
			out.Failures = append(out.Failures, scanFailure{BMC: r.BMC, Denied: r.Denied, Error: r.Message})
			return
		}
		out.Outcomes = append(out.Outcomes, o)
	})
	if err != nil {
		return e.fail(err)
	}
	status := exitOK
	if len(out.Failures) > 0 {
		status = exitFailed
	}
	critical := false
	for _, o := range out.Outcomes {
		final := o.Before
		if o.After != nil {
			final = o.After
		}
		if final.Worst() == scan.Critical {
			critical = true
		}
		for _, f := range o.Fixes {
			if !f.OK {
				status = exitFailed
			}
		}
		if o.Refused != "" {
			status = exitFailed
		}
	}
	if critical && status == exitOK {
		status = exitCritical
	}
	if e.json {
		if code := e.writeJSON(out); code != exitOK {
			return code
		}
		return status
	}
	planned := 0
	for _, o := range out.Outcomes {
		writeFixOutcome(e, o)
		planned += len(o.Planned)
	}
	for _, f := range out.Failures {
		fmt.Fprintf(e.out, "%s  %s\n", clean(f.BMC), clean(f.Error))
	}
	if !apply && planned > 0 {
		fmt.Fprintf(e.out, "\n%d fixes planned; nothing was changed. Run again with --fix --yes to apply them.\n", planned)
	}
	return status
}

func writeFixOutcome(e *env, o *service.ScanFixOutcome) {
	scan.WriteTable(e.out, []*scan.Report{o.Before})
	if len(o.Planned) == 0 {
		fmt.Fprintf(e.out, "  nothing --fix can change\n")
		return
	}
	fmt.Fprintf(e.out, "  planned fixes: %s\n", strings.Join(o.Planned, ", "))
	if o.Refused != "" {
		fmt.Fprintf(e.out, "  not fixed: %s\n", clean(o.Refused))
		return
	}
	for _, f := range o.Fixes {
		state := "done"
		if !f.OK {
			state = "FAILED: " + f.Message
		}
		fmt.Fprintf(e.out, "  fix %s: %s: %s\n", f.ID, clean(f.Action), clean(state))
	}
	if o.After != nil {
		fmt.Fprintf(e.out, "  after the fixes:\n")
		scan.WriteTable(e.out, []*scan.Report{o.After})
	}
}
