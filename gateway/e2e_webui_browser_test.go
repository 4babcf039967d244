package gateway

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/chromedp/chromedp"
)

// TestBrowserWebUI: in headless Chromium, log in through the provider,
// open node01's web UI from the dashboard, and find the BMC page logged in
// on node01.localhost, its websocket echoing, and its Redfish reset refused
// (vic may use the web UI but not power.*); all of it is in the audit log.
func TestBrowserWebUI(t *testing.T) {
	w := startWebUI(t)
	ctx := browser(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, openBMCWebUI(w.base, "vic", "vic-password-1", "node01")); err != nil {
		t.Fatalf("open the web UI: %v\n%s", err, pageDump(ctx))
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#reset"))); err != nil {
		t.Fatalf("BMC page: %v\n%s", err, pageDump(ctx))
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("ws").textContent.startsWith("echo")`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("websocket: %v\n%s", err, pageDump(ctx))
	}
	text := func(sel string) string {
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return v
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	state, ws, reset := text("#state"), text("#ws"), text("#reset")
	cookies, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`))
	if !strings.HasPrefix(loc, w.bmcURL("node01", "/")) || strings.Contains(loc, "ticket") {
		t.Errorf("landed on %s", loc)
	}
	if state != "logged in to the BMC" || ws != "echo:ping-kvm" {
		t.Errorf("state %q, websocket %q", state, ws)
	}
	if !strings.HasPrefix(reset, "403") || !strings.Contains(reset, "power.") {
		t.Errorf("reset answer %q", reset)
	}
	if strings.Contains(cookies, "secret-bmc-token") || cookies != "" {
		t.Errorf("page script sees cookies %q", cookies)
	}
	html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if strings.Contains(html, "secret-bmc-token") || strings.Contains(html, "pw-node01") {
		t.Errorf("BMC credentials reached the page")
	}
	if n := w.fake.resets.Load(); n != 0 {
		t.Errorf("BMC saw %d resets", n)
	}
	q := audit.Query{Actor: "vic", Target: "node01"}
	for _, code := range []string{audit.CodeWebUIWSOpen, audit.CodeWebUIWSClose} {
		q.Code = code
		w.waitRecord(t, q, nil)
	}
	q.Code = audit.CodeWebUIRequest
	r := w.waitRecord(t, q, func(r audit.Record) bool { return r.Outcome == audit.OutcomeDeny })
	if r.Fields["redfish"] != "ComputerSystem.Reset" || r.Fields["status"] != "403" {
		t.Errorf("denied request record %+v", r)
	}
	q.Code, q.Outcome = audit.CodeDecision, audit.OutcomeDeny
	if d := w.waitRecord(t, q, nil); !strings.HasPrefix(d.Action, "power.") {
		t.Errorf("denial record %+v", d)
	}
}
