package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/chromedp/chromedp"
)

// webRedfishMedia starts a web harness with node01 (IPMI) and rf03, a
// simulated Redfish-only BMC, and an image library of one good image
// (debian-12) and one whose checksum does not match (broken).
func webRedfishMedia(t *testing.T) (*webHarness, *bmcsim.BMC, *bmcsim.Redfish, []byte) {
	t.Helper()
	lib := startRedfishLibrary(t, "rf03", "rf-Web-Pass-5", 1<<20+77)
	return startWeb(t, webOptions{moreConfig: lib.config}), lib.sim, lib.rf, lib.data
}

// TestBrowserBootAndMedia uses the BMC page's boot override and virtual
// media controls in Chromium: set the override of a Redfish BMC (read
// back on the page and by ipmitool on the same simulated host), insert an
// image of the library (fetched by the BMC from the gateway's listener,
// byte for byte), eject it; the IPMI BMC's page has the boot controls and
// no media ones. Each action is decided and audited by the service with
// the door "web".
func TestBrowserBootAndMedia(t *testing.T) {
	w, sim, rf, data := webRedfishMedia(t)
	ctx := browser(t)
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("%s: %v\n%s", sel, err, pageDump(ctx))
		}
		return s
	}
	err := chromedp.Do(sctx,
		chromedp.Navigate(w.base+"/bmc/rf03"),
		ssoLogin("alice", "alice-password-1"),
		chromedp.WaitVisible(chromedp.CSS("#boot-form")),
		chromedp.SetValue(chromedp.CSS("#boot-target"), "cdrom"),
		chromedp.Click(chromedp.CSS("#boot-persistent")),
		chromedp.SetValue(chromedp.CSS("#boot-modesel"), "uefi"),
		chromedp.Click(chromedp.CSS("#boot-submit")),
		chromedp.WaitVisible(chromedp.CSS("#done")),
	)
	if err != nil {
		t.Fatalf("boot form: %v\n%s", err, pageDump(ctx))
	}
	if d, b, e, m := text("#done"), text("#boot"), text("#boot-enabled"), text("#boot-mode"); d != "boot override set" || b != "cdrom" || e != "persistent" || m != "uefi" {
		t.Fatalf("after the boot form: done %q, boot %q %q %q", d, b, e, m)
	}
	out, _, code := runCmd(t, nil, "ipmitool", "-I", "lanplus", "-C", "17", "-H", "127.0.0.1", "-p", fmt.Sprint(sim.Port()),
		"-U", "unused", "-P", "unused-Pass-1", "-L", "OPERATOR", "chassis", "bootparam", "get", "5")
	if code != 0 || !strings.Contains(out, "Force Boot from CD/DVD") || !strings.Contains(out, "BIOS EFI boot") {
		t.Errorf("ipmitool reads the override set on the web page:\n%s", out)
	}

	err = chromedp.Do(sctx,
		chromedp.WaitVisible(chromedp.CSS("#media-form")),
		chromedp.SetValue(chromedp.CSS("#media-image"), "debian-12"),
		chromedp.Click(chromedp.CSS("#media-insert")),
		chromedp.WaitVisible(chromedp.CSS("#eject-CD1")),
	)
	if err != nil {
		t.Fatalf("media insert: %v\n%s", err, pageDump(ctx))
	}
	if d, in := text("#done"), text("#media-CD1"); d != "image inserted" || in != "(gateway)" {
		t.Errorf("after insert: done %q, CD1 %q", d, in)
	}
	got, err := rf.WaitMedia(sctx, "CD1")
	sum := sha256.Sum256(data)
	if err != nil || got.Err != "" || got.Bytes != int64(len(data)) || got.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("the BMC fetched %+v (%v)", got, err)
	}
	if body := text("body"); strings.Contains(body, got.Image) || strings.Contains(body, "/media/") {
		t.Errorf("the page shows the one-time URL:\n%s", body)
	}
	// The page after the eject is the one without an eject button (the
	// insert's page already showed #done).
	err = chromedp.Do(sctx, chromedp.Click(chromedp.CSS("#eject-CD1")), chromedp.WaitNotPresent(chromedp.CSS("#eject-CD1")),
		chromedp.WaitVisible(chromedp.CSS("#done")))
	if err != nil {
		t.Fatalf("eject: %v\n%s", err, pageDump(ctx))
	}
	if d, in := text("#done"), text("#media-CD1"); d != "media ejected" || in != "-" {
		t.Errorf("after eject: done %q, CD1 %q", d, in)
	}

	// An IPMI BMC: the boot controls, no virtual media section.
	if err := chromedp.Do(sctx, chromedp.Navigate(w.base+"/bmc/node01"), chromedp.WaitVisible(chromedp.CSS("#boot-form"))); err != nil {
		t.Fatalf("node01 page: %v\n%s", err, pageDump(ctx))
	}
	if body := text("body"); strings.Contains(body, "Virtual media") || !strings.Contains(body, "Boot override") {
		t.Errorf("node01 page:\n%s", body)
	}

	for _, a := range []string{"boot.set", "media.insert", "media.eject"} {
		r := w.waitRecord(t, audit.Query{Code: audit.CodeBMCCall, Action: a}, nil)
		if r.Actor != "alice" || r.Door != "web" || r.Outcome != audit.OutcomeOK || r.Target != "rf03" {
			t.Errorf("%s audit record %+v", a, r)
		}
	}
}

