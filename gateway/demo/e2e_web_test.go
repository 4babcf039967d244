package demo

import (
	"context"
	"encoding/base32"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/gateway/web/breakglass"
	"github.com/bmcgate/bmcgate/internal/datadir"
	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
	"github.com/bmcgate/bmcgate/internal/testpeer/peerkit"
	"github.com/chromedp/chromedp"
)

// demoWeb is what the demo printed about its web door.
type demoWeb struct {
	base      string
	passwords map[string]string // demo user -> password
	bgUser    string
	bgPass    string
	totpURI   string
}

// parseDemoWeb reads the web door's lines of the demo's output.
func parseDemoWeb(t *testing.T, lines []string) demoWeb {
	t.Helper()
	d := demoWeb{passwords: map[string]string{}}
	for _, l := range lines {
		f := strings.Fields(l)
		switch {
		case strings.HasPrefix(l, "Web door: "):
			d.base = f[2]
		case len(f) >= 4 && f[0] == "user" && f[2] == "password" && strings.Contains(l, "(group "):
			d.passwords[f[1]] = f[3]
		case len(f) >= 4 && f[0] == "user" && f[2] == "password":
			d.bgUser, d.bgPass = f[1], f[3]
		case strings.HasPrefix(strings.TrimSpace(l), "TOTP secret: "):
			d.totpURI = f[2]
		}
	}
	if d.base == "" || len(d.passwords) != len(demoUsers) || d.bgPass == "" || d.totpURI == "" {
		t.Fatalf("demo output lacks the web door's lines (%+v):\n%s", d, strings.Join(lines, "\n"))
	}
	return d
}

// totpFromURI returns the TOTP of an otpauth:// URI, as an authenticator
// app that scanned it would compute codes.
func totpFromURI(t *testing.T, uri string) breakglass.TOTP {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" {
		t.Fatalf("otpauth URI %q: %v", uri, err)
	}
	q := u.Query()
	if q.Get("algorithm") != "SHA1" || q.Get("digits") != "6" || q.Get("period") != "30" {
		t.Fatalf("otpauth URI parameters %v", q)
	}
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(q.Get("secret"))
	if err != nil {
		t.Fatalf("otpauth secret: %v", err)
	}
	return breakglass.TOTP{Key: key}
}

