package authz

import (
	"strings"
	"sync"
	"testing"
)

// basePolicy is the policy the mutation tests decide against.
func basePolicy(t testing.TB) *Policy {
	all := []string{"*"}
	return mustPolicy(t,
		Role{Name: "admin", Rules: []Rule{rule(t, Allow, all, all)}},
		Role{Name: "operator", Rules: []Rule{
			rule(t, Allow, []string{"power.status", "sensors.read", "sel.read", "bmc.list", "bmc.info"}, all),
			rule(t, Allow, []string{"power.*"}, []string{"rack=r1"}),
			rule(t, Deny, []string{"power.off", "power.cycle", "power.reset"}, []string{"env=prod"}),
		}},
		Role{Name: "auditor", Rules: []Rule{
			rule(t, Allow, []string{"audit.read"}, nil),
			rule(t, Allow, []string{"sel.read", "sensors.read"}, all),
			rule(t, Deny, []string{"console.*"}, all),
			rule(t, Deny, []string{"power.*"}, all),
		}},
		Role{Name: "console", Rules: []Rule{
			rule(t, Allow, []string{"console.attach", "console.write"}, []string{"node0*", "db1"}),
		}},
		Role{Name: "scoped", Rules: []Rule{rule(t, Allow, all, []string{"rack=r9"})}},
		Role{Name: "blocker", Rules: []Rule{rule(t, Deny, all, []string{"rack=r9"})}},
		Role{Name: "mixed", Rules: []Rule{rule(t, Allow, all, []string{"rack=r9", "*"})}},
	)
}

// decideCase is one question to the policy.
type decideCase struct {
	pr     Principal
	action Action
	target Target
}

// baseCase is allowed by basePolicy; each test case changes one thing.
func baseCase() decideCase {
	return decideCase{
		pr:     Principal{Name: "alice", Roles: []string{"operator"}, Door: "ssh"},
		action: PowerOn,
		target: Target{Name: "node01", Labels: map[string]string{"rack": "r1", "env": "dev"}},
	}
}

