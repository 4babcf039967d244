package gateway

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/internal/datadir"
	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
)

var credLine = regexp.MustCompile(`(?m)^user: +(\S+)\npassword: +(\S+)$`)

// credPower asks for power sub on bmc as the caller a credential logged
// in as, and returns the one result.
func credPower(t *testing.T, svc *service.Service, c service.Caller, sub, bmc string) service.Result {
	t.Helper()
	var res service.Result
	if err := svc.Power(context.Background(), c, sub, []string{bmc}, func(r service.Result) { res = r }); err != nil {
		t.Fatalf("power %s: %v", sub, err)
	}
	return res
}

// noSecretAnywhere fails if secret is in the audit log or the credential
// store's file.
func noSecretAnywhere(t *testing.T, h *harness, secret string) {
	t.Helper()
	for _, r := range h.records(t, audit.Query{}) {
		if data, _ := json.Marshal(r); strings.Contains(string(data), secret) {
			t.Fatalf("the password is in audit record %d: %s", r.Seq, data)
		}
	}
	data, err := os.ReadFile(filepath.Join(h.g.cfg.DataDir, datadir.Credentials))
	if err != nil || strings.Contains(string(data), secret) {
		t.Fatalf("credential store holds the password (or is unreadable: %v)", err)
	}
}

