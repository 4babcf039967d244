package gateway

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/web/breakglass"
	"github.com/bmcgate/bmcgate/internal/testpeer/oidcop"
)

// breakGlassUser writes a TOTP secret and returns the YAML list item for a
// break-glass account and its TOTP generator.
func breakGlassUser(t *testing.T, name, password, roles string) (string, breakglass.TOTP) {
	t.Helper()
	cheap := breakglass.Params{Memory: 8 << 10, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	hash, err := breakglass.HashPassword([]byte(password), cheap)
	if err != nil {
		t.Fatal(err)
	}
	key, b32, err := breakglass.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "totp_"+name)
	if err := os.WriteFile(path, []byte(b32+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	item := fmt.Sprintf("    - name: %s\n      password_hash: %q\n      totp_secret_file: %q\n      roles: %s\n", name, hash, path, roles)
	return item, breakglass.TOTP{Key: key}
}

// bgLogin posts the break-glass form and returns where it redirected.
func (w *webHarness) bgLogin(t *testing.T, c *http.Client, user, password, code string) string {
	t.Helper()
	resp, _ := w.post(t, noFollow(c), "/login/breakglass", url.Values{"user": {user}, "password": {password}, "code": {code}, "return": {"/"}}, "")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("break-glass login answered %d", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

func TestWebBreakGlass(t *testing.T) {
	item1, totp1 := breakGlassUser(t, "breaker", "breaker-password-1", "[admin]")
	item2, totp2 := breakGlassUser(t, "locky", "locky-password-1", "[viewer]")
	// The provider is down: exactly when break-glass accounts are needed.
	w := startWeb(t, webOptions{issuer: "http://" + freeTCPAddr(t), breakGlass: item1 + item2,
		extraWeb: "  login_limits:\n    max_failures: 3\n    per_source_per_minute: 100\n"})
	now := time.Now()
	step := totp1.Step(now)

	c := w.client(t)
	if loc := w.bgLogin(t, c, "breaker", "breaker-password-1", totp1.Code(step)); loc != "/" {
		t.Fatalf("good login went to %q", loc)
	}
	_, body := get(t, c, w.base+"/")
	if !strings.Contains(body, "BREAK-GLASS") || !strings.Contains(body, `id="bmc-node01"`) {
		t.Fatalf("dashboard of a break-glass session: %.600s", body)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeAuthLogin, Actor: "breaker"}, func(r audit.Record) bool {
		return r.Fields["breakglass"] == "true" && r.Door == "web"
	})
	// Actions are marked too: the session's records carry its handle.
	resp, page := get(t, c, w.base+"/bmc/node01/power/cycle")
	if resp.StatusCode != 200 {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	if resp, _ := w.post(t, c, "/bmc/node01/power/cycle", url.Values{"csrf": {csrf(t, page)}}, ""); resp.StatusCode != 200 || w.bmc.PowerCycles() != 1 {
		t.Fatalf("break-glass power cycle: %d", resp.StatusCode)
	}

	if resp, _ := w.post(t, c, "/tokens", url.Values{"csrf": {csrf(t, page)}, "name": {"x"}, "action": {"power.status"}, "days": {"1"}}, ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("break-glass session created an API token: %d", resp.StatusCode)
	}

	t.Run("totp replay", func(t *testing.T) {
		c := w.client(t)
		if loc := w.bgLogin(t, c, "breaker", "breaker-password-1", totp1.Code(step)); !strings.Contains(loc, "error=failed") {
			t.Fatalf("a used code was accepted again: %q", loc)
		}
		w.waitRecord(t, audit.Query{Code: audit.CodeAuthFail, Actor: "breaker"}, func(r audit.Record) bool {
			return strings.Contains(r.Reason, "reused") && r.Fields["breakglass"] == "true"
		})
		if loc := w.bgLogin(t, c, "breaker", "breaker-password-1", totp1.Code(step+1)); loc != "/" {
			t.Fatalf("the next code was refused: %q", loc)
		}
	})

	t.Run("wrong factors", func(t *testing.T) {
		c := w.client(t)
		for _, tc := range [][3]string{
			{"breaker", "wrong-password-9", totp1.Code(step + 1)},
			{"nobody", "breaker-password-1", "123456"},
			{"breaker", "breaker-password-1", "000000x"},
		} {
			if loc := w.bgLogin(t, c, tc[0], tc[1], tc[2]); !strings.Contains(loc, "error=failed") {
				t.Errorf("%v: went to %q", tc, loc)
			}
		}
		if loggedIn(t, w, c) {
			t.Fatal("logged in with wrong factors")
		}
	})

	t.Run("stranger cannot lock the owner out", func(t *testing.T) {
		// A stranger at 127.0.0.2 fails until made to wait; the owner at
		// 127.0.0.3 logs in all the same.
		stranger, owner := w.clientFrom(t, "127.0.0.2"), w.clientFrom(t, "127.0.0.3")
		for i := 0; i < 5; i++ {
			w.bgLogin(t, stranger, "locky", "not-the-password", "000000")
		}
		good := totp2.Code(totp2.Step(time.Now()))
		if loc := w.bgLogin(t, stranger, "locky", "locky-password-1", good); !strings.Contains(loc, "error=wait") {
			t.Fatalf("the stranger's address is not held: %q", loc)
		}
		if loc := w.bgLogin(t, stranger, "nobody-here", "not-the-password", "000000"); !strings.Contains(loc, "error=failed") {
			t.Fatalf("the stranger's address is held for another account: %q", loc)
		}
		if loc := w.bgLogin(t, owner, "locky", "locky-password-1", good); loc != "/" {
			t.Fatalf("the owner was locked out by a stranger: %q", loc)
		}
		w.waitRecord(t, audit.Query{Code: audit.CodeAuthFail, Actor: "locky"}, func(r audit.Record) bool {
			return strings.Contains(r.Reason, "waiting after repeated failures") && r.Source == "127.0.0.2"
		})
	})

	t.Run("foreign origin", func(t *testing.T) {
		resp, _ := w.post(t, w.client(t), "/login/breakglass", url.Values{"user": {"breaker"}}, "https://evil.example")
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-origin login post: %d", resp.StatusCode)
		}
	})
}

// TestWebBreakGlassSourceLimit checks the per-address rate limit.
func TestWebBreakGlassSourceLimit(t *testing.T) {
	item, _ := breakGlassUser(t, "breaker", "breaker-password-1", "[admin]")
	fake := oidcop.StartFake(t, "bmcgate")
	w := startWeb(t, webOptions{issuer: fake.Issuer, breakGlass: item,
		extraWeb: "  login_limits:\n    per_source_per_minute: 2\n"})
	c := w.client(t)
	for i := 0; i < 2; i++ {
		if loc := w.bgLogin(t, c, "someone", "x", "000000"); !strings.Contains(loc, "error=failed") {
			t.Fatalf("attempt %d: %q", i, loc)
		}
	}
	if loc := w.bgLogin(t, c, "breaker", "breaker-password-1", "000000"); !strings.Contains(loc, "error=wait") {
		t.Fatalf("third attempt within a minute: %q", loc)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeAuthFail}, func(r audit.Record) bool {
		return strings.Contains(r.Reason, "too many attempts from this address")
	})
}

// TestWebOnlyDeployment: single sign-on and a break-glass account, no SSH
// users. The config is valid, the SSH door stays closed (nothing listens
// on listen.ssh) and says so in the start record, and the web door works.
func TestWebOnlyDeployment(t *testing.T) {
	item, totp := breakGlassUser(t, "breaker", "breaker-password-1", "[admin]")
	fake := oidcop.StartFake(t, "bmcgate")
	w := startWeb(t, webOptions{issuer: fake.Issuer, breakGlass: item, noSSHUsers: true})
	if got := w.g.SSHAddr(); got != "off" {
		t.Fatalf("SSH door %q", got)
	}
	if c, err := net.DialTimeout("tcp", w.g.cfg.Listen.SSH, 5*time.Second); err == nil {
		c.Close()
		t.Fatalf("something listens on listen.ssh %s", w.g.cfg.Listen.SSH)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeGatewayStart}, func(r audit.Record) bool { return r.Fields["ssh"] == "off" })
	c := w.client(t)
	if loc := w.bgLogin(t, c, "breaker", "breaker-password-1", totp.Code(totp.Step(time.Now()))); loc != "/" {
		t.Fatalf("break-glass login: %q", loc)
	}
	if _, body := get(t, c, w.base+"/"); !strings.Contains(body, `id="bmc-node01"`) {
		t.Fatalf("dashboard: %.300s", body)
	}
	// A reload keeps it so.
	if err := w.g.Reload(context.Background()); err != nil {
		t.Fatalf("reload: %v", err)
	}
}