func TestDecide(t *testing.T) {
	p := basePolicy(t)
	tests := []struct {
		name       string
		mutate     func(c *decideCase)
		allowed    bool
		reason     string
		rule       string
		wantTarget string
	}{
		{
			name: "base", mutate: func(*decideCase) {}, allowed: true,
			reason: `allowed by role "operator" (allow[1]: power.* on rack=r1)`, rule: `role "operator" allow[1]`,
		},
		{
			name: "action not granted", mutate: func(c *decideCase) { c.action = SELClear },
			reason: `denied: no rule of role(s) "operator" allows sel.clear on node01`,
		},
		{
			name: "other rack", mutate: func(c *decideCase) { c.target.Labels["rack"] = "r2" },
			reason: `denied: no rule of role(s) "operator" allows power.on on node01`,
		},
		{
			name: "read action anywhere", mutate: func(c *decideCase) { c.action = PowerStatus; c.target.Labels["rack"] = "r2" }, allowed: true,
			reason: `allowed by role "operator" (allow[0]: power.status on *)`, rule: `role "operator" allow[0]`,
		},
		{
			name: "deny in same role wins", mutate: func(c *decideCase) { c.action = PowerOff; c.target.Labels["env"] = "prod" },
			reason: `denied by role "operator" (deny[0]: power.off on env=prod)`, rule: `role "operator" deny[0]`,
		},
		{
			name: "deny in other role wins", mutate: func(c *decideCase) { c.pr.Roles = []string{"operator", "auditor"} },
			reason: `denied by role "auditor" (deny[1]: power.* on *)`, rule: `role "auditor" deny[1]`,
		},
		{
			name: "deny wins whatever the role order", mutate: func(c *decideCase) { c.pr.Roles = []string{"auditor", "operator"} },
			reason: `denied by role "auditor" (deny[1]: power.* on *)`, rule: `role "auditor" deny[1]`,
		},
		{
			name: "second role allows", mutate: func(c *decideCase) { c.pr.Roles = []string{"console", "operator"} }, allowed: true,
			reason: `allowed by role "operator" (allow[1]: power.* on rack=r1)`, rule: `role "operator" allow[1]`,
		},
		{
			name: "duplicate role listed once", mutate: func(c *decideCase) { c.pr.Roles = []string{"console", "console"}; c.action = SELClear },
			reason: `denied: no rule of role(s) "console" allows sel.clear on node01`,
		},
		{
			name: "no rule in any role", mutate: func(c *decideCase) { c.pr.Roles = []string{"console", "operator"}; c.action = SELClear },
			reason: `denied: no rule of role(s) "console", "operator" allows sel.clear on node01`,
		},
		{
			name: "no roles", mutate: func(c *decideCase) { c.pr.Roles = nil },
			reason: "denied: user has no roles",
		},
		{
			name: "unknown role", mutate: func(c *decideCase) { c.pr.Roles = []string{"ghost"} },
			reason: `denied: user has role "ghost", which the policy does not define`,
		},
		{
			name: "unknown role beside a good one", mutate: func(c *decideCase) { c.pr.Roles = []string{"operator", "ghost"} },
			reason: `denied: user has role "ghost", which the policy does not define`,
		},
		{
			name: "role name not folded", mutate: func(c *decideCase) { c.pr.Roles = []string{"Operator"} },
			reason: `denied: user has role "Operator", which the policy does not define`,
		},
		{
			name: "unknown action", mutate: func(c *decideCase) { c.action = "power.explode" },
			reason: `denied: unknown action "power.explode"`,
		},
		{
			name: "empty action", mutate: func(c *decideCase) { c.action = "" },
			reason: `denied: unknown action ""`,
		},
		{
			name: "admin allowed", mutate: func(c *decideCase) { c.pr.Roles = []string{"admin"}; c.action = FirmwareUpdate }, allowed: true,
			reason: `allowed by role "admin" (allow[0]: * on *)`, rule: `role "admin" allow[0]`,
		},
		{
			name: "upper-case target name is the same BMC", mutate: func(c *decideCase) { c.target.Name = "NODE01" }, allowed: true,
			reason: `allowed by role "operator" (allow[1]: power.* on rack=r1)`, rule: `role "operator" allow[1]`,
		},
		{
			name: "upper-case labels are the same labels", mutate: func(c *decideCase) {
				c.target.Labels = map[string]string{"RACK": "R1", "Env": "Prod"}
				c.action = PowerCycle
			},
			reason: `denied by role "operator" (deny[0]: power.cycle on env=prod)`, rule: `role "operator" deny[0]`,
		},
		{
			name: "ambiguous labels", mutate: func(c *decideCase) { c.target.Labels["Rack"] = "r1" },
			reason: `denied: invalid target node01: label key rack is given twice`,
		},
		{
			name: "trailing dot", mutate: func(c *decideCase) { c.target.Name = "node01." }, wantTarget: `"node01."`,
			reason: `denied: invalid target "node01.": BMC name must not end with a dot`,
		},
		{
			name: "fullwidth", mutate: func(c *decideCase) { c.target.Name = "ｎｏｄｅ01" }, wantTarget: `"\uff4e\uff4f\uff44\uff4501"`,
			reason: `denied: invalid target "\uff4e\uff4f\uff44\uff4501": BMC name must be plain ASCII: only a-z, 0-9, '_', '.' and '-' are allowed`,
		},
		{
			name: "zero width space", mutate: func(c *decideCase) { c.target.Name = "node01\u200b" }, wantTarget: `"node01\u200b"`,
			reason: `denied: invalid target "node01\u200b": BMC name must be plain ASCII: only a-z, 0-9, '_', '.' and '-' are allowed`,
		},
		{
			name: "NUL", mutate: func(c *decideCase) { c.target.Name = "node01\x00" }, wantTarget: `"node01\x00"`,
			reason: `denied: invalid target "node01\x00": BMC name contains a control character`,
		},
		{
			name: "invalid label value", mutate: func(c *decideCase) { c.target.Labels["rack"] = "r1\u200b" },
			reason: `denied: invalid target node01: label rack: label value must be plain ASCII: only a-z, 0-9, '_', '.' and '-' are allowed`,
		},
		{
			name: "zero target for BMC action", mutate: func(c *decideCase) { c.target = Target{} }, wantTarget: "-",
			reason: "denied: power.on needs a BMC",
		},
		{
			name: "labels without a name", mutate: func(c *decideCase) { c.target.Name = "" }, wantTarget: `""`,
			reason: "denied: power.on needs a BMC",
		},
		{
			name:   "global action granted by a rule without BMCs",
			mutate: func(c *decideCase) { c.pr.Roles = []string{"auditor"}; c.action = AuditRead; c.target = Target{} }, wantTarget: "-",
			allowed: true, reason: `allowed by role "auditor" (allow[0]: audit.read)`, rule: `role "auditor" allow[0]`,
		},
		{
			name:   "global action granted by a rule on every BMC",
			mutate: func(c *decideCase) { c.pr.Roles = []string{"admin"}; c.action = AuditRead; c.target = Target{} }, wantTarget: "-",
			allowed: true, reason: `allowed by role "admin" (allow[0]: *)`, rule: `role "admin" allow[0]`,
		},
		{
			name:   "global action not granted by a rule scoped to some BMCs",
			mutate: func(c *decideCase) { c.pr.Roles = []string{"scoped"}; c.action = AuditRead; c.target = Target{} }, wantTarget: "-",
			reason: `denied: no rule of role(s) "scoped" allows audit.read`,
		},
		{
			name:   "global action granted when one selector is *",
			mutate: func(c *decideCase) { c.pr.Roles = []string{"mixed"}; c.action = AuditRead; c.target = Target{} }, wantTarget: "-",
			allowed: true, reason: `allowed by role "mixed" (allow[0]: *)`, rule: `role "mixed" allow[0]`,
		},
		{
			name: "global action denied by a scoped deny rule",
			mutate: func(c *decideCase) {
				c.pr.Roles = []string{"admin", "blocker"}
				c.action = AuditRead
				c.target = Target{}
			}, wantTarget: "-",
			reason: `denied by role "blocker" (deny[0]: *)`, rule: `role "blocker" deny[0]`,
		},
		{
			name:   "global action with a target",
			mutate: func(c *decideCase) { c.pr.Roles = []string{"auditor"}; c.action = AuditRead },
			reason: "denied: audit.read is a global action and takes no BMC",
		},
		{
			name:   "operator lacks audit.read",
			mutate: func(c *decideCase) { c.action = AuditRead; c.target = Target{} }, wantTarget: "-",
			reason: `denied: no rule of role(s) "operator" allows audit.read`,
		},
		{
			name:   "BMC action not granted by a rule without BMCs",
			mutate: func(c *decideCase) { c.pr.Roles = []string{"auditor"}; c.action = BMCList },
			reason: `denied: no rule of role(s) "auditor" allows bmc.list on node01`,
		},
		{
			name: "glob selector", mutate: func(c *decideCase) {
				c.pr.Roles = []string{"console"}
				c.action = ConsoleWrite
				c.target.Name = "node07"
			},
			allowed: true, reason: `allowed by role "console" (allow[0]: console.write on node0*)`, rule: `role "console" allow[0]`,
			wantTarget: "node07",
		},
		{
			name: "second selector", mutate: func(c *decideCase) { c.pr.Roles = []string{"console"}; c.action = ConsoleAttach; c.target.Name = "DB1" },
			allowed: true, reason: `allowed by role "console" (allow[0]: console.attach on db1)`, rule: `role "console" allow[0]`,
			wantTarget: "db1",
		},
		{
			name: "glob does not match", mutate: func(c *decideCase) {
				c.pr.Roles = []string{"console"}
				c.action = ConsoleAttach
				c.target.Name = "node10"
			},
			reason: `denied: no rule of role(s) "console" allows console.attach on node10`, wantTarget: "node10",
		},
		{
			name: "console.force not granted", mutate: func(c *decideCase) { c.pr.Roles = []string{"console"}; c.action = ConsoleForce },
			reason: `denied: no rule of role(s) "console" allows console.force on node01`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := baseCase()
			tt.mutate(&c)
			d := p.Decide(c.pr, c.action, c.target)
			if d.Allowed != tt.allowed || d.Reason != tt.reason || d.Rule != tt.rule {
				t.Errorf("Decide = {Allowed: %v, Reason: %q, Rule: %q}\nwant     {Allowed: %v, Reason: %q, Rule: %q}",
					d.Allowed, d.Reason, d.Rule, tt.allowed, tt.reason, tt.rule)
			}
			wantTarget := tt.wantTarget
			switch wantTarget {
			case "":
				wantTarget = "node01"
			case "-":
				wantTarget = ""
			}
			if d.Target != wantTarget || d.Action != c.action || d.Principal != "alice" {
				t.Errorf("Decision identifies %q %q %q, want %q %q %q", d.Principal, d.Action, d.Target, "alice", c.action, wantTarget)
			}
		})
	}
}