// TestWebBootMediaRefusals: the forms are policy-checked by the service
// (a viewer is refused and audited, and sees no controls), need the CSRF
// token, take only library image names, and show plain messages.
func TestWebBootMediaRefusals(t *testing.T) {
	w, _, rf, _ := webRedfishMedia(t)
	c := w.client(t)
	w.login(t, c, "alice", "alice-password-1", "/bmc/rf03")
	_, page := get(t, c, w.base+"/bmc/rf03")
	tok := csrf(t, page)
	// The page and the API show a Redfish-only BMC at its Redfish service.
	if !strings.Contains(page, "<td>"+rf.URL()+"</td>") || strings.Contains(page, ":623") {
		t.Errorf("rf03's page does not show its Redfish URL as its address")
	}
	if code, out := w.api(t, c, "GET", "/api/v1/bmcs/rf03", "", "", nil); code != 200 || out["address"] != rf.URL() || out["protocol"] != "redfish" {
		t.Errorf("API info of rf03: %d %v", code, out)
	}
	for _, bad := range []struct{ path, status, want string }{
		{"/bmc/rf03/media?action=insert&image=broken", "502", "does not match its SHA-256"},
		{"/bmc/rf03/media?action=insert&image=..%2Fimages%2Fdebian-12", "502", "no image"},
		{"/bmc/rf03/media?action=insert&image=https%3A%2F%2Fevil.example%2Fx.iso", "502", "no image"},
		{"/bmc/rf03/media?action=mount", "400", "Unknown virtual media operation"},
		{"/bmc/rf03/boot?target=floppy", "400", "unknown boot target"},
		{"/bmc/node01/media?action=insert&image=debian-12", "502", "needs a Redfish BMC"},
	} {
		path, q, _ := strings.Cut(bad.path, "?")
		form, _ := url.ParseQuery(q)
		form.Set("csrf", tok)
		resp, body := w.post(t, c, path, form, "")
		if fmt.Sprint(resp.StatusCode) != bad.status || !strings.Contains(body, bad.want) {
			t.Errorf("%s: %d, want %s with %q:\n%.400s", bad.path, resp.StatusCode, bad.status, bad.want, body)
		}
	}
	// The event log is cleared from the page and through the API.
	resp, body := w.post(t, c, "/bmc/node01/sel/clear", url.Values{"csrf": {tok}}, "")
	if resp.StatusCode != 200 || !strings.Contains(body, "event log cleared") {
		t.Errorf("clear node01's event log from the page: %d\n%.300s", resp.StatusCode, body)
	}
	if w.bmc.SELCount() != 0 {
		t.Errorf("node01 still has %d SEL records", w.bmc.SELCount())
	}
	hdr := map[string]string{"X-CSRF-Token": tok, "Origin": w.base}
	if code, out := w.api(t, c, "DELETE", "/api/v1/bmcs/rf03/sel", "", "", hdr); code != 200 || out["cleared"] != true {
		t.Errorf("API clear of rf03's event log: %d %v", code, out)
	}
	code, out := w.api(t, c, "GET", "/api/v1/bmcs/rf03/sel", "", "", nil)
	entries, _ := out["entries"].([]any)
	for _, e := range entries {
		if log, _ := e.(map[string]any)["log"].(string); !strings.HasPrefix(log, "manager/") {
			t.Errorf("after the clear, rf03 still lists %v", e)
		}
	}
	if code != 200 {
		t.Errorf("API sel of rf03: %d %v", code, out)
	}
	// Without the CSRF token nothing is done.
	resp, _ = w.post(t, c, "/bmc/rf03/boot", url.Values{"target": {"pxe"}}, "")
	if resp.StatusCode != 403 {
		t.Errorf("boot form without CSRF token: %d", resp.StatusCode)
	}

	v := w.client(t)
	w.login(t, v, "vic", "vic-password-1", "/bmc/rf03")
	_, page = get(t, v, w.base+"/bmc/rf03")
	if strings.Contains(page, `id="boot-form"`) || strings.Contains(page, `id="media-form"`) {
		t.Errorf("a viewer sees the boot or media form")
	}
	if strings.Contains(page, `id="sel-clear"`) {
		t.Errorf("a viewer sees the event log clear button")
	}
	resp, body = w.post(t, v, "/bmc/rf03/boot", url.Values{"target": {"pxe"}, "csrf": {csrf(t, page)}}, "")
	if resp.StatusCode != 403 || !strings.Contains(body, "boot.set") {
		t.Errorf("viewer boot set: %d\n%.400s", resp.StatusCode, body)
	}
	r := w.waitRecord(t, audit.Query{Action: "boot.set", Actor: "vic"}, nil)
	if r.Outcome != audit.OutcomeDeny || r.Door != "web" {
		t.Errorf("viewer refusal record %+v", r)
	}
}
