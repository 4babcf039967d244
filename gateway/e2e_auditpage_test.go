package gateway

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// seqOf reads the record numbers of `audit search` text lines.
var seqOf = regexp.MustCompile(`(?m)^\S+ #(\d+) `)

func seqs(t *testing.T, out string) []uint64 {
	t.Helper()
	var s []uint64
	for _, m := range seqOf.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.ParseUint(m[1], 10, 64)
		s = append(s, n)
	}
	return s
}

// TestE2EAuditSearchPages: a search that stops at its limit says so and
// names the cursor of the next page, over SSH and the JSON API, and the
// next page continues where the first stopped.
func TestE2EAuditSearchPages(t *testing.T) {
	w := startWeb(t, webOptions{extraWeb: providerTokenTypes})
	for range 3 {
		if _, errOut, code := w.ssh("alice", nil, "whoami"); code != 0 {
			t.Fatalf("whoami: %d %s", code, errOut)
		}
	}
	// Newest first: the records before the cursor do not change while
	// the searches themselves add records.
	out, errOut, code := w.ssh("alice", nil, "audit", "search", "--code", "auth.login", "--newest", "--limit", "2")
	first := seqs(t, out)
	m := regexp.MustCompile(`--before (\d+)`).FindStringSubmatch(errOut)
	if code != 0 || len(first) != 2 || m == nil || !strings.Contains(errOut, "2 records shown; more match") {
		t.Fatalf("first page: %d\n%s\n%s", code, out, errOut)
	}
	if m[1] != fmt.Sprint(first[1]) {
		t.Fatalf("cursor --before %s, last record shown #%d", m[1], first[1])
	}
	out, errOut, code = w.ssh("alice", nil, "audit", "search", "--code", "auth.login", "--newest", "--limit", "2", "--before", m[1])
	second := seqs(t, out)
	// Four logins before the cursor of the first page's search: two on the
	// first page, the last two here, and no "more".
	if code != 0 || len(second) != 2 || second[0] >= first[1] || strings.Contains(errOut, "more match") {
		t.Fatalf("second page before #%d: %d\n%s\n%s", first[1], code, out, errOut)
	}
	if _, errOut, code := w.ssh("alice", nil, "audit", "search", "--after", "x"); code == 0 || !strings.Contains(errOut, "--after must be a record number") {
		t.Fatalf("a bad cursor: %d %s", code, errOut)
	}

	at, _ := opTokens(t, w, "audrey", "audrey-password-1")
	c := w.client(t)
	code, res := w.api(t, c, "GET", "/api/v1/audit?code=auth.login&newest=1&limit=2", at, "", nil)
	next, _ := res["next"].(map[string]any)
	before, _ := next["before"].(float64)
	if code != 200 || res["more"] != true || before == 0 {
		t.Fatalf("API first page: %d %v", code, res)
	}
	code, res = w.api(t, c, "GET", fmt.Sprintf("/api/v1/audit?code=auth.login&newest=1&limit=2&before=%d", uint64(before)), at, "", nil)
	recs, _ := res["records"].([]any)
	if code != 200 || len(recs) != 2 {
		t.Fatalf("API second page: %d %v", code, res)
	}
	for _, r := range recs {
		if s, _ := r.(map[string]any)["seq"].(float64); s >= before {
			t.Fatalf("API second page holds #%v, not before #%v", s, before)
		}
	}
	if code, res := w.api(t, c, "GET", "/api/v1/audit?code=console.[", at, "", nil); code != 400 || errCode(res) != "bad_request" {
		t.Fatalf("a bad code pattern: %d %v", code, res)
	}

	// The web audit page links its next page.
	b := w.client(t)
	w.login(t, b, "audrey", "audrey-password-1", "/")
	_, page := get(t, b, w.base+"/audit?code=auth.login&newest=1&limit=1")
	if !strings.Contains(page, `id="more"`) || !regexp.MustCompile(`href="/audit\?[^"]*before=\d+`).MatchString(page) {
		t.Fatalf("audit page without its next page link: %.1500s", page)
	}
}
