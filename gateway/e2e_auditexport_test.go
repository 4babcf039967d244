package gateway

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
)

// pageSeqs reads the record numbers of the audit page's table, in order.
var pageSeq = regexp.MustCompile(`<tr><td><a href="/audit/record/\d+">(\d+)</a></td>`)

func pageSeqs(page string) []uint64 {
	var s []uint64
	for _, m := range pageSeq.FindAllStringSubmatch(page, -1) {
		n, _ := strconv.ParseUint(m[1], 10, 64)
		s = append(s, n)
	}
	return s
}

// TestE2EAuditPageOrderAndExport: the web audit page lists newest first
// unless asked for the oldest first, pages with the matching cursor, and
// exports its search as CSV and JSON lines (with a Link to the next records
// when more match) for users with audit.read only; a cell a spreadsheet
// would read as a formula is quoted.
func TestE2EAuditPageOrderAndExport(t *testing.T) {
	w := startWeb(t, webOptions{})
	b := w.client(t)
	w.login(t, b, "audrey", "audrey-password-1", "/")
	for range 2 {
		w.login(t, w.client(t), "vic", "vic-password-1", "/")
	}
	w.waitRecord(t, audit.Query{Code: "auth.login", Actor: "vic"}, func(audit.Record) bool { return true })

	resp, page := get(t, b, w.base+"/audit?code=auth.login")
	newest := pageSeqs(page)
	if resp.StatusCode != http.StatusOK || len(newest) < 3 || newest[0] < newest[len(newest)-1] {
		t.Fatalf("default order, want newest first: %d %v", resp.StatusCode, newest)
	}
	if !strings.Contains(page, `<option value="newest" selected>`) || !strings.Contains(page, `id="export"`) {
		t.Fatalf("audit page without its order choice or export links: %.2000s", page)
	}
	_, page = get(t, b, w.base+"/audit?code=auth.login&order=oldest&limit=1")
	oldest := pageSeqs(page)
	if len(oldest) != 1 || oldest[0] != newest[len(newest)-1] || !regexp.MustCompile(`href="/audit\?[^"]*after=\d+`).MatchString(page) {
		t.Fatalf("oldest first page: %v (newest first %v) %.1500s", oldest, newest, page)
	}
	_, page = get(t, b, w.base+"/audit?code=auth.login&limit=1")
	if s := pageSeqs(page); len(s) != 1 || s[0] != newest[0] || !regexp.MustCompile(`href="/audit\?[^"]*before=\d+`).MatchString(page) {
		t.Fatalf("newest first page: %v %.1500s", s, page)
	}

	resp, body := get(t, b, w.base+"/audit/export?code=auth.login&format=csv")
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("CSV export: %d %v %v\n%s", resp.StatusCode, resp.Header, err, body)
	}
	if len(rows) < 4 || rows[0][0] != "seq" || rows[0][2] != "code" || rows[1][2] != "auth.login" || rows[1][0] != strconv.FormatUint(newest[0], 10) {
		t.Fatalf("CSV export rows: %v", rows)
	}

	resp, body = get(t, b, w.base+"/audit/export?code=auth.*&user=vic&format=jsonl&order=oldest&limit=1")
	link := resp.Header.Get("Link")
	if resp.StatusCode != http.StatusOK || !regexp.MustCompile(`^</audit/export\?[^>]*after=\d+[^>]*>; rel="next"$`).MatchString(link) {
		t.Fatalf("JSONL export: %d Link %q\n%s", resp.StatusCode, link, body)
	}
	var lines []audit.Record
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("JSONL line %q: %v", sc.Text(), err)
		}
		lines = append(lines, r)
	}
	if len(lines) != 1 || lines[0].Actor != "vic" || lines[0].Code != "auth.login" {
		t.Fatalf("JSONL export records: %+v", lines)
	}
	next := regexp.MustCompile(`^<([^>]+)>`).FindStringSubmatch(link)[1]
	_, body = get(t, b, w.base+next)
	var second audit.Record
	if err := json.Unmarshal([]byte(strings.SplitN(body, "\n", 2)[0]), &second); err != nil || second.Seq <= lines[0].Seq || second.Actor != "vic" {
		t.Fatalf("next export after #%d: %v %s", lines[0].Seq, err, body)
	}

	for _, c := range []struct{ path, want string }{
		{"/audit/export?format=xml", "format must be csv or jsonl"},
		{"/audit/export?format=csv&since=garbage", "since:"},
		{"/audit/export?format=csv&code=console.[", "pattern"},
	} {
		if resp, body := get(t, b, w.base+c.path); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %q", c.path, resp.StatusCode, body)
		}
	}
	// A record's detail page shows its fields and hashes.
	resp, body = get(t, b, w.base+"/audit/record/"+strconv.FormatUint(lines[0].Seq, 10))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="record"`) || !strings.Contains(body, lines[0].Hash) ||
		!strings.Contains(body, lines[0].Prev) || !strings.Contains(body, ">vic<") {
		t.Fatalf("record detail: %d %.2000s", resp.StatusCode, body)
	}
	for path, status := range map[string]int{"/audit/record/0": http.StatusBadRequest, "/audit/record/x": http.StatusBadRequest,
		"/audit/record/99999999": http.StatusNotFound} {
		if resp, _ := get(t, b, w.base+path); resp.StatusCode != status {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, status)
		}
	}
	viewer := w.client(t)
	w.login(t, viewer, "vic", "vic-password-1", "/")
	if resp, body := get(t, viewer, w.base+"/audit/record/1"); resp.StatusCode != http.StatusForbidden || strings.Contains(body, "Previous hash") {
		t.Errorf("viewer without audit.read saw a record: %d", resp.StatusCode)
	}
	if _, body := get(t, viewer, w.base+"/"); strings.Contains(body, "/audit/record/") {
		t.Errorf("the dashboard links records for a user without audit.read")
	}
	if resp, body := get(t, viewer, w.base+"/audit/export?format=csv"); resp.StatusCode != http.StatusForbidden || strings.Contains(body, "auth.login") {
		t.Errorf("viewer without audit.read exported the log: %d %.300s", resp.StatusCode, body)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeAuditSearch, Actor: "audrey"}, func(r audit.Record) bool {
		return r.Door == "web" && r.Fields["code"] == "auth.*"
	})
}