// TestE2ECredentialsOverSSH issues, uses, lists and revokes an automation
// credential through OpenSSH: the password is printed once and nowhere
// else, the credential acts as its owner with the owner's current roles,
// narrowed by its scope and targets, and every issue, use and revocation
// is audited.
func TestE2ECredentialsOverSSH(t *testing.T) {
	emb := startSim(t, "emb01", bmcsim.Options{Username: "gw", Password: "emb-pass-1", CipherSuites: []int{17}, Sensors: true, PowerOn: true})
	other := startSim(t, "emb02", bmcsim.Options{Username: "gw", Password: "emb-pass-2", CipherSuites: []int{17}, PowerOn: true})
	h := startHarness(t, []testBMC{
		{name: "emb01", addr: emb.Addr(), user: "gw", pass: "emb-pass-1", suite: 17},
		{name: "emb02", addr: other.Addr(), user: "gw", pass: "emb-pass-2", suite: 17},
	}, []testUser{{name: "alice", roles: "[admin]"}, {name: "vic", roles: "[viewer]"}}, "")
	svc := h.g.Service()
	if h.g.Credentials() == nil || h.g.Credentials() != svc.Credentials() {
		t.Fatal("the gateway has no credential store, or two")
	}

	out, errOut, code := h.ssh("alice", nil, "credentials", "--for", "1h", "--scope", "power.status,power.on,power.off", "emb01")
	m := credLine.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("issue: code %d\n%s\n%s", code, out, errOut)
	}
	user, password := m[1], m[2]
	if len(user) > 16 || len(password) < 20 {
		t.Fatalf("user %q (%d bytes), password of %d bytes", user, len(user), len(password))
	}
	rec := h.waitRecord(t, audit.Query{Code: audit.CodeCredIssue, Actor: "alice"}, func(r audit.Record) bool {
		return r.Fields["credential"] == user && r.Fields["scope"] == "power.status,power.on,power.off" && r.Fields["targets"] == "emb01"
	})
	if rec.Door != "ssh" {
		t.Fatalf("issue record: %+v", rec)
	}

	ctx := context.Background()
	if _, err := svc.CredentialLogin(ctx, "test", "127.0.0.1", "t1", user, password+"x"); err == nil {
		t.Fatal("a wrong password logged in")
	}
	c, err := svc.CredentialLogin(ctx, "test", "127.0.0.1", "t1", user, password)
	if err != nil {
		t.Fatal(err)
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeCredUse, Actor: "alice"}, func(r audit.Record) bool {
		return r.Fields["credential"] == user && r.Door == "test"
	})
	if res := credPower(t, svc, c, "off", "emb01"); !res.OK || emb.Power() {
		t.Fatalf("power off with the credential: %+v", res)
	}
	if res := credPower(t, svc, c, "cycle", "emb01"); !res.Denied || !strings.Contains(res.Message, "scope") {
		t.Fatalf("power cycle, out of scope: %+v", res)
	}
	if res := credPower(t, svc, c, "status", "emb02"); !res.Denied {
		t.Fatalf("another BMC than the credential's: %+v", res)
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeDecision, Actor: "alice", Action: "power.cycle"}, func(r audit.Record) bool {
		return r.Outcome == audit.OutcomeDeny && r.Door == "test"
	})

	// The owner's roles, live: alice becomes a viewer; the credential may
	// no longer switch power although its scope names it.
	cfgData, err := os.ReadFile(h.g.cfg.Path)
	if err != nil {
		t.Fatal(err)
	}
	demoted := strings.Replace(string(cfgData), "- name: alice\n    roles: [admin]", "- name: alice\n    roles: [viewer]", 1)
	if err := os.WriteFile(h.g.cfg.Path, []byte(demoted), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.g.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if res := credPower(t, svc, c, "on", "emb01"); !res.Denied || emb.Power() {
		t.Fatalf("power on after the owner lost the role: %+v", res)
	}
	if res := credPower(t, svc, c, "status", "emb01"); !res.OK {
		t.Fatalf("power status as a viewer: %+v", res)
	}

	out, _, code = h.ssh("alice", nil, "credentials", "list")
	if code != 0 || !strings.Contains(out, user) || !strings.Contains(out, "live") {
		t.Fatalf("list: %d\n%s", code, out)
	}
	if out, _, _ := h.ssh("vic", nil, "credentials", "list"); strings.Contains(out, user) {
		t.Fatalf("another user sees the credential:\n%s", out)
	}
	if _, errOut, code := h.ssh("vic", nil, "credentials", "revoke", user); code == 0 || !strings.Contains(errOut, "no such credential") {
		t.Fatalf("another user revoked it: %d %s", code, errOut)
	}
	for _, bad := range [][]string{
		{"credentials", "--scope", "power.explode"},
		{"credentials", "--for", "9999h"},
		{"credentials", "nosuchbmc"},
	} {
		if _, errOut, code := h.ssh("alice", nil, bad...); code == 0 || errOut == "" {
			t.Fatalf("%v: code %d %q", bad, code, errOut)
		}
	}
	if _, errOut, code := h.ssh("alice", nil, "credentials", "--for", "soon"); code != 2 || !strings.Contains(errOut, "duration") {
		t.Fatalf("bad --for: %d %q", code, errOut)
	}

	out, errOut, code = h.ssh("alice", nil, "credentials", "revoke", user)
	if code != 0 || !strings.Contains(out, "revoked "+user) {
		t.Fatalf("revoke: %d %s %s", code, out, errOut)
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeCredRevoke, Actor: "alice"}, func(r audit.Record) bool {
		return r.Fields["credential"] == user
	})
	if svc.CredentialInUse(c) {
		t.Fatal("a revoked credential is still in use")
	}
	if _, err := svc.CredentialLogin(ctx, "test", "127.0.0.1", "t2", user, password); err == nil {
		t.Fatal("a revoked credential logged in")
	}
	if out, _, _ := h.ssh("alice", nil, "credentials", "list"); !strings.Contains(out, "revoked") {
		t.Fatalf("list after revoke:\n%s", out)
	}
	noSecretAnywhere(t, h, password)

	// An RMCP+ credential: its password is recoverable by the store (for
	// the RAKP handshake) and a door that proved it opens a session.
	out, _, code = h.ssh("alice", nil, "credentials", "--rmcp", "--scope", "power.status", "emb01")
	m = credLine.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("issue --rmcp: %d\n%s", code, out)
	}
	cred, secret, err := svc.Credentials().Secret(m[1])
	if err != nil || string(secret) != m[2] || !cred.Permits("power.status", "emb01") || cred.Permits("power.off", "emb01") {
		t.Fatalf("Secret: %v, matches %v, %+v", err, string(secret) == m[2], cred)
	}
	rc, err := svc.CredentialSession(ctx, cred, "ipmi", "127.0.0.1:623", "rmcp1")
	if err != nil {
		t.Fatal(err)
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeCredUse, Actor: "alice"}, func(r audit.Record) bool {
		return r.Fields["credential"] == m[1] && r.Door == "ipmi" && r.Fields["rmcp"] == "true"
	})
	if res := credPower(t, svc, rc, "status", "emb01"); !res.OK {
		t.Fatalf("power status over the RMCP+ credential: %+v", res)
	}
	noSecretAnywhere(t, h, m[2])
}

