package authz

import "testing"

// rule builds a Rule from action pattern and selector strings.
func rule(t testing.TB, e Effect, actions, bmcs []string) Rule {
	t.Helper()
	r := Rule{Effect: e}
	for _, a := range actions {
		p, err := ParseActionPattern(a)
		if err != nil {
			t.Fatal(err)
		}
		r.Actions = append(r.Actions, p)
	}
	for _, b := range bmcs {
		s, err := ParseSelector(b)
		if err != nil {
			t.Fatal(err)
		}
		r.BMCs = append(r.BMCs, s)
	}
	return r
}

// mustPolicy builds a Policy or fails the test.
func mustPolicy(t testing.TB, roles ...Role) *Policy {
	t.Helper()
	p, err := NewPolicy(roles)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
