package authz

import (
	"fmt"
	"slices"
)

// Decision is the answer to one authorization question, ready to be audited.
type Decision struct {
	Allowed   bool
	Action    Action
	Principal string // Principal.Name
	Target    string // canonical BMC name; "" for global actions; quoted if invalid
	Reason    string // a sentence a person can read
	Rule      string // Rule.Where of the deciding rule; "" when no rule decided
}

// Decide answers whether pr may perform a on t.
//
// Everything is denied by default. A rule matches when one of its action
// patterns matches a and, for BMC-scoped actions, one of its selectors
// matches t; rules without selectors match only global actions. For a global
// action selectors are not consulted, except that an allow rule narrowed to
// some BMCs (selectors, none of them "*") does not grant it. A matching
// deny rule in any of the principal's roles wins over every allow rule.
// Unknown actions are denied, as are principals without roles or with a role
// the policy does not define (that role might have carried a deny rule), a
// BMC-scoped action without a target, a global action with a target, and a
// target whose name or labels are not valid. A nil Policy denies everything.
func (p *Policy) Decide(pr Principal, a Action, t Target) Decision {
	d := Decision{Action: a, Principal: pr.Name}
	if !t.IsZero() {
		d.Target = displayName(t.Name)
	}
	deny := func(format string, args ...any) Decision {
		d.Reason = "denied: " + fmt.Sprintf(format, args...)
		return d
	}

	if p == nil {
		return deny("no policy is loaded")
	}
	if !a.Known() {
		return deny("unknown action %s", quote(string(a)))
	}
	if len(pr.Roles) == 0 {
		return deny("user has no roles")
	}
	roles := make([]*compiledRole, 0, len(pr.Roles))
	names := make([]string, 0, len(pr.Roles))
	seen := make(map[string]bool, len(pr.Roles))
	for _, name := range pr.Roles {
		if seen[name] {
			continue
		}
		seen[name] = true
		r, ok := p.roles[name]
		if !ok {
			return deny("user has role %s, which the policy does not define", quote(name))
		}
		roles = append(roles, r)
		names = append(names, name)
	}

	on := ""
	if a.Global() {
		if !t.IsZero() {
			return deny("%s is a global action and takes no BMC", a)
		}
	} else {
		if t.Name == "" {
			return deny("%s needs a BMC", a)
		}
		ct, err := canonicalTarget(t)
		if err != nil {
			return deny("invalid target %s: %v", d.Target, err)
		}
		t = ct
		on = " on " + t.Name
	}

	var allow *match
	for _, r := range roles {
		for _, rule := range r.rules {
			m, ok := rule.match(a, t)
			if !ok {
				continue
			}
			m.role = r.name
			if rule.Effect == Deny {
				d.Rule = rule.Where
				d.Reason = fmt.Sprintf("denied by role %q (%s)", m.role, m.text)
				return d
			}
			if allow == nil {
				allow = &m
				allow.where = rule.Where
			}
		}
	}
	if allow == nil {
		return deny("no rule of role(s) %s allows %s%s", quoteList(names), a, on)
	}
	d.Allowed = true
	d.Rule = allow.where
	d.Reason = fmt.Sprintf("allowed by role %q (%s)", allow.role, allow.text)
	return d
}

// match records which rule matched and how, for the reason.
type match struct {
	role, where, text string
}

// match reports whether the rule applies to a on the canonical target t and
// describes the pattern and selector that matched.
func (r compiledRule) match(a Action, t Target) (match, bool) {
	for _, ap := range r.Actions {
		if !ap.Match(a) {
			continue
		}
		if a.Global() {
			// Selectors do not apply to global actions. A deny rule
			// applies whatever its selectors; an allow rule only when it
			// is not narrowed to some BMCs (no selectors, or "*"), so that
			// "allow * on rack=r1" does not grant a global action.
			all := slices.ContainsFunc(r.BMCs, func(s Selector) bool { return s.kind == selAll })
			if len(r.BMCs) == 0 || all || r.Effect == Deny {
				return match{text: r.describe(ap, Selector{})}, true
			}
			continue
		}
		for _, s := range r.BMCs {
			if s.match(t) {
				return match{text: r.describe(ap, s)}, true
			}
		}
	}
	return match{}, false
}