// TestE2ECredentialsAPI issues, lists and revokes a credential through the
// JSON API with a single sign-on user's bearer token from the provider;
// the credential acts with the owner's provider groups' roles.
func TestE2ECredentialsAPI(t *testing.T) {
	w := startWeb(t, webOptions{extraWeb: providerTokenTypes})
	tok, _ := opTokens(t, w, "alice", "alice-password-1")
	c := w.client(t)
	code, out := w.api(t, c, "POST", "/api/v1/credentials", tok, `{"for":"30m","scope":["power.status","power.cycle"],"targets":["node01"]}`, nil)
	user, _ := out["user"].(string)
	password, _ := out["password"].(string)
	if code != 201 || user == "" || len(password) < 20 || out["live"] != true {
		t.Fatalf("issue: %d %v", code, out)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeCredIssue, Actor: "alice"}, func(r audit.Record) bool {
		return r.Door == "api" && r.Fields["credential"] == user
	})
	for _, bad := range []string{`{"for":"forever"}`, `{"scope":["nope"]}`, `{"targets":["ghost"]}`, `{"extra":1}`, `[`, `{"for":"` + strings.Repeat("9", 5000) + `"}`} {
		if code, out := w.api(t, c, "POST", "/api/v1/credentials", tok, bad, nil); code < 400 || code >= 500 || errCode(out) == "" {
			t.Fatalf("bad body %.40s: %d %v", bad, code, out)
		}
	}

	svc := w.harness.g.Service()
	ctx := context.Background()
	cc, err := svc.CredentialLogin(ctx, "test", "127.0.0.1", "t1", user, password)
	if err != nil {
		t.Fatal(err)
	}
	if res := credPower(t, svc, cc, "cycle", "node01"); !res.OK || w.bmc.PowerCycles() != 1 {
		t.Fatalf("power cycle with the SSO user's credential: %+v", res)
	}
	if res := credPower(t, svc, cc, "off", "node01"); !res.Denied {
		t.Fatalf("power off, out of scope: %+v", res)
	}

	code, out = w.api(t, c, "GET", "/api/v1/credentials", tok, "", nil)
	if list, _ := out["credentials"].([]any); code != 200 || len(list) != 1 {
		t.Fatalf("list: %d %v", code, out)
	}
	if _, has := out["credentials"].([]any)[0].(map[string]any)["password"]; has {
		t.Fatalf("the list shows a password: %v", out)
	}
	vt, _ := opTokens(t, w, "vic", "vic-password-1")
	if code, out := w.api(t, c, "DELETE", "/api/v1/credentials/"+user, vt, "", nil); code != 404 {
		t.Fatalf("another user's revoke: %d %v", code, out)
	}
	if code, out := w.api(t, c, "DELETE", "/api/v1/credentials/"+user, tok, "", nil); code != 200 || out["revoked"] == nil {
		t.Fatalf("revoke: %d %v", code, out)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeCredRevoke, Actor: "alice"}, func(r audit.Record) bool {
		return r.Door == "api" && r.Fields["credential"] == user
	})
	if _, err := svc.CredentialLogin(ctx, "test", "127.0.0.1", "t2", user, password); err == nil {
		t.Fatal("a revoked credential logged in")
	}
	if code, _ := w.api(t, c, "GET", "/api/v1/credentials", "", "", nil); code != 401 {
		t.Fatalf("no login: %d", code)
	}
	noSecretAnywhere(t, w.harness, password)
}
