package authz

import (
	"errors"
	"fmt"
	"strings"
)

// ActionPattern matches actions: "*" (every action), "power.*" (every action
// of a group) or "power.on" (one action). Make one with ParseActionPattern;
// the zero ActionPattern matches nothing.
type ActionPattern struct {
	text string // canonical text; "" for the zero pattern
}

// ParseActionPattern parses an action pattern. A pattern must match at least
// one known action, so a misspelt action is an error rather than a rule that
// silently never applies.
func ParseActionPattern(s string) (ActionPattern, error) {
	if s == "" {
		return ActionPattern{}, errors.New("action is empty")
	}
	p := ActionPattern{text: s}
	for _, a := range knownActions {
		if p.Match(a) {
			return p, nil
		}
	}
	if group, ok := strings.CutSuffix(s, ".*"); ok {
		return ActionPattern{}, fmt.Errorf("action pattern %s matches no known action: there is no action group %s (known groups: %s)",
			quote(s), quote(group), strings.Join(actionGroups(), ", "))
	}
	return ActionPattern{}, fmt.Errorf("unknown action %s (known actions: %s)", quote(s), joinActions(knownActions))
}

// Match reports whether a is matched by p. Unknown actions are never matched,
// not even by "*".
func (p ActionPattern) Match(a Action) bool {
	if p.text == "" || !a.Known() {
		return false
	}
	if p.text == "*" {
		return true
	}
	if group, ok := strings.CutSuffix(p.text, ".*"); ok {
		return strings.HasPrefix(string(a), group+".")
	}
	return string(a) == p.text
}

// IsZero reports whether p is the zero ActionPattern, which matches nothing.
func (p ActionPattern) IsZero() bool {
	return p.text == ""
}

// String returns the pattern as written; ParseActionPattern(p.String()) gives p.
func (p ActionPattern) String() string {
	return p.text
}

// actionGroups returns the distinct group prefixes ("power", "sel", ...) of
// the known actions, sorted.
func actionGroups() []string {
	var groups []string
	for _, a := range knownActions {
		g, _, _ := strings.Cut(string(a), ".")
		if len(groups) == 0 || groups[len(groups)-1] != g {
			groups = append(groups, g)
		}
	}
	return groups
}

// joinActions joins action names with ", ".
func joinActions(as []Action) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}
