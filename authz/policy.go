package authz

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Effect is what a matching rule does. The zero Effect is invalid, so a rule
// whose effect was forgotten is rejected by NewPolicy instead of allowing.
type Effect int

const (
	// Allow grants the action unless some deny rule also matches.
	Allow Effect = iota + 1
	// Deny refuses the action, whatever any allow rule says.
	Deny
)

// String returns "allow" or "deny".
func (e Effect) String() string {
	switch e {
	case Allow:
		return "allow"
	case Deny:
		return "deny"
	}
	return fmt.Sprintf("Effect(%d)", int(e))
}

// Rule allows or denies the actions matching one of Actions on the BMCs
// matching one of BMCs. A rule without BMCs applies only to global actions:
// BMCs: ["*"] is needed to cover BMC actions everywhere.
type Rule struct {
	Effect  Effect
	Actions []ActionPattern
	BMCs    []Selector
	// Where says where the rule was written, e.g. "role operator allow[1]"
	// or a config file position; it is copied into Decision.Rule. When empty,
	// NewPolicy fills in `role "NAME" allow[N]`.
	Where string
}

// Role is a named list of rules.
type Role struct {
	Name        string
	Description string
	Rules       []Rule
}

// Policy is an immutable set of roles. It is safe for concurrent use.
type Policy struct {
	roles map[string]*compiledRole
	names []string // sorted
}

// compiledRole is a Role with each rule's label precomputed.
type compiledRole struct {
	name  string
	rules []compiledRule
}

// compiledRule is a Rule with its short label ("allow[1]") for reasons.
type compiledRule struct {
	Rule
	label string
}

// NewPolicy checks roles and builds a Policy. Role names must be canonical
// names (see CanonicalName) and unique; every rule needs a valid Effect, at
// least one action pattern, and only patterns and selectors made by the
// Parse functions. All problems are reported together.
func NewPolicy(roles []Role) (*Policy, error) {
	p := &Policy{roles: make(map[string]*compiledRole, len(roles))}
	var errs []error
	for i, r := range roles {
		if err := checkRoleName(r.Name); err != nil {
			errs = append(errs, fmt.Errorf("role %d: %w", i, err))
			continue
		}
		if _, dup := p.roles[r.Name]; dup {
			errs = append(errs, fmt.Errorf("role %q is defined twice", r.Name))
			continue
		}
		cr, rerrs := compileRole(r)
		errs = append(errs, rerrs...)
		p.roles[r.Name] = cr
		p.names = append(p.names, r.Name)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid policy: %w", errors.Join(errs...))
	}
	slices.Sort(p.names)
	return p, nil
}

// checkRoleName requires a role name to be already canonical.
func checkRoleName(name string) error {
	c, err := canonical(name, "role name", false)
	if err != nil {
		return err
	}
	if c != name {
		return fmt.Errorf("role name %q must be lower case (%q)", name, c)
	}
	return nil
}

// compileRole checks a role's rules and labels them.
func compileRole(r Role) (*compiledRole, []error) {
	cr := &compiledRole{name: r.Name, rules: make([]compiledRule, 0, len(r.Rules))}
	var errs []error
	count := map[Effect]int{}
	for i, rule := range r.Rules {
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("role %q rule %d: %s", r.Name, i, fmt.Sprintf(format, args...)))
		}
		if rule.Effect != Allow && rule.Effect != Deny {
			bad("invalid effect %d", int(rule.Effect))
			continue
		}
		if len(rule.Actions) == 0 {
			bad("no actions")
		}
		if slices.ContainsFunc(rule.Actions, ActionPattern.IsZero) {
			bad("empty action pattern")
		}
		if slices.ContainsFunc(rule.BMCs, Selector.IsZero) {
			bad("empty BMC selector")
		}
		label := fmt.Sprintf("%s[%d]", rule.Effect, count[rule.Effect])
		count[rule.Effect]++
		if rule.Where == "" {
			rule.Where = fmt.Sprintf("role %q %s", r.Name, label)
		}
		rule.Actions = slices.Clone(rule.Actions)
		rule.BMCs = slices.Clone(rule.BMCs)
		cr.rules = append(cr.rules, compiledRule{Rule: rule, label: label})
	}
	return cr, errs
}

// Roles returns the names of the policy's roles, sorted.
func (p *Policy) Roles() []string {
	if p == nil {
		return nil
	}
	return slices.Clone(p.names)
}

// describe renders a rule for a reason: "power.* on rack=r1", "audit.read".
func (r compiledRule) describe(a ActionPattern, s Selector) string {
	if s.IsZero() {
		return fmt.Sprintf("%s: %s", r.label, a)
	}
	return fmt.Sprintf("%s: %s on %s", r.label, a, s)
}

// quoteList renders role names as `"a", "b"`.
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