// browser starts headless Chromium with a fresh profile.
func browser(t *testing.T) context.Context {
	t.Helper()
	ipmisim.RequireBinaries(t, "chromium")
	path, _ := exec.LookPath("chromium")
	actx, cancelA := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("no-first-run", true),
		// The demo's web door has a self-signed certificate.
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// pageDump returns the current URL and body text for a failure message.
func pageDump(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	return loc + "\n" + body
}

func bodyText(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestE2EDemoWeb runs the demo with its web door and follows what it
// prints in headless Chromium: single sign-on through the demo's OpenID
// provider to the dashboard, and the break-glass login with a code
// computed from the printed otpauth:// secret.
func TestE2EDemoWeb(t *testing.T) {
	ipmisim.RequireBinaries(t, "chromium")
	dir := t.TempDir()
	lines := runningDemo(t, Options{DataDir: dir, SSHAddr: peerkit.FreeTCPAddr(t), HTTPSAddr: peerkit.FreeTCPAddr(t), BMCs: 2, HomeDir: t.TempDir()})
	d := parseDemoWeb(t, lines)

	if !strings.Contains(strings.Join(lines, "\n"), `"Open web UI" on node02`) {
		t.Errorf("the demo does not point to node02's web UI:\n%s", strings.Join(lines, "\n"))
	}
	t.Run("sso", func(t *testing.T) {
		ctx := browser(t)
		sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		err := chromedp.Do(sctx,
			chromedp.Navigate(d.base+"/"),
			chromedp.WaitVisible(chromedp.CSS("#sso")),
			chromedp.Click(chromedp.CSS("#sso")),
			chromedp.WaitVisible(chromedp.CSS("#username")),
			chromedp.SendKeys(chromedp.CSS("#username"), "admin"),
			chromedp.SendKeys(chromedp.CSS("#password"), d.passwords["admin"]),
			chromedp.Submit(chromedp.CSS("#password")),
			chromedp.WaitVisible(chromedp.CSS("#bmcs")),
		)
		if err != nil {
			t.Fatalf("single sign-on: %v\n%s", err, pageDump(ctx))
		}
		body := bodyText(t, ctx)
		if !strings.Contains(body, "admin") || !strings.Contains(body, "node01") || !strings.Contains(body, "node02") {
			t.Fatalf("dashboard:\n%s", body)
		}
		openWebUIAndKVM(t, sctx)
	})

	// The auditor finds the web UI's websocket in the audit log, under the
	// user who opened it.
	t.Run("audit", func(t *testing.T) {
		ctx := browser(t)
		sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		err := chromedp.Do(sctx,
			chromedp.Navigate(d.base+"/audit?code=webui.ws.*&bmc=node02"),
			chromedp.WaitVisible(chromedp.CSS("#sso")),
			chromedp.Click(chromedp.CSS("#sso")),
			chromedp.WaitVisible(chromedp.CSS("#username")),
			chromedp.SendKeys(chromedp.CSS("#username"), "auditor"),
			chromedp.SendKeys(chromedp.CSS("#password"), d.passwords["auditor"]),
			chromedp.Submit(chromedp.CSS("#password")),
			chromedp.WaitVisible(chromedp.CSS(".records")),
		)
		if err != nil {
			t.Fatalf("audit page: %v\n%s", err, pageDump(ctx))
		}
		if body := bodyText(t, ctx); !strings.Contains(body, "webui.ws.open") || !strings.Contains(body, "admin") {
			t.Fatalf("audit page lacks admin's KVM websocket:\n%s", body)
		}
	})

	t.Run("sso wrong password", func(t *testing.T) {
		ctx := browser(t)
		sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		err := chromedp.Do(sctx,
			chromedp.Navigate(d.base+"/"),
			chromedp.WaitVisible(chromedp.CSS("#sso")),
			chromedp.Click(chromedp.CSS("#sso")),
			chromedp.WaitVisible(chromedp.CSS("#username")),
			chromedp.SendKeys(chromedp.CSS("#username"), "admin"),
			chromedp.SendKeys(chromedp.CSS("#password"), "not-"+d.passwords["admin"]),
			chromedp.Submit(chromedp.CSS("#password")),
			chromedp.WaitVisible(chromedp.CSS("#error")),
		)
		if err != nil {
			t.Fatalf("wrong password: %v\n%s", err, pageDump(ctx))
		}
	})

	t.Run("break-glass", func(t *testing.T) {
		totp := totpFromURI(t, d.totpURI)
		// The printed secret is the one the gateway checks codes against.
		onDisk, err := os.ReadFile(filepath.Join(dir, datadir.SecretsDir, "totp-"+d.bgUser))
		if err != nil || strings.TrimSpace(string(onDisk)) != base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(totp.Key) {
			t.Fatalf("TOTP secret file: %v", err)
		}
		ctx := browser(t)
		sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		form := "#breakglass form "
		err = chromedp.Do(sctx,
			chromedp.Navigate(d.base+"/login"),
			chromedp.WaitVisible(chromedp.CSS(form+"input[name=user]")),
			chromedp.SendKeys(chromedp.CSS(form+"input[name=user]"), d.bgUser),
			chromedp.SendKeys(chromedp.CSS(form+"input[name=password]"), d.bgPass),
			chromedp.SendKeys(chromedp.CSS(form+"input[name=code]"), totp.Code(totp.Step(time.Now()))),
			chromedp.Submit(chromedp.CSS(form+"input[name=code]")),
			chromedp.WaitVisible(chromedp.CSS("#bmcs")),
		)
		if err != nil {
			t.Fatalf("break-glass login: %v\n%s", err, pageDump(ctx))
		}
		if body := bodyText(t, ctx); !strings.Contains(body, "BREAK-GLASS") {
			t.Fatalf("dashboard of the break-glass session:\n%s", body)
		}
	})
}

// openWebUIAndKVM opens node02's own web UI from the dashboard through the
// gateway's web-UI proxy (logged in to the BMC by the gateway), then its KVM
// page, whose websocket must stream a changing screen.
func openWebUIAndKVM(t *testing.T, ctx context.Context) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS("#webui-node02")),
		chromedp.Click(chromedp.CSS("#webui-node02")),
		chromedp.WaitVisible(chromedp.CSS("#system")),
	)
	if err != nil {
		t.Fatalf("open web UI: %v\n%s", err, pageDump(ctx))
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	who, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#whoami")))
	if !strings.HasPrefix(loc, "https://node02.localhost:") || who != "bmcgate" {
		t.Fatalf("web UI at %s logged in as %q\n%s", loc, who, pageDump(ctx))
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#kvm-link")), chromedp.WaitVisible(chromedp.CSS("#screen"))); err != nil {
		t.Fatalf("KVM page: %v\n%s", err, pageDump(ctx))
	}
	frames := func(n int) string {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`Number(document.getElementById("kvm-state").getAttribute("data-frames") || 0) >= %d`, n))); err != nil {
			t.Fatalf("KVM websocket: fewer than %d frames: %v\n%s", n, err, pageDump(ctx))
		}
		s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("#screen")))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	first := frames(2)
	later := frames(6)
	if !strings.Contains(first, "node02 KVM") || first == later {
		t.Fatalf("KVM screen does not change: %q then %q", first, later)
	}
}
