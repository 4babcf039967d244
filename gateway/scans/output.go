package scans

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/bmcgate/bmcgate/gateway/service"

	"github.com/bmcgate/bmcgate/proxy/scan"
)

// WriteReports writes reports for people (a table per BMC and the
// fleet summary) or as JSON ({"bmcs": [one object per BMC], "summary"}),
// and returns how many BMCs have a critical finding and how many could not
// be reached.
func WriteReports(w io.Writer, reports []*scan.Report, asJSON bool) (critical, unreachable int, err error) {
	sum := scan.Summarize(reports)
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(struct {
			Reports []*scan.Report `json:"bmcs"`
			Summary scan.Summary   `json:"summary"`
		}{reports, sum})
		if err != nil {
			return sum.Critical, sum.Unreachable, fmt.Errorf("write scan reports: %w", err)
		}
		return sum.Critical, sum.Unreachable, nil
	}
	scan.WriteTable(w, reports)
	fmt.Fprintln(w)
	scan.WriteSummary(w, sum)
	return sum.Critical, sum.Unreachable, nil
}

// WriteFixPlan writes the planned fixes of every BMC, for the operator to
// confirm, and returns how many there are.
func WriteFixPlan(w io.Writer, plans []*service.ScanFixOutcome) int {
	n := 0
	for _, p := range plans {
		if len(p.Planned) == 0 {
			continue
		}
		n += len(p.Planned)
		fmt.Fprintf(w, "%s: %s\n", p.Before.BMC, strings.Join(p.Planned, ", "))
	}
	return n
}

// WriteFixOutcomes writes what the fixes did, for people or as JSON.
func WriteFixOutcomes(w io.Writer, outcomes []*service.ScanFixOutcome, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Outcomes []*service.ScanFixOutcome `json:"bmcs"`
		}{outcomes}); err != nil {
			return fmt.Errorf("write fix outcomes: %w", err)
		}
		return nil
	}
	for _, o := range outcomes {
		fmt.Fprintf(w, "%s:\n", o.Before.BMC)
		if o.Refused != "" {
			fmt.Fprintf(w, "  not fixed: %s\n", o.Refused)
		}
		for _, f := range o.Fixes {
			state := "done"
			if !f.OK {
				state = "FAILED: " + f.Message
			}
			fmt.Fprintf(w, "  fix %s: %s: %s\n", f.ID, f.Action, state)
		}
		if o.After != nil {
			scan.WriteTable(w, []*scan.Report{o.After})
		}
	}
	return nil
}
