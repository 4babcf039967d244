package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/web"
	"github.com/bmcgate/bmcgate/gateway/web/testop"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// api calls the JSON API and decodes the answer into a map.
func (w *webHarness) api(t testing.TB, c *http.Client, method, path, bearer, body string, hdr map[string]string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, w.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	data, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s %s: not JSON (%d): %.200s", method, path, resp.StatusCode, data)
	}
	return resp.StatusCode, out
}

// errCode is the stable code of a JSON error answer.
func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// opIDToken runs the code flow against the real provider as an API client
// would and returns the ID token it issues for the bmcgate client.
func opIDToken(t testing.TB, w *webHarness, user, password string) string {
	t.Helper()
	ctx := oidc.ClientContext(context.Background(), http.DefaultClient)
	p, err := oidc.NewProvider(ctx, w.issuer)
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: "bmcgate", ClientSecret: "client-secret-1", Endpoint: p.Endpoint(),
		RedirectURL: w.base + "/auth/callback", Scopes: []string{"openid", "profile", "groups"}}
	c := noFollow(w.client(t))
	resp, body := get(t, w.client(t), conf.AuthCodeURL("api-state"))
	m := opRequestID.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no login form at %s", resp.Request.URL)
	}
	resp, err = c.PostForm(w.issuer+"/login/username", url.Values{"id": {m[1]}, "username": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	for i := 0; i < 5 && !strings.HasPrefix(loc, w.base); i++ {
		if strings.HasPrefix(loc, "/") {
			loc = w.issuer + loc
		}
		resp, _ = get(t, c, loc)
		loc = resp.Header.Get("Location")
	}
	u, err := url.Parse(loc)
	if err != nil || u.Query().Get("code") == "" {
		t.Fatalf("no code in %q", loc)
	}
	tok, err := conf.Exchange(ctx, u.Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := tok.Extra("id_token").(string)
	return id
}

// TestWebAPIBearerFromProvider calls the API with an ID token issued by the
// real provider.
func TestWebAPIBearerFromProvider(t *testing.T) {
	w := startWeb(t, webOptions{})
	tok := opIDToken(t, w, "alice", "alice-password-1")
	c := w.client(t)
	code, out := w.api(t, c, "GET", "/api/v1/bmcs/node01/power", tok, "", nil)
	if code != 200 || out["state"] != "on" || out["bmc"] != "node01" {
		t.Fatalf("power status: %d %v", code, out)
	}
	code, out = w.api(t, c, "GET", "/api/v1/bmcs", tok, "", nil)
	if list, _ := out["bmcs"].([]any); code != 200 || len(list) != 1 {
		t.Fatalf("list: %d %v", code, out)
	}
	code, out = w.api(t, c, "POST", "/api/v1/bmcs/node01/power", tok, `{"action":"cycle"}`, nil)
	if code != 200 || w.bmc.PowerCycles() != 1 {
		t.Fatalf("power cycle: %d %v", code, out)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeBMCCall, Action: "power.cycle"}, func(r audit.Record) bool {
		return r.Door == "api" && r.Actor == "alice" && r.Outcome == audit.OutcomeOK
	})
	code, out = w.api(t, c, "GET", "/api/v1/bmcs/node01/sensors", tok, "", nil)
	if code != 200 || out["sensors"] == nil {
		t.Fatalf("sensors: %d %v", code, out)
	}
	code, out = w.api(t, c, "GET", "/api/v1/bmcs/node01/sel?limit=10", tok, "", nil)
	if code != 200 || out["bmc"] != "node01" {
		t.Fatalf("sel: %d %v", code, out)
	}
	code, out = w.api(t, c, "GET", "/api/v1/bmcs/node01", tok, "", nil)
	if code != 200 || out["name"] != "node01" {
		t.Fatalf("info: %d %v", code, out)
	}
	code, out = w.api(t, c, "POST", "/api/v1/bmcs/node01/power", tok, `{"action":"explode"}`, nil)
	if code != 400 || errCode(out) != "bad_request" {
		t.Fatalf("bad action: %d %v", code, out)
	}
	code, out = w.api(t, c, "GET", "/api/v1/nothing", tok, "", nil)
	if code != 404 || errCode(out) != "not_found" {
		t.Fatalf("unknown endpoint: %d %v", code, out)
	}
	code, out = w.api(t, c, "GET", "/api/v1/bmcs/nope/power", tok, "", nil)
	if code != 404 || errCode(out) != "unknown_bmc" {
		t.Fatalf("unknown BMC: %d %v", code, out)
	}
	// A viewer may read but not act.
	vt := opIDToken(t, w, "vic", "vic-password-1")
	code, out = w.api(t, c, "POST", "/api/v1/bmcs/node01/power", vt, `{"action":"off"}`, nil)
	if code != 403 || errCode(out) != "denied" || !w.bmc.Power() {
		t.Fatalf("viewer power off: %d %v", code, out)
	}
	code, out = w.api(t, c, "GET", "/api/v1/audit?code=bmc.call", vt, "", nil)
	if code != 403 || errCode(out) != "denied" {
		t.Fatalf("viewer audit search: %d %v", code, out)
	}
	at := opIDToken(t, w, "audrey", "audrey-password-1")
	code, out = w.api(t, c, "GET", "/api/v1/audit?code=bmc.call&bmc=node01", at, "", nil)
	if recs, _ := out["records"].([]any); code != 200 || len(recs) == 0 {
		t.Fatalf("auditor search: %d %v", code, out)
	}
	code, out = w.api(t, c, "GET", "/api/v1/bmcs", "", "", nil)
	if code != 401 || errCode(out) != "unauthorized" {
		t.Fatalf("no credentials: %d %v", code, out)
	}
}

// TestWebAPIRefusals checks bearer token verification, the session's CSRF
// header and personal API tokens.
func TestWebAPIRefusals(t *testing.T) {
	fake := testop.StartFake(t, "bmcgate")
	w := startWeb(t, webOptions{issuer: fake.Issuer})
	c := w.client(t)
	good := fake.Claims("bmcgate", "alice", []string{"ops"})
	if code, out := w.api(t, c, "GET", "/api/v1/whoami", fake.Sign(good, false), "", nil); code != 200 || out["user"] != "alice" || out["door"] != "api" {
		t.Fatalf("good token: %d %v", code, out)
	}
	for name, shape := range map[string]func(map[string]any) bool{
		"wrong audience": func(c map[string]any) bool { c["aud"] = "other-client"; return false },
		"wrong issuer":   func(c map[string]any) bool { c["iss"] = "https://evil.example"; return false },
		"expired":        func(c map[string]any) bool { c["exp"] = time.Now().Add(-time.Minute).Unix(); return false },
		"alg none":       func(map[string]any) bool { return true },
		"no role":        func(c map[string]any) bool { c["groups"] = []string{"strangers"}; return false },
	} {
		claims := fake.Claims("bmcgate", "alice", []string{"ops"})
		none := shape(claims)
		code, out := w.api(t, c, "GET", "/api/v1/bmcs", fake.Sign(claims, none), "", nil)
		if code != 401 || errCode(out) != "unauthorized" {
			t.Errorf("%s: %d %v", name, code, out)
		}
	}
	if code, _ := w.api(t, c, "GET", "/api/v1/bmcs", "garbage.token.here", "", nil); code != 401 {
		t.Errorf("garbage token: %d", code)
	}

	// Browser session on the API: reads work, writes need the CSRF header.
	get(t, c, fakeCallback(t, w, c, "/"))
	_, page := get(t, c, w.base+"/tokens")
	tok := csrf(t, page)
	if code, out := w.api(t, c, "GET", "/api/v1/whoami", "", "", nil); code != 200 || out["door"] != "api" {
		t.Fatalf("session whoami: %d %v", code, out)
	}
	origin := map[string]string{"Origin": w.base}
	if code, out := w.api(t, c, "POST", "/api/v1/bmcs/node01/power", "", `{"action":"off"}`, origin); code != 403 || errCode(out) != "csrf" {
		t.Fatalf("session POST without CSRF header: %d %v", code, out)
	}
	if code, out := w.api(t, c, "POST", "/api/v1/bmcs/node01/power", "", `{"action":"off"}`,
		map[string]string{"Origin": "https://evil.example", web.CSRFHeader: tok}); code != 403 || errCode(out) != "csrf" {
		t.Fatalf("session POST from a foreign origin: %d %v", code, out)
	}
	if !w.bmc.Power() {
		t.Fatal("a refused request turned the BMC off")
	}
	if code, out := w.api(t, c, "POST", "/api/v1/bmcs/node01/power", "", `{"action":"off"}`,
		map[string]string{"Origin": w.base, web.CSRFHeader: tok}); code != 200 || w.bmc.Power() {
		t.Fatalf("session POST with CSRF header: %d %v", code, out)
	}

	// Personal API token scoped to power.status.
	resp, page := w.post(t, c, "/tokens", url.Values{"csrf": {tok}, "name": {"monitoring"}, "action": {"power.status", "bmc.list"}, "days": {"7"}}, "")
	m := regexp.MustCompile(`id="new-token">([^<]+)<`).FindStringSubmatch(page)
	if resp.StatusCode != 200 || m == nil || !strings.HasPrefix(m[1], "bmcg_") {
		t.Fatalf("token create: %d %.400s", resp.StatusCode, page)
	}
	pt := m[1]
	if code, out := w.api(t, c, "GET", "/api/v1/bmcs/node01/power", pt, "", nil); code != 200 || out["state"] != "off" {
		t.Fatalf("token power status: %d %v", code, out)
	}
	if code, out := w.api(t, c, "POST", "/api/v1/bmcs/node01/power", pt, `{"action":"on"}`, nil); code != 403 || errCode(out) != "token_scope" || w.bmc.Power() {
		t.Fatalf("token beyond its scope: %d %v", code, out)
	}
	if code, out := w.api(t, c, "GET", "/api/v1/bmcs/node01/sensors", pt, "", nil); code != 403 || errCode(out) != "token_scope" {
		t.Fatalf("token read beyond its scope: %d %v", code, out)
	}
	id := regexp.MustCompile(`action="/tokens/([0-9a-f]+)/revoke"`).FindStringSubmatch(page)
	if id == nil {
		t.Fatal("no revoke form")
	}
	if resp, _ := w.post(t, c, "/tokens/"+id[1]+"/revoke", url.Values{"csrf": {tok}}, ""); resp.StatusCode != 200 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if code, _ := w.api(t, c, "GET", "/api/v1/bmcs/node01/power", pt, "", nil); code != 401 {
		t.Fatalf("revoked token still works: %d", code)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeTokenRevoke, Actor: "alice"}, nil)
}
