package gateway

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/chromedp/chromedp"
)

// TestBrowserBMCHostFraming runs the production layout in headless
// Chromium: the gateway at gw.example.test, BMC hosts under bmc.example.test
// (one registrable domain, so one site to the browser; Chromium maps the
// names to 127.0.0.1). With node01's UI open in the browser, a page of
// node02's UI frames node01's UI and fetches from it and from the gateway's
// API: nothing of it reaches node01 (no proxied request is recorded) or the
// API, while node02's page framing a page of its own still works.
func TestBrowserBMCHostFraming(t *testing.T) {
	w := startWebUIAt(t, "gw.example.test", "bmc.example.test")
	node01 := w.bmcURL("node01", "/")
	w.fake.pages.Store("/own.html", `<!doctype html><title>own</title><p id="own-text">own page</p>`)
	w.fake.pages.Store("/sibling.html", `<!doctype html><title>sibling</title>
<iframe id="other" src="`+node01+`" onload="document.body.dataset.other='done'"></iframe>
<iframe id="own" src="/own.html" onload="document.body.dataset.own='done'"></iframe>
<img id="img" src="`+node01+`redfish/v1/Systems/1" onerror="document.body.dataset.img='done'" onload="document.body.dataset.img='done'">
<script>
fetch("`+node01+`redfish/v1/Systems/1", {mode: "no-cors", credentials: "include"})
  .then(() => { document.body.dataset.fetch = "done"; }, () => { document.body.dataset.fetch = "done"; });
fetch("`+w.base+`/api/v1/whoami", {mode: "no-cors", credentials: "include"})
  .then(() => { document.body.dataset.gw = "done"; }, () => { document.body.dataset.gw = "done"; });
</script>`)
	ctx := browser(t, chromedp.Flag("host-resolver-rules", "MAP *.example.test 127.0.0.1"))
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, openBMCWebUI(w.base, "vic", "vic-password-1", "node01")); err != nil {
		t.Fatalf("open node01's web UI: %v\n%s", err, pageDump(ctx))
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(w.base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#webui-node02")),
		chromedp.Click(chromedp.CSS("#webui-node02")),
		chromedp.WaitVisible(chromedp.CSS("#state")),
	); err != nil {
		t.Fatalf("open node02's web UI: %v\n%s", err, pageDump(ctx))
	}
	q := audit.Query{Code: audit.CodeWebUIRequest, Target: "node01"}
	before := len(w.records(t, q))
	if before == 0 {
		t.Fatal("node01's UI was never proxied")
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(w.bmcURL("node02", "/sibling.html"))); err != nil {
		t.Fatal(err)
	}
	done := `["other", "own", "img", "fetch", "gw"].every((k) => document.body && document.body.dataset[k] === "done")`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](done, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("sibling page: %v\n%s", err, pageDump(ctx))
	}
	own, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("own").contentDocument.getElementById("own-text").textContent`))
	if err != nil || own != "own page" {
		t.Errorf("node02 framing its own page: %q %v", own, err)
	}
	after := w.records(t, q)
	for _, r := range after[before:] {
		t.Errorf("node01 served a request started by node02's page: %s %s %s", r.Fields["method"], r.Fields["path"], r.Fields["status"])
	}
	for _, what := range []string{"iframe", "image"} {
		w.waitRecord(t, audit.Query{Code: audit.CodeDecision, Outcome: audit.OutcomeDeny}, func(r audit.Record) bool {
			return strings.Contains(r.Reason, "BMC host node01: same-site "+what)
		})
	}
	// The gateway's own pages refuse it too (the session cookie is Lax, and
	// the BMC hosts are the same site).
	w.waitRecord(t, audit.Query{Code: audit.CodeDecision, Outcome: audit.OutcomeDeny}, func(r audit.Record) bool {
		return strings.Contains(r.Reason, "gateway page: same-site")
	})
	if n := w.fake.resets.Load(); n != 0 {
		t.Errorf("BMC saw %d resets", n)
	}

	// node01's UI itself still opens at the top level, from the dashboard.
	if err := chromedp.Do(ctx, chromedp.Navigate(node01), chromedp.WaitVisible(chromedp.CSS("#state"))); err != nil {
		t.Fatalf("node01 at the top level: %v\n%s", err, pageDump(ctx))
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasPrefix(loc, node01) {
		t.Errorf("landed on %s", loc)
	}
}
