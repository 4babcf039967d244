package gateway

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/chromedp/chromedp"
)

// TestBrowserWebUIPort: in headless Chromium, open node01's web UI from the
// dashboard; the BMC page's script opens its KVM websocket on the BMC's own
// address and KVM port, which the gateway rewrote to the extra public
// port, and the echo comes back through it with the BMC host's cookie.
func TestBrowserWebUIPort(t *testing.T) {
	p := startPorts(t)
	ctx := browser(t)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, openBMCWebUI(p.base, "vic", "vic-password-1", "node01")); err != nil {
		t.Fatalf("open the web UI: %v\n%s", err, pageDump(ctx))
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("ws").textContent.startsWith("echo")`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("websocket: %v\n%s", err, pageDump(ctx))
	}
	ws, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#ws")))
	url, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`kvm`))
	if ws != "echo:ping-5900" || url != "wss://node01.localhost:"+p.pubPort+"/kvm" {
		t.Errorf("websocket %q to %q", ws, url)
	}
	onPort := func(r audit.Record) bool { return r.Fields["host"] == "node01.localhost:"+p.pubPort }
	q := audit.Query{Actor: "vic", Target: "node01"}
	for _, code := range []string{audit.CodeWebUIWSOpen, audit.CodeWebUIWSClose} {
		q.Code = code
		p.waitRecord(t, q, onPort)
	}
	if o, _ := p.kvmOrigins.Load().(string); !strings.HasPrefix(o, "https://127.0.0.1:") {
		t.Errorf("the KVM port saw Origin %q", o)
	}
}
