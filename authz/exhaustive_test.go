package authz

import (
	"fmt"
	"testing"
)

// TestDecideExhaustive checks every action against every selector form, both
// as an allow rule on its own and as a deny rule beside an admin role.
func TestDecideExhaustive(t *testing.T) {
	targets := []Target{
		{Name: "node01", Labels: map[string]string{"rack": "r1", "env": "prod"}},
		{Name: "node02", Labels: map[string]string{"rack": "r2", "env": "prod"}},
		{Name: "rack3-b7", Labels: map[string]string{"rack": "r3"}},
		{Name: "db1"},
		{Name: "NODE01", Labels: map[string]string{"RACK": "R1", "ENV": "PROD"}},
	}
	selectors := []string{"*", "node01", "NODE01", "node0*", "rack?-[ab]*", "rack=r1", "rack=r*", "rack=r1,env=prod", "env=dev"}
	admin := Role{Name: "admin", Rules: []Rule{rule(t, Allow, []string{"*"}, []string{"*"})}}
	for _, a := range KnownActions() {
		for _, selText := range selectors {
			sel, err := ParseSelector(selText)
			if err != nil {
				t.Fatal(err)
			}
			p := mustPolicy(t,
				admin,
				Role{Name: "grant", Rules: []Rule{rule(t, Allow, []string{string(a)}, []string{selText})}},
				Role{Name: "block", Rules: []Rule{rule(t, Deny, []string{string(a)}, []string{selText})}},
				Role{Name: "global", Rules: []Rule{rule(t, Allow, []string{string(a)}, nil)}},
			)
			grant := Principal{Name: "u", Roles: []string{"grant"}}
			block := Principal{Name: "u", Roles: []string{"admin", "block"}}
			global := Principal{Name: "u", Roles: []string{"global"}}
			name := fmt.Sprintf("%s on %s", a, selText)
			if a.Global() {
				if got, want := p.Decide(grant, a, Target{}).Allowed, selText == "*"; got != want {
					t.Errorf("%s: grant allowed = %v, want %v", name, got, want)
				}
				if p.Decide(block, a, Target{}).Allowed {
					t.Errorf("%s: deny rule did not win", name)
				}
				if !p.Decide(global, a, Target{}).Allowed {
					t.Errorf("%s: rule without BMCs did not grant the global action", name)
				}
				for _, tg := range targets {
					if p.Decide(Principal{Name: "u", Roles: []string{"admin"}}, a, tg).Allowed {
						t.Errorf("%s: global action allowed with target %q", name, tg.Name)
					}
				}
				continue
			}
			for _, tg := range targets {
				want := sel.Match(tg)
				if got := p.Decide(grant, a, tg); got.Allowed != want {
					t.Errorf("%s, target %q: grant allowed = %v, want %v (%s)", name, tg.Name, got.Allowed, want, got.Reason)
				}
				if got := p.Decide(block, a, tg); got.Allowed == want {
					t.Errorf("%s, target %q: admin+deny allowed = %v, want %v (%s)", name, tg.Name, got.Allowed, !want, got.Reason)
				}
				if got := p.Decide(global, a, tg); got.Allowed {
					t.Errorf("%s, target %q: rule without BMCs granted a BMC action", name, tg.Name)
				}
				if got := p.Decide(grant, a, Target{}); got.Allowed {
					t.Errorf("%s: allowed without a target", name)
				}
			}
			// The upper-case spelling must decide exactly like the canonical one.
			lower := p.Decide(grant, a, targets[0])
			upper := p.Decide(grant, a, targets[4])
			if lower != upper {
				t.Errorf("%s: NODE01 decided %+v, node01 decided %+v", name, upper, lower)
			}
		}
	}
}
