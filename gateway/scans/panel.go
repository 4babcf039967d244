package scans

import (
	"bytes"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"sort"

	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/proxy/scan"
)

// scanPanelRows bounds the dashboard's posture panel; the full reports are
// one `ssh gw scan --last` away.
const scanPanelRows = 50

// scanPanelTmpl renders the latest stored posture reports of the BMCs a
// user may scan. html/template escapes everything that came from a BMC.
var scanPanelTmpl = template.Must(template.New("scan").Parse(`<h2>Posture scan</h2>
<p>{{.Scanned}} of {{.Allowed}} BMCs scanned: {{.Critical}} critical, {{.High}} high.
Details: <code>ssh gw scan --last</code>; rescan: <code>ssh gw scan BMC</code>.</p>
{{if .Rows}}<table class="scan">
<thead><tr><th>BMC</th><th>worst</th><th>findings</th><th>scanned</th></tr></thead>
<tbody>{{range .Rows}}<tr class="sev-{{.Worst}}"><td>{{.BMC}}</td><td>{{.Worst}}</td><td>{{range $i, $f := .IDs}}{{if $i}}, {{end}}{{$f}}{{end}}</td><td>{{.Time}}</td></tr>
{{end}}</tbody></table>{{if .More}}<p>and {{.More}} more</p>{{end}}{{end}}`))

type scanPanelRow struct {
	BMC, Worst, Time string
	IDs              []string
	rank             int
}

// NewPanel returns the dashboard hook showing stored scan reports. A
// BMC appears only when the user may run scans on it (scan.run), as for
// `scan --last`; the panel reads stored reports and never scans.
func NewPanel(svc *service.Service, store service.ScanStore, log *slog.Logger) func(*http.Request, service.Caller) template.HTML {
	summaries := func(name string) (reportSummary, error) {
		r, err := store.Load(name)
		if err != nil {
			return reportSummary{}, err
		}
		return summarize(r), nil
	}
	if s, ok := store.(*Store); ok {
		summaries = s.summary // decodes a report only when it changed
	}
	return func(r *http.Request, c service.Caller) template.HTML {
		var data struct {
			Allowed, Scanned, Critical, High, More int
			Rows                                   []scanPanelRow
		}
		for _, b := range svc.State().Inventory.All() {
			if d, _ := svc.Permits(c, authz.ScanRun, b.Name); !d.Allowed {
				continue
			}
			data.Allowed++
			rep, err := summaries(b.Name)
			if err != nil {
				if !errors.Is(err, service.ErrNoScan) {
					log.Warn("scan panel: load report", "bmc", b.Name, "err", err)
				}
				continue
			}
			data.Scanned++
			w := rep.worst
			switch w {
			case scan.Critical:
				data.Critical++
			case scan.High:
				data.High++
			}
			if w.Rank() < scan.Medium.Rank() {
				continue
			}
			data.Rows = append(data.Rows, scanPanelRow{BMC: b.Name, Worst: string(w),
				Time: rep.time.UTC().Format("2006-01-02 15:04Z"), IDs: rep.ids, rank: w.Rank()})
		}
		if data.Allowed == 0 {
			return ""
		}
		sort.SliceStable(data.Rows, func(i, j int) bool { return data.Rows[i].rank > data.Rows[j].rank })
		if len(data.Rows) > scanPanelRows {
			data.More = len(data.Rows) - scanPanelRows
			data.Rows = data.Rows[:scanPanelRows]
		}
		var buf bytes.Buffer
		if err := scanPanelTmpl.Execute(&buf, data); err != nil {
			log.Warn("scan panel: render", "err", err)
			return ""
		}
		return template.HTML(buf.String())
	}
}
