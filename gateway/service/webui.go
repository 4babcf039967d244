package service

import "github.com/bmcgate/bmcgate/authz"

// Permits asks the policy whether the caller may do a on the BMC named
// name, without recording the answer. It is for re-checking a live BMC web
// UI session on every request (the decision that opened the session was
// recorded with Decide); a refusal the caller acts on is recorded by
// calling Decide. It returns nil and a denial when the BMC is unknown.
func (s *Service) Permits(c Caller, a authz.Action, name string) (authz.Decision, *BMC) {
	st := s.State()
	b, ok := st.Inventory.Lookup(name)
	if !ok {
		return authz.Decision{Reason: "denied: unknown BMC"}, nil
	}
	p, err := st.resolve(c)
	if err != nil {
		return authz.Decision{Action: a, Principal: c.Name(), Target: b.Name, Reason: "denied: " + Message(err)}, b
	}
	return p.decide(st.Policy, a, b.Target()), b
}
