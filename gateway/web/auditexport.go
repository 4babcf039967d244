package web

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/service"
)

// exportLimit is the most records one export holds (and its default): the
// records are gathered before the answer starts, so that a failed search is
// an error status, not a truncated file.
const exportLimit = 10000

// pageOrder applies the audit page's order to q: newest first unless the
// query asks for order=oldest (newest=1, the API's flag, is newest too).
func pageOrder(r *http.Request, q *audit.Query) {
	q.Newest = r.URL.Query().Get("order") != "oldest"
}

// nextCursor is the query of the page after p: the same filters with the
// cursor after= (oldest first) or before= (newest first) set.
func nextCursor(v url.Values, q audit.Query, p audit.Page) url.Values {
	next := url.Values{}
	for k, vs := range v {
		next[k] = vs
	}
	cursor := "after"
	if q.Newest {
		cursor = "before"
	}
	next.Del("after")
	next.Del("before")
	next.Set(cursor, strconv.FormatUint(p.Last, 10))
	return next
}

// exportLinks are the audit page's links that export its search as CSV and
// as JSON lines, from the first record of the shown page on.
func exportLinks(v url.Values) map[string]string {
	links := map[string]string{}
	for _, f := range []string{"csv", "jsonl"} {
		e := url.Values{}
		for k, vs := range v {
			e[k] = vs
		}
		e.Del("limit")
		e.Set("format", f)
		links[f] = "/audit/export?" + e.Encode()
	}
	return links
}

// auditExport answers the audit page's search as a CSV or JSON-lines
// download (format=csv|jsonl), at most exportLimit records; when more match,
// a Link header (rel="next") names the export of the next records.
func (s *Server) auditExport(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	format := r.URL.Query().Get("format")
	if format != "csv" && format != "jsonl" {
		http.Error(w, "format must be csv or jsonl", http.StatusBadRequest)
		return
	}
	q, _, _, limit, problem := parseAuditQuery(r, s.now())
	if problem != "" {
		http.Error(w, problem, http.StatusBadRequest)
		return
	}
	pageOrder(r, &q)
	if limit == "" {
		q.Limit = exportLimit
	}
	var recs []audit.Record
	page, err := s.svc.AuditSearchPage(r.Context(), c, q, func(rec audit.Record) error {
		rec.Data = nil
		recs = append(recs, rec)
		return nil
	})
	if err != nil {
		status := http.StatusServiceUnavailable
		switch {
		case errors.Is(err, service.ErrDenied):
			status = http.StatusForbidden
		case errors.Is(err, audit.ErrInvalidQuery):
			status = http.StatusBadRequest
		}
		http.Error(w, service.Message(err), status)
		return
	}
	h := w.Header()
	if page.More {
		h.Set("Link", `</audit/export?`+nextCursor(r.URL.Query(), q, page).Encode()+`>; rel="next"`)
	}
	name := "bmcgate-audit-" + s.now().UTC().Format("20060102T150405Z") + "." + format
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	if format == "csv" {
		h.Set("Content-Type", "text/csv; charset=utf-8")
		writeRecordsCSV(w, recs)
		return
	}
	h.Set("Content-Type", "application/jsonl; charset=utf-8")
	enc := json.NewEncoder(w)
	for _, rec := range recs {
		if err := enc.Encode(rec); err != nil {
			return
		}
	}
}

// csvHeader names the columns of an exported record.
var csvHeader = []string{"seq", "time", "code", "actor", "door", "source", "session", "target",
	"action", "outcome", "reason", "duration_ns", "fields", "prev", "hash"}

// writeRecordsCSV writes recs as CSV, fields as one JSON object per cell.
func writeRecordsCSV(w http.ResponseWriter, recs []audit.Record) {
	cw := csv.NewWriter(w)
	_ = cw.Write(csvHeader)
	for _, r := range recs {
		fields := ""
		if len(r.Fields) > 0 {
			b, _ := json.Marshal(r.Fields)
			fields = string(b)
		}
		row := []string{strconv.FormatUint(r.Seq, 10), r.Time.UTC().Format(time.RFC3339Nano), r.Code,
			r.Actor, r.Door, r.Source, r.Session, r.Target, r.Action, r.Outcome, r.Reason,
			strconv.FormatInt(int64(r.Duration), 10), fields, r.Prev, r.Hash}
		for i := range row {
			row[i] = csvCell(row[i])
		}
		if err := cw.Write(row); err != nil {
			return
		}
	}
	cw.Flush()
}

// csvCell keeps a spreadsheet from reading a cell as a formula: a value a
// client chose (a user name, a reason) that starts with = + - @ or a control
// character gets a leading apostrophe.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r\n", rune(s[0])) {
		return "'" + s
	}
	return s
}
