package service

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
)

func TestAccountsPrincipal(t *testing.T) {
	accts := NewAccounts(
		[]Account{{Name: "alice", Roles: []string{"admin"}}, {Name: "bob", Roles: []string{"viewer"}, Disabled: true},
			{Name: "carol"}},
		[]Account{{Name: "oncall", Roles: []string{"admin"}}, {Name: "old", Roles: []string{"admin"}, Disabled: true}},
		map[string][]string{"ops": {"admin", "viewer"}, "noc": {"viewer"}, "empty": nil}).
		WithUserRoles(map[string][]string{"carol@example.org": {"auditor"}, "dan": {"viewer", "auditor"}})
	tests := []struct {
		name    string
		accts   *Accounts
		id      Identity
		roles   []string
		revoked string // part of the reason; "" when the identity resolves
	}{
		{name: "user", id: Identity{Name: "alice", Source: SourceUser}, roles: []string{"admin"}},
		{name: "user without roles resolves to none", id: Identity{Name: "carol", Source: SourceUser}},
		{name: "removed user", id: Identity{Name: "dave", Source: SourceUser}, revoked: "removed"},
		{name: "disabled user", id: Identity{Name: "bob", Source: SourceUser}, revoked: "disabled"},
		{name: "user name is not a break-glass account", id: Identity{Name: "alice", Source: SourceBreakGlass}, revoked: "removed"},
		{name: "break-glass", id: Identity{Name: "oncall", Source: SourceBreakGlass}, roles: []string{"admin"}},
		{name: "break-glass disabled", id: Identity{Name: "old", Source: SourceBreakGlass}, revoked: "disabled"},
		{name: "break-glass name is not a user", id: Identity{Name: "oncall", Source: SourceUser}, revoked: "removed"},
		{name: "sso groups", id: Identity{Name: "x@example.org", Source: SourceSSO, Groups: []string{"noc", "ops"}},
			roles: []string{"admin", "viewer"}},
		{name: "sso one group", id: Identity{Name: "x", Source: SourceSSO, Groups: []string{"noc", "unknown"}}, roles: []string{"viewer"}},
		{name: "sso no mapped group", id: Identity{Name: "x", Source: SourceSSO, Groups: []string{"unknown", "empty"}}, revoked: "no bmcgate role"},
		{name: "sso no groups", id: Identity{Name: "x", Source: SourceSSO}, revoked: "no bmcgate role"},
		{name: "sso name is not a user", id: Identity{Name: "alice", Source: SourceSSO}, revoked: "no bmcgate role"},
		{name: "sso user_roles alone", id: Identity{Name: "carol@example.org", Source: SourceSSO}, roles: []string{"auditor"}},
		{name: "sso user_roles and groups", id: Identity{Name: "dan", Source: SourceSSO, Groups: []string{"noc"}}, roles: []string{"auditor", "viewer"}},
		{name: "sso user_roles is not a users[] account", id: Identity{Name: "dan", Source: SourceUser}, revoked: "removed"},
		{name: "no source", id: Identity{Name: "alice"}, revoked: "unknown identity source"},
		{name: "no accounts", accts: nil, id: Identity{Name: "alice", Source: SourceUser}, revoked: "no accounts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := accts
			if tt.name == "no accounts" {
				a = tt.accts
			}
			pr, err := a.Principal(tt.id, "ssh")
			if tt.revoked != "" {
				if !errors.Is(err, ErrRevoked) || !strings.Contains(Message(err), tt.revoked) {
					t.Fatalf("err = %v, want revoked with %q", err, tt.revoked)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if pr.Name != tt.id.Name || pr.Door != "ssh" || !slices.Equal(pr.Roles, tt.roles) {
				t.Errorf("principal = %+v, want roles %v", pr, tt.roles)
			}
		})
	}
}

// TestAccountsAreCopied: a caller's config slices changed later do not
// change the accounts (the state is immutable).
func TestAccountsAreCopied(t *testing.T) {
	gr := map[string][]string{"ops": {"admin"}}
	a := NewAccounts(nil, nil, gr)
	gr["ops"][0] = "viewer"
	gr["noc"] = []string{"admin"}
	if got := a.GroupRoles([]string{"ops", "noc"}); !slices.Equal(got, []string{"admin"}) {
		t.Errorf("group roles = %v", got)
	}
}

// swapAccounts installs a copy of the service's state with other accounts.
func swapAccounts(svc *Service, a *Accounts) {
	st := *svc.State()
	st.Accounts = a
	svc.Swap(&st)
}

// TestLiveCallerFollowsState: the same Caller value, as a front door keeps
// it for an open session, is decided under each new state: a lost role
// applies to the next action, a disabled or removed account is refused at
// every entry point with the reason, and each refusal is recorded.
func TestLiveCallerFollowsState(t *testing.T) {
	svc, fb, fa := newTestService(t)
	ctx := context.Background()
	c := Caller{Identity: Identity{Name: "alice", Source: SourceUser}, Door: "ssh", Source: "127.0.0.1:9", Session: "s9"}
	swapAccounts(svc, NewAccounts([]Account{{Name: "alice", Roles: []string{"admin"}}}, nil, nil))
	if res, err := collect(t, svc, c, "cycle", "node05"); err != nil || len(res) != 1 || !res[0].OK {
		t.Fatalf("admin cycle: %+v %v", res, err)
	}

	// Lost a role: the next action is decided under the new roles.
	swapAccounts(svc, NewAccounts([]Account{{Name: "alice", Roles: []string{"r1ops"}}}, nil, nil))
	res, err := collect(t, svc, c, "cycle", "node01", "node05")
	if err != nil || len(res) != 2 || !res[0].OK || !res[1].Denied || !strings.Contains(res[1].Message, `role(s) "r1ops"`) {
		t.Fatalf("after losing admin: %+v %v", res, err)
	}
	id, err := svc.Whoami(ctx, c)
	if err != nil || !slices.Equal(id.Roles, []string{"r1ops"}) || len(id.GlobalActions) != 0 {
		t.Fatalf("whoami after losing admin: %+v %v", id, err)
	}

	// Disabled: every entry point refuses with the reason and records it.
	swapAccounts(svc, NewAccounts([]Account{{Name: "alice", Roles: []string{"admin"}, Disabled: true}}, nil, nil))
	before := len(fa.codes(audit.CodeDecision))
	calls := fb.calls.Load()
	entry := map[string]func() error{
		"power": func() error { _, err := collect(t, svc, c, "cycle", "node01"); return err },
		"list":  func() error { _, err := svc.List(ctx, c, nil); return err },
		"whoami": func() error {
			_, err := svc.Whoami(ctx, c)
			return err
		},
		"info":         func() error { _, err := svc.Info(ctx, c, "node01"); return err },
		"sel clear":    func() error { _, err := svc.ClearSEL(ctx, c, "node01"); return err },
		"audit search": func() error { return svc.AuditSearch(ctx, c, audit.Query{}, func(audit.Record) error { return nil }) },
		"audit verify": func() error { _, err := svc.AuditVerify(ctx, c); return err },
		"dashboard": func() error {
			_, err := svc.Dashboard(ctx, c, svc.NewPowerCache(0))
			return err
		},
		"own events": func() error { _, err := svc.OwnEvents(ctx, c, 10); return err },
		"decide": func() error {
			d, err := svc.Decide(ctx, c, authz.ConsoleAttach, authz.Target{Name: "node01"})
			if d.Allowed {
				return errors.New("allowed")
			}
			return err
		},
	}
	for name, fn := range entry {
		if err := fn(); !errors.Is(err, ErrRevoked) || !strings.Contains(Message(err), "disabled") {
			t.Errorf("%s: err = %v, want the account is disabled", name, err)
		}
	}
	if fb.calls.Load() != calls {
		t.Error("a disabled account reached the broker")
	}
	recs := fa.codes(audit.CodeDecision)[before:]
	if len(recs) != len(entry) {
		t.Fatalf("%d refusals recorded, want %d", len(recs), len(entry))
	}
	for _, r := range recs {
		if r.Actor != "alice" || r.Outcome != audit.OutcomeDeny || r.Session != "s9" ||
			r.Reason != "denied: the account is disabled in the gateway config" {
			t.Errorf("refusal record = %+v", r)
		}
	}
	// Queries for showing pages answer no, unrecorded.
	if svc.Allowed(c, authz.AuditRead) || len(svc.PowerAllowed(c, authz.Target{Name: "node01"})) != 0 {
		t.Error("a disabled account is shown allowed actions")
	}
	if _, ok := svc.Lookup(c, "node01"); ok {
		t.Error("a disabled account looks up a BMC")
	}
	if d, b := svc.Permits(c, authz.WebAccess, "node01"); d.Allowed || b == nil || !strings.Contains(d.Reason, "disabled") {
		t.Errorf("permits = %+v", d)
	}
	if _, err := svc.Resolve(c); !errors.Is(err, ErrRevoked) {
		t.Errorf("resolve = %v", err)
	}

	// Removed.
	swapAccounts(svc, NewAccounts(nil, nil, nil))
	if _, err := collect(t, svc, c, "status", "node01"); !strings.Contains(Message(err), "removed") {
		t.Errorf("removed: %v", err)
	}
}

// TestScopeNarrowsRoles: a credential's scope narrows what the roles
// allow, in decisions and in what is shown.
func TestScopeNarrowsRoles(t *testing.T) {
	svc, _, fa := newTestService(t)
	ctx := context.Background()
	c := caller("admin")
	c.Identity.Scope = []authz.Action{authz.PowerStatus}
	res, err := collect(t, svc, c, "status", "node01")
	if err != nil || len(res) != 1 || !res[0].OK {
		t.Fatalf("status in scope: %+v %v", res, err)
	}
	res, err = collect(t, svc, c, "off", "node01")
	if err != nil || len(res) != 1 || !res[0].Denied || !strings.Contains(res[0].Message, "scope does not include power.off") {
		t.Fatalf("off out of scope: %+v %v", res, err)
	}
	if last := fa.codes(audit.CodeDecision); last[len(last)-1].Outcome != audit.OutcomeDeny {
		t.Errorf("out-of-scope decision not recorded as a denial: %+v", last[len(last)-1])
	}
	if got := svc.PowerAllowed(c, authz.Target{Name: "node01"}); len(got) != 1 || !got["status"] {
		t.Errorf("power allowed = %v", got)
	}
	id, err := svc.Whoami(ctx, c)
	if err != nil || len(id.GlobalActions) != 0 {
		t.Errorf("whoami = %+v %v", id, err)
	}
}
