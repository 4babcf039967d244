package gateway

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/bmcgate/bmcgate/proxy/scan"
)

// WriteScanReports writes reports for people (a table per BMC and the
// fleet summary) or as JSON ({"bmcs": [one object per BMC], "summary"}),
// and returns how many BMCs have a critical finding.
func WriteScanReports(w io.Writer, reports []*scan.Report, asJSON bool) (critical int, err error) {
	sum := scan.Summarize(reports)
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(struct {
			Reports []*scan.Report `json:"bmcs"`
			Summary scan.Summary   `json:"summary"`
		}{reports, sum})
		if err != nil {
			return sum.Critical, fmt.Errorf("write scan reports: %w", err)
		}
		return sum.Critical, nil
	}
	scan.WriteTable(w, reports)
	fmt.Fprintln(w)
	scan.WriteSummary(w, sum)
	return sum.Critical, nil
}
