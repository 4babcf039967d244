package gateway

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserAuditPageOrderExport: in Chromium, an auditor opens the audit
// page (newest first), switches to the oldest first, and the page's CSV and
// JSON-lines links answer the same search as files with the browser's
// session, within the page's CSP.
func TestBrowserAuditPageOrderExport(t *testing.T) {
	w := startWeb(t, webOptions{})
	ctx := browser(t)
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err := chromedp.Do(sctx,
		chromedp.Navigate(w.base+"/audit?code=auth.login"),
		ssoLogin("audrey", "audrey-password-1"),
		chromedp.WaitVisible(chromedp.CSS("#export-csv")),
	)
	if err != nil {
		t.Fatalf("audit page: %v\n%s", err, pageDump(ctx))
	}
	order, _ := chromedp.Run(sctx, chromedp.Evaluate[string](`document.getElementById("order").value`))
	if order != "newest" {
		t.Fatalf("default order %q", order)
	}
	err = chromedp.Do(sctx,
		chromedp.SetValue(chromedp.CSS("#order"), "oldest"),
		chromedp.Submit(chromedp.CSS("#order")),
		chromedp.WaitVisible(chromedp.CSS("#export-jsonl")),
	)
	if err != nil {
		t.Fatalf("oldest first: %v\n%s", err, pageDump(ctx))
	}
	loc, _ := chromedp.Run(sctx, chromedp.Location())
	if !strings.Contains(loc, "order=oldest") {
		t.Fatalf("the form did not ask for the oldest first: %s", loc)
	}
	// Fetch each export link as the page would follow it.
	get := `(function(id){var x=new XMLHttpRequest();x.open("GET",document.getElementById(id).href,false);x.send();` +
		`return x.status+" "+x.getResponseHeader("Content-Disposition")+"\n"+x.responseText;})`
	csv, err := chromedp.Run(sctx, chromedp.Evaluate[string](get+`("export-csv")`))
	if err != nil || !strings.HasPrefix(csv, "200 attachment;") || !strings.Contains(csv, "\nseq,time,code,") || !strings.Contains(csv, ",auth.login,audrey,web,") {
		t.Fatalf("CSV link: %v %q", err, csv)
	}
	jsonl, err := chromedp.Run(sctx, chromedp.Evaluate[string](get+`("export-jsonl")`))
	if err != nil || !strings.HasPrefix(jsonl, "200 attachment;") || !strings.Contains(jsonl, `"code":"auth.login","actor":"audrey"`) {
		t.Fatalf("JSONL link: %v %q", err, jsonl)
	}
}