func TestNewPolicyErrors(t *testing.T) {
	pat, _ := ParseActionPattern("power.on")
	tests := []struct {
		name    string
		roles   []Role
		wantErr []string
	}{
		{name: "duplicate", roles: []Role{{Name: "ops"}, {Name: "ops"}}, wantErr: []string{`role "ops" is defined twice`}},
		{name: "empty name", roles: []Role{{Name: ""}}, wantErr: []string{"role 0: role name is empty"}},
		{name: "upper-case name", roles: []Role{{Name: "Ops"}}, wantErr: []string{`role name "Ops" must be lower case`}},
		{name: "bad name", roles: []Role{{Name: "op s"}}, wantErr: []string{"role name contains a space"}},
		{name: "zero effect", roles: []Role{{Name: "ops", Rules: []Rule{{Actions: []ActionPattern{pat}}}}}, wantErr: []string{`role "ops" rule 0: invalid effect 0`}},
		{name: "no actions", roles: []Role{{Name: "ops", Rules: []Rule{{Effect: Allow}}}}, wantErr: []string{`role "ops" rule 0: no actions`}},
		{name: "zero pattern", roles: []Role{{Name: "ops", Rules: []Rule{{Effect: Deny, Actions: []ActionPattern{{}}}}}}, wantErr: []string{"empty action pattern"}},
		{name: "zero selector", roles: []Role{{Name: "ops", Rules: []Rule{{Effect: Allow, Actions: []ActionPattern{pat}, BMCs: []Selector{{}}}}}}, wantErr: []string{"empty BMC selector"}},
		{
			name:    "all problems at once",
			roles:   []Role{{Name: "a", Rules: []Rule{{Effect: Allow}}}, {Name: "a"}, {Name: "B"}},
			wantErr: []string{"no actions", `"a" is defined twice`, `"B" must be lower case`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPolicy(tt.roles)
			if err == nil {
				t.Fatalf("NewPolicy succeeded with roles %v", p.Roles())
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestPolicyRolesAndWhere(t *testing.T) {
	r := rule(t, Allow, []string{"power.on"}, []string{"*"})
	r.Where = "bmcgate.yaml:12 roles[1].allow[0]"
	p := mustPolicy(t, Role{Name: "zeta"}, Role{Name: "alpha", Rules: []Rule{r}})
	if got := strings.Join(p.Roles(), ","); got != "alpha,zeta" {
		t.Errorf("Roles() = %s", got)
	}
	p.Roles()[0] = "mutated"
	if p.Roles()[0] != "alpha" {
		t.Error("Roles returns internal state")
	}
	d := p.Decide(Principal{Name: "u", Roles: []string{"alpha"}}, PowerOn, Target{Name: "n1"})
	if !d.Allowed || d.Rule != r.Where || d.Reason != `allowed by role "alpha" (allow[0]: power.on on *)` {
		t.Errorf("Decide = %+v", d)
	}
	if Allow.String() != "allow" || Deny.String() != "deny" || Effect(0).String() != "Effect(0)" {
		t.Error("Effect.String")
	}
}

// TestPolicyInputsCopied checks that changing the rule slices passed to
// NewPolicy does not change the policy.
func TestPolicyInputsCopied(t *testing.T) {
	r := rule(t, Allow, []string{"power.on"}, []string{"node01"})
	roles := []Role{{Name: "ops", Rules: []Rule{r}}}
	p := mustPolicy(t, roles...)
	other, _ := ParseSelector("*")
	r.BMCs[0] = other
	if p.Decide(Principal{Name: "u", Roles: []string{"ops"}}, PowerOn, Target{Name: "node02"}).Allowed {
		t.Error("policy changed through the caller's slice")
	}
}

func TestNilPolicyDenies(t *testing.T) {
	var p *Policy
	c := baseCase()
	if d := p.Decide(c.pr, c.action, c.target); d.Allowed || d.Reason != "denied: no policy is loaded" {
		t.Errorf("nil policy: %+v", d)
	}
	if p.Roles() != nil {
		t.Error("nil policy has roles")
	}
}

func TestDecideConcurrent(t *testing.T) {
	p := basePolicy(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				c := baseCase()
				if !p.Decide(c.pr, c.action, c.target).Allowed {
					t.Error("base case denied")
					return
				}
			}
		})
	}
	wg.Wait()
}
