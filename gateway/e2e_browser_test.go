package gateway

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
	"github.com/chromedp/chromedp"
)

// browser starts headless Chromium with a fresh profile and returns a
// chromedp context for it.
func browser(t *testing.T, more ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	ipmisim.RequireBinaries(t, "chromium")
	path, _ := exec.LookPath("chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		// The gateway's certificate is self-signed for the test.
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	opts = append(opts, more...)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// TestBrowserLoginPowerCycle is the whole story in a real browser: open the
// dashboard, get sent to the provider, log in there, land on the
// dashboard, power-cycle a BMC after confirming, and find the audit record.
func TestBrowserLoginPowerCycle(t *testing.T) {
	w := startWeb(t, webOptions{})
	ctx := browser(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(w.base+"/"),
		ssoLogin("alice", "alice-password-1"),
		chromedp.WaitVisible(chromedp.CSS("#bmcs")),
	)
	if err != nil {
		t.Fatalf("browser login: %v", err)
	}
	dash, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#bmcs")))
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	err = chromedp.Do(sctx,
		chromedp.Click(chromedp.CSS(`a[href="/bmc/node01/power/cycle"]`)),
		chromedp.WaitVisible(chromedp.CSS("#confirm")),
		chromedp.Click(chromedp.CSS("#confirm")),
		chromedp.WaitVisible(chromedp.CSS("#done")),
	)
	if err != nil {
		t.Fatalf("browser power cycle: %v\n%s", err, pageDump(ctx))
	}
	done, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#done")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dash, "node01") || !strings.Contains(done, "power cycle sent") {
		t.Fatalf("dashboard %q, done %q", dash, done)
	}
	if n := w.bmc.PowerCycles(); n != 1 {
		t.Fatalf("BMC saw %d power cycles", n)
	}
	r := w.waitRecord(t, audit.Query{Code: audit.CodeBMCCall, Action: "power.cycle"}, nil)
	if r.Actor != "alice" || r.Door != "web" || r.Outcome != audit.OutcomeOK || r.Target != "node01" {
		t.Fatalf("audit record %+v", r)
	}
	// The user's own activity shows the action on the dashboard.
	if err := chromedp.Do(ctx, chromedp.Navigate(w.base+"/"), chromedp.WaitVisible(chromedp.CSS(".records"))); err != nil {
		t.Fatal(err)
	}
	mine, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".records")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(mine, "power.cycle") {
		t.Fatalf("own activity lacks the power cycle: %q", mine)
	}
}

// pageDump returns the current URL and body text for a failure message.
func pageDump(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	return loc + "\n" + body
}

// ssoLogin signs in at the OpenID provider from bmcgate's login page.
func ssoLogin(user, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.WaitVisible(chromedp.CSS("#sso")),
		chromedp.Click(chromedp.CSS("#sso")),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Submit(chromedp.CSS("#password")),
	)
}

// openBMCWebUI opens the gateway at base, signs in through the provider and
// opens bmc's web UI from the dashboard, up to the BMC page's #state.
func openBMCWebUI(base, user, password, bmc string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/"),
		ssoLogin(user, password),
		chromedp.WaitVisible(chromedp.CSS("#webui-"+bmc)),
		chromedp.Click(chromedp.CSS("#webui-"+bmc)),
		chromedp.WaitVisible(chromedp.CSS("#state")),
	)
}
