package authz

import (
	"fmt"
)

// Principal is an authenticated user as the policy sees it.
type Principal struct {
	// Name is the user name, recorded in every Decision.
	Name string
	// Roles are the names of the user's roles in the Policy.
	Roles []string
	// Door is the front door the user came through: "ssh", "web" or "api".
	Door string
}

// Target is the BMC an action is aimed at: its canonical name and its labels.
// Global actions are decided with the zero Target.
type Target struct {
	Name   string
	Labels map[string]string
}

// IsZero reports whether t names no BMC.
func (t Target) IsZero() bool {
	return t.Name == "" && len(t.Labels) == 0
}

// canonicalTarget returns t with its name and labels in canonical form.
// Two label keys that fold to the same canonical key are an error.
func canonicalTarget(t Target) (Target, error) {
	name, err := CanonicalName(t.Name)
	if err != nil {
		return Target{}, err
	}
	out := Target{Name: name}
	if len(t.Labels) == 0 {
		return out, nil
	}
	out.Labels = make(map[string]string, len(t.Labels))
	for k, v := range t.Labels {
		ck, cv, err := CanonicalLabel(k, v)
		if err != nil {
			return Target{}, err
		}
		if _, dup := out.Labels[ck]; dup {
			return Target{}, fmt.Errorf("label key %s is given twice", ck)
		}
		out.Labels[ck] = cv
	}
	return out, nil
}

// displayName is how a target name appears in a Decision: the canonical name
// when there is one, otherwise the raw input quoted so that control or
// look-alike characters are visible.
func displayName(raw string) string {
	if c, err := CanonicalName(raw); err == nil {
		return c
	}
	return quote(raw)
}
