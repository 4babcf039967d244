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
	"github.com/bmcgate/bmcgate/internal/testpeer/oidcop"
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

// providerTokenTypes is the web.oidc setting for the test provider, which
// marks its JWT access tokens typ "JWT" (as Keycloak and others do).
const providerTokenTypes = "    api_token_types: [at+jwt, JWT]\n"

// opTokens runs the code flow against the real provider as an API client
// would and returns the access token (a JWT) and the ID token it issues for
// the bmcgate client.
func opTokens(t testing.TB, w *webHarness, user, password string) (access, id string) {
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
	id, _ = tok.Extra("id_token").(string)
	return tok.AccessToken, id
}

// TestWebAPIBearerFromProvider calls the API with an access token issued by
// the real provider; its ID token is refused.
func TestWebAPIBearerFromProvider(t *testing.T) {
	w := startWeb(t, webOptions{extraWeb: providerTokenTypes})
	tok, idt := opTokens(t, w, "alice", "alice-password-1")
	c := w.client(t)
	if code, out := w.api(t, c, "GET", "/api/v1/whoami", idt, "", nil); code != 401 || errCode(out) != "unauthorized" {
		t.Fatalf("ID token as a bearer: %d %v", code, out)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeAuthFail}, func(r audit.Record) bool {
		return r.Door == audit.DoorAPI && strings.Contains(r.Reason, "ID token")
	})
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
	vt, _ := opTokens(t, w, "vic", "vic-password-1")
	code, out = w.api(t, c, "POST", "/api/v1/bmcs/node01/power", vt, `{"action":"off"}`, nil)
	if code != 403 || errCode(out) != "denied" || !w.bmc.Power() {
		t.Fatalf("viewer power off: %d %v", code, out)
	}
	code, out = w.api(t, c, "GET", "/api/v1/audit?code=bmc.call", vt, "", nil)
	if code != 403 || errCode(out) != "denied" {
		t.Fatalf("viewer audit search: %d %v", code, out)
	}
	at, _ := opTokens(t, w, "audrey", "audrey-password-1")
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
	fake := oidcop.StartFake(t, "bmcgate")
	w := startWeb(t, webOptions{issuer: fake.Issuer})
	c := w.client(t)
	good := fake.AccessClaims("bmcgate", "bmcgate", "alice", []string{"ops"})
	if code, out := w.api(t, c, "GET", "/api/v1/whoami", fake.SignTyp(good, "at+jwt"), "", nil); code != 200 || out["user"] != "alice" || out["door"] != "api" {
		t.Fatalf("good token: %d %v", code, out)
	}
	if code, out := w.api(t, c, "GET", "/api/v1/whoami", fake.SignTyp(good, "application/AT+JWT"), "", nil); code != 200 {
		t.Fatalf("good token, typ application/AT+JWT: %d %v", code, out)
	}
	now := time.Now()
	// Each case is a valid access token with one thing wrong, signed with
	// the provider's key; typ is at+jwt unless the case says otherwise.
	for _, tc := range []struct {
		name, typ, reason string
		shape             func(map[string]any) bool
	}{
		{"wrong audience", "", "wrong audience", func(c map[string]any) bool { c["aud"] = "other-api"; return false }},
		{"wrong issuer", "", "wrong issuer", func(c map[string]any) bool { c["iss"] = "https://evil.example"; return false }},
		{"expired", "", "expired", func(c map[string]any) bool { c["exp"] = now.Add(-2 * time.Minute).Unix(); return false }},
		{"alg none", "", "", func(map[string]any) bool { return true }},
		{"no role", "", "no bmcgate role", func(c map[string]any) bool { c["groups"] = []string{"strangers"}; return false }},
		{"future iat", "", "issued in the future", func(c map[string]any) bool { c["iat"] = now.Add(time.Hour).Unix(); return false }},
		{"ten-year exp", "", "lifetime longer than", func(c map[string]any) bool { c["exp"] = now.AddDate(10, 0, 0).Unix(); return false }},
		{"no iat", "", "no iat", func(c map[string]any) bool { delete(c, "iat"); return false }},
		{"not yet valid", "", "nbf", func(c map[string]any) bool { c["nbf"] = now.Add(10 * time.Minute).Unix(); return false }},
		{"typ JWT", "JWT", "token type", func(map[string]any) bool { return false }},
		{"no typ", "-", "token type", func(map[string]any) bool { return false }},
		{"typ id_token", "id_token+jwt", "token type", func(map[string]any) bool { return false }},
		{"extra audiences, no client", "", "no client_id or azp", func(c map[string]any) bool {
			c["aud"] = []string{"bmcgate", "other-api"}
			delete(c, "client_id")
			return false
		}},
		{"extra audiences, another client", "", "not in web.oidc.api_clients", func(c map[string]any) bool {
			c["aud"] = []string{"other-api", "bmcgate"}
			c["client_id"] = "other-client"
			return false
		}},
		{"azp of another client", "", "not in web.oidc.api_clients", func(c map[string]any) bool {
			delete(c, "client_id")
			c["azp"] = "other-client"
			return false
		}},
		{"client_id and azp disagree", "", "disagree", func(c map[string]any) bool { c["azp"] = "other-client"; return false }},
		{"ID token claims", "", "ID token", func(c map[string]any) bool { c["nonce"] = "n"; return false }},
		{"keycloak ID typ claim", "", "typ claim", func(c map[string]any) bool { c["typ"] = "ID"; return false }},
		{"no sub", "", "no sub", func(c map[string]any) bool { delete(c, "sub"); return false }},
	} {
		claims := fake.AccessClaims("bmcgate", "bmcgate", "alice", []string{"ops"})
		none := tc.shape(claims)
		typ := "at+jwt"
		switch tc.typ {
		case "-":
			typ = ""
		case "":
		default:
			typ = tc.typ
		}
		tok := fake.SignTyp(claims, typ)
		if none {
			tok = fake.Sign(claims, true)
		}
		code, out := w.api(t, c, "GET", "/api/v1/bmcs", tok, "", nil)
		if code != 401 || errCode(out) != "unauthorized" {
			t.Errorf("%s: %d %v", tc.name, code, out)
			continue
		}
		if tc.reason != "" {
			w.waitRecord(t, audit.Query{Code: audit.CodeAuthFail}, func(r audit.Record) bool {
				return r.Door == audit.DoorAPI && strings.Contains(r.Reason, tc.reason)
			})
		}
	}
	// A plain ID token of bmcgate's own client, as the provider issues it.
	if code, _ := w.api(t, c, "GET", "/api/v1/bmcs", fake.Sign(fake.Claims("bmcgate", "alice", []string{"ops"}), false), "", nil); code != 401 {
		t.Errorf("ID token accepted as an API credential: %d", code)
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
