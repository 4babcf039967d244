package gateway

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/internal/testpeer/oidcop"
)

// noTokenIn fails when a page or an audit record of the test holds what
// looks like a token (every JWT starts with "eyJ").
func noTokenIn(t *testing.T, w *webHarness, pages ...string) {
	t.Helper()
	for _, p := range pages {
		if strings.Contains(p, "eyJ") {
			t.Errorf("a page shows a token: %.300s", p)
		}
	}
	for _, r := range w.records(t, audit.Query{}) {
		text := r.Reason
		for k, v := range r.Fields {
			text += " " + k + "=" + v
		}
		if strings.Contains(text, "eyJ") {
			t.Errorf("audit record %s holds a token: %s", r.Code, text)
		}
	}
}

// TestWebClaimsOnlyInUserinfo: a provider that puts the user name, email
// and groups only in its userinfo answer. bmcgate reads them there when
// the ID token lacks them (userinfo: auto), also at the session's refresh;
// with userinfo: never the login fails with a page and an audit record
// naming the missing claim.
func TestWebClaimsOnlyInUserinfo(t *testing.T) {
	clock := stepWebClock(t)
	w := startWeb(t, webOptions{
		op:       oidcop.Options{Claims: oidcop.InUserinfo},
		extraWeb: "    scopes: [openid, profile, email, groups, offline_access]\n",
		mutate:   func(c *configs.Config) { c.Web.Session.RefreshInterval.Duration = time.Second },
	})
	c := w.client(t)
	resp, body := w.login(t, c, "alice", "alice-password-1", "/bmc/node01")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/bmc/node01" {
		t.Fatalf("login with claims in userinfo: %d %s: %.500s", resp.StatusCode, resp.Request.URL, body)
	}
	login := w.waitRecord(t, audit.Query{Code: audit.CodeAuthLogin, Actor: "alice"}, nil)
	if login.Fields["email"] != "alice@example.test" || login.Fields["groups"] != "ops" || login.Fields["subject"] != "u-alice" || login.Reason != "roles admin" {
		t.Fatalf("login record: %s %v", login.Reason, login.Fields)
	}
	if resp, _ := get(t, c, w.base+"/bmc/node01/power/cycle"); resp.StatusCode != http.StatusOK {
		t.Fatalf("admin confirm page: %d", resp.StatusCode)
	}
	// The refresh reads the groups from userinfo again.
	w.op.SetGroups("u-alice", []string{"viewers"})
	clock.advance(1100 * time.Millisecond)
	if resp, _ := get(t, c, w.base+"/bmc/node01/power/cycle"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("after the groups shrank at the provider: %d", resp.StatusCode)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeSessionStart, Actor: "alice"}, func(r audit.Record) bool {
		return strings.Contains(r.Reason, "refreshed; roles viewer")
	})

	w.reloadWith(t, "    scopes:", "    userinfo: never\n    scopes:")
	resp, body = w.login(t, w.client(t), "vic", "vic-password-1", "/")
	want := `the identity provider sent no claim &#34;preferred_username&#34; (the user name) in the ID token.`
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, want) || !strings.Contains(body, "web.oidc.username_claim") {
		t.Fatalf("login with userinfo never: %d %s", resp.StatusCode, body)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeAuthFail}, func(r audit.Record) bool {
		return r.Reason == `claim "preferred_username" (user name) missing from the ID token` && r.Fields["method"] == "oidc"
	})
	noTokenIn(t, w, body)
}

