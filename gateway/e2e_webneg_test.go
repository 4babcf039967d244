package gateway

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/web"
	"github.com/bmcgate/bmcgate/internal/testpeer/oidcop"
)

// noFollow is c without following redirects (same cookie jar).
func noFollow(c *http.Client) *http.Client {
	cp := *c
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

// fakeCallback starts a login at the fake issuer and returns the callback
// URL it sends the browser to (not yet visited).
func fakeCallback(t testing.TB, w *webHarness, c *http.Client, ret string) string {
	t.Helper()
	nf := noFollow(c)
	resp, _ := get(t, nf, w.base+"/auth/login?return="+url.QueryEscape(ret))
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("auth start: %d", resp.StatusCode)
	}
	resp, _ = get(t, nf, resp.Header.Get("Location"))
	cb := resp.Header.Get("Location")
	if !strings.HasPrefix(cb, w.base+"/auth/callback?") {
		t.Fatalf("fake authorize sent us to %q", cb)
	}
	return cb
}

// loggedIn reports whether c has a working session.
func loggedIn(t *testing.T, w *webHarness, c *http.Client) bool {
	t.Helper()
	resp, _ := get(t, noFollow(c), w.base+"/")
	return resp.StatusCode == http.StatusOK
}

func TestWebLoginRefusals(t *testing.T) {
	fake := oidcop.StartFake(t, "bmcgate")
	w := startWeb(t, webOptions{issuer: fake.Issuer})

	t.Run("good token logs in", func(t *testing.T) {
		fake.SetShape(nil)
		c := w.client(t)
		resp, _ := get(t, c, fakeCallback(t, w, c, "/"))
		if resp.StatusCode != http.StatusOK || !loggedIn(t, w, c) {
			t.Fatalf("login with a good token failed: %d", resp.StatusCode)
		}
	})

	bad := []struct {
		name, reason string
		shape        func(map[string]any) bool
	}{
		{"nonce mismatch", "nonce", func(c map[string]any) bool { c["nonce"] = "not-the-nonce"; return false }},
		{"nonce missing", "nonce", func(c map[string]any) bool { delete(c, "nonce"); return false }},
		{"wrong audience", "wrong audience", func(c map[string]any) bool { c["aud"] = "someone-else"; return false }},
		{"wrong issuer", "wrong issuer", func(c map[string]any) bool { c["iss"] = "https://evil.example"; return false }},
		{"expired", "expired", func(c map[string]any) bool {
			c["exp"] = time.Now().Add(-time.Hour).Unix()
			c["iat"] = time.Now().Add(-2 * time.Hour).Unix()
			return false
		}},
		{"alg none", "bad signature", func(map[string]any) bool { return true }},
		{"no role", "no bmcgate role", func(c map[string]any) bool { c["groups"] = []string{"strangers"}; return false }},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			fake.SetShape(tc.shape)
			defer fake.SetShape(nil)
			c := w.client(t)
			resp, body := get(t, c, fakeCallback(t, w, c, "/"))
			if resp.StatusCode < 400 || loggedIn(t, w, c) {
				t.Fatalf("bad token accepted: %d %.300s", resp.StatusCode, body)
			}
			w.waitRecord(t, audit.Query{Code: audit.CodeAuthFail}, func(r audit.Record) bool {
				return r.Door == "web" && strings.Contains(r.Reason, tc.reason)
			})
		})
	}

	t.Run("state", func(t *testing.T) {
		c := w.client(t)
		cb := fakeCallback(t, w, c, "/")
		u, _ := url.Parse(cb)
		q := u.Query()
		q.Set("state", "forged-state")
		u.RawQuery = q.Encode()
		if resp, _ := get(t, c, u.String()); resp.StatusCode != http.StatusBadRequest || loggedIn(t, w, c) {
			t.Fatalf("wrong state: %d", resp.StatusCode)
		}
		// The attempt consumed the pre-login record: the right state now fails too.
		if resp, _ := get(t, c, cb); resp.StatusCode != http.StatusBadRequest || loggedIn(t, w, c) {
			t.Fatalf("state reused after a failure: %d", resp.StatusCode)
		}
		// Missing state.
		c2 := w.client(t)
		cb2 := fakeCallback(t, w, c2, "/")
		u2, _ := url.Parse(cb2)
		q2 := u2.Query()
		q2.Del("state")
		u2.RawQuery = q2.Encode()
		if resp, _ := get(t, c2, u2.String()); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("missing state: %d", resp.StatusCode)
		}
		// A callback in another browser (no pre-login cookie).
		c3 := w.client(t)
		cb3 := fakeCallback(t, w, c3, "/")
		if resp, _ := get(t, w.client(t), cb3); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("callback in a browser that did not start the login: %d", resp.StatusCode)
		}
		// Replay of a successful callback.
		c4 := w.client(t)
		cb4 := fakeCallback(t, w, c4, "/")
		if resp, _ := get(t, c4, cb4); resp.StatusCode != http.StatusOK {
			t.Fatalf("login: %d", resp.StatusCode)
		}
		if resp, _ := get(t, c4, cb4); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("replayed callback: %d", resp.StatusCode)
		}
	})

	t.Run("open redirects", func(t *testing.T) {
		for _, ret := range []string{"//evil.example", `/\evil.example`, "https:evil.example", "/%09/evil.example", "https://evil.example/", "/\t/evil.example"} {
			c := w.client(t)
			resp, _ := get(t, noFollow(c), fakeCallback(t, w, c, ret))
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
				t.Errorf("return %q: %d to %q", ret, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
		c := w.client(t)
		resp, _ := get(t, noFollow(c), fakeCallback(t, w, c, "/bmc/node01"))
		if loc := resp.Header.Get("Location"); loc != "/bmc/node01" {
			t.Errorf("a local return path was not kept: %q", loc)
		}
	})

	t.Run("cookie flags and fixation", func(t *testing.T) {
		c := w.client(t)
		base, _ := url.Parse(w.base)
		c.Jar.SetCookies(base, []*http.Cookie{{Name: web.SessionCookie, Value: "attacker-chosen-id", Path: "/", Secure: true}})
		resp, _ := get(t, noFollow(c), fakeCallback(t, w, c, "/"))
		var sc *http.Cookie
		for _, k := range resp.Cookies() {
			if k.Name == web.SessionCookie {
				sc = k
			}
		}
		if sc == nil {
			t.Fatal("no session cookie set at login")
		}
		if !sc.Secure || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" || sc.Domain != "" || !strings.HasPrefix(sc.Name, "__Host-") {
			t.Fatalf("cookie flags: %+v", sc)
		}
		if sc.Value == "attacker-chosen-id" || len(sc.Value) < 40 {
			t.Fatalf("session id not replaced at login: %q", sc.Value)
		}
		old := sc.Value
		// A second login in the same browser gets a new id and revokes the old one.
		get(t, c, fakeCallback(t, w, c, "/"))
		other := w.client(t)
		other.Jar.SetCookies(base, []*http.Cookie{{Name: web.SessionCookie, Value: old, Path: "/", Secure: true}})
		if loggedIn(t, w, other) {
			t.Fatal("the previous session id still works after a new login")
		}
	})

	t.Run("logout revokes server-side", func(t *testing.T) {
		c := w.client(t)
		get(t, c, fakeCallback(t, w, c, "/"))
		base, _ := url.Parse(w.base)
		var id string
		for _, k := range c.Jar.Cookies(base) {
			if k.Name == web.SessionCookie {
				id = k.Value
			}
		}
		_, body := get(t, c, w.base+"/")
		if resp, _ := w.post(t, noFollow(c), "/logout", url.Values{"csrf": {csrf(t, body)}}, ""); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %d", resp.StatusCode)
		}
		stolen := w.client(t)
		stolen.Jar.SetCookies(base, []*http.Cookie{{Name: web.SessionCookie, Value: id, Path: "/", Secure: true}})
		if loggedIn(t, w, stolen) {
			t.Fatal("session still valid after logout")
		}
		w.waitRecord(t, audit.Query{Code: audit.CodeAuthLogout, Actor: "alice"}, nil)
	})

	t.Run("csrf", func(t *testing.T) {
		c := w.client(t)
		get(t, c, fakeCallback(t, w, c, "/"))
		_, body := get(t, c, w.base+"/bmc/node01/power/off")
		tok := csrf(t, body)
		before := w.bmc.Power()
		for _, tc := range []struct {
			name, token, origin string
		}{
			{"no token", "", ""},
			{"wrong token", "x" + tok, ""},
			{"foreign origin", tok, "https://evil.example"},
			{"no origin", tok, "-"},
			{"null origin", tok, "null"},
		} {
			resp, _ := w.post(t, c, "/bmc/node01/power/off", url.Values{"csrf": {tc.token}}, tc.origin)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: %d", tc.name, resp.StatusCode)
			}
		}
		if w.bmc.Power() != before {
			t.Fatal("a refused request changed the power state")
		}
		resp, _ := w.post(t, c, "/bmc/node01/power/off", url.Values{"csrf": {tok}}, "")
		if resp.StatusCode != http.StatusOK || w.bmc.Power() {
			t.Fatalf("good request: %d, power %v", resp.StatusCode, w.bmc.Power())
		}
	})

	t.Run("security headers", func(t *testing.T) {
		resp, _ := get(t, w.client(t), w.base+"/login")
		h := resp.Header
		for k, want := range map[string]string{
			"Strict-Transport-Security": "max-age=",
			"Content-Security-Policy":   "frame-ancestors 'none'",
			"X-Content-Type-Options":    "nosniff",
			"Referrer-Policy":           "same-origin",
		} {
			if !strings.Contains(h.Get(k), want) {
				t.Errorf("%s = %q", k, h.Get(k))
			}
		}
		if csp := h.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("CSP %q", csp)
		}
		if resp.ProtoMajor != 2 {
			t.Errorf("served over %s, want HTTP/2", resp.Proto)
		}
		req, _ := http.NewRequest(http.MethodGet, w.base+"/login", nil)
		req.Header.Set("X-Big", strings.Repeat("a", 64<<10))
		if resp, err := w.client(t).Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode < 400 {
				t.Errorf("64 KiB header accepted: %d", resp.StatusCode)
			}
		}
	})
}

// TestWebProviderDown shows a clear page when discovery fails.
func TestWebProviderDown(t *testing.T) {
	w := startWeb(t, webOptions{issuer: "http://" + freeTCPAddr(t)})
	resp, body := get(t, w.client(t), w.base+"/auth/login")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "cannot be reached") {
		t.Fatalf("provider down: %d %.300s", resp.StatusCode, body)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeAuthFail}, func(r audit.Record) bool { return strings.Contains(r.Reason, "unreachable") })
}