// TestWebClaimsOnlyInIDToken: a provider whose userinfo answer carries the
// subject alone. The ID token's claims are enough by default (userinfo is
// not asked), and with userinfo: always the ID token still fills in what
// the userinfo answer lacks.
func TestWebClaimsOnlyInIDToken(t *testing.T) {
	w := startWeb(t, webOptions{op: oidcop.Options{Claims: oidcop.InIDToken}})
	resp, body := w.login(t, w.client(t), "alice", "alice-password-1", "/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="bmc-node01"`) {
		t.Fatalf("login with claims in the ID token: %d %.500s", resp.StatusCode, body)
	}
	w.reloadWith(t, "    group_roles:", "    userinfo: always\n    group_roles:")
	resp, body = w.login(t, w.client(t), "vic", "vic-password-1", "/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="bmc-node01"`) {
		t.Fatalf("login with userinfo always: %d %.500s", resp.StatusCode, body)
	}
	login := w.waitRecord(t, audit.Query{Code: audit.CodeAuthLogin, Actor: "vic"}, nil)
	if login.Reason != "roles viewer" || login.Fields["groups"] != "viewers" {
		t.Fatalf("login record: %s %v", login.Reason, login.Fields)
	}
	noTokenIn(t, w, body)
}

// TestWebUserinfoOtherSubject refuses a userinfo answer about another
// subject than the ID token's.
func TestWebUserinfoOtherSubject(t *testing.T) {
	w := startWeb(t, webOptions{op: oidcop.Options{Claims: oidcop.InUserinfo, UserinfoSubject: "u-alice"}})
	resp, body := w.login(t, w.client(t), "vic", "vic-password-1", "/")
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "userinfo sub does not match the ID token") {
		t.Fatalf("userinfo about someone else: %d %.500s", resp.StatusCode, body)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeAuthFail}, func(r audit.Record) bool {
		return r.Reason == "userinfo sub does not match the ID token's"
	})
	if got := w.records(t, audit.Query{Code: audit.CodeAuthLogin}); len(got) != 0 {
		t.Fatalf("a login was recorded: %+v", got)
	}
	noTokenIn(t, w, body)
}

// TestWebNestedClaimsAndUserRoles: groups in a nested claim as one
// comma-separated string (userinfo only), and user_roles for a user whose
// groups map to nothing; a user with neither is told which claim was
// missing.
func TestWebNestedClaimsAndUserRoles(t *testing.T) {
	w := startWeb(t, webOptions{
		op: oidcop.Options{Claims: oidcop.InUserinfo, Extra: func(id string) map[string]any {
			switch id {
			case "u-vic":
				return map[string]any{"realm_access": map[string]any{"roles": "strangers, ops"}}
			case "u-nobody":
				return map[string]any{"realm_access": map[string]any{"roles": []string{"strangers"}}}
			}
			return nil
		}},
		extraWeb: "    groups_claim: realm_access.roles\n    user_roles:\n      nobody: [auditor]\n",
	})
	vic := w.client(t)
	if resp, body := w.login(t, vic, "vic", "vic-password-1", "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("vic: %d %.400s", resp.StatusCode, body)
	}
	if resp, _ := get(t, vic, w.base+"/bmc/node01/power/cycle"); resp.StatusCode != http.StatusOK {
		t.Fatalf("vic's nested ops group gives no admin: %d", resp.StatusCode)
	}
	nobody := w.client(t)
	if resp, body := w.login(t, nobody, "nobody", "nobody-password-1", "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("nobody with user_roles: %d %.400s", resp.StatusCode, body)
	}
	if resp, _ := get(t, nobody, w.base+"/audit"); resp.StatusCode != http.StatusOK {
		t.Fatalf("user_roles auditor has no audit page: %d", resp.StatusCode)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeAuthLogin, Actor: "nobody"}, func(r audit.Record) bool { return r.Reason == "roles auditor" })

	resp, body := w.login(t, w.client(t), "audrey", "audrey-password-1", "/")
	want := `no bmcgate role is yours: the identity provider sent no claim &#34;realm_access.roles&#34; (the groups) in the ID token or the userinfo answer`
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, want) {
		t.Fatalf("audrey without the groups claim: %d %.600s", resp.StatusCode, body)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeAuthFail, Actor: "audrey"}, func(r audit.Record) bool {
		return r.Reason == `no bmcgate role: claim "realm_access.roles" (groups) missing from the ID token and the userinfo answer`
	})
	noTokenIn(t, w, body)
}
