package authz

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/bmcgate/bmcgate/internal/bmcname"
)

// selKind says which form a Selector has. The zero kind is an invalid
// Selector (one not made by ParseSelector), which matches nothing.
type selKind uint8

const (
	selInvalid selKind = iota
	selAll             // "*"
	selExact           // "node01"
	selGlob            // "node0*"
	selLabels          // "rack=r1,env=prod"
)

// Selector picks BMCs by name or by labels. Make one with ParseSelector; the
// zero Selector matches nothing.
type Selector struct {
	kind   selKind
	name   string      // exact name or glob pattern, canonical
	labels []labelTerm // for selLabels, in the order given
}

// labelTerm is one "key=value" part of a label selector.
type labelTerm struct {
	key   string
	value string // literal value or glob pattern, canonical
	glob  bool
}

// globMeta are the path.Match characters a selector pattern may use.
const globMeta = "*?[]^"

// maxPatternLen bounds glob patterns, which may be longer than the names
// they match because of character classes.
const maxPatternLen = 2 * maxNameLen

// ParseSelector parses a BMC selector. The forms are:
//
//	"*"                      every BMC
//	"node01"                 the BMC with exactly this name
//	"node0*", "rack?-[ab]*"  a path.Match glob over the canonical name
//	"rack=r1"                BMCs whose label rack is r1 (the value may be a glob)
//	"rack=r1,env=prod"       BMCs whose labels match every key=value part
//
// Names, keys, values and patterns are canonicalized as by CanonicalName and
// CanonicalLabel; String returns the canonical form, which parses back to an
// equal Selector.
func ParseSelector(s string) (Selector, error) {
	switch {
	case s == "":
		return Selector{}, errors.New("selector is empty")
	case s == "*":
		return Selector{kind: selAll}, nil
	case strings.Contains(s, "="):
		return parseLabelSelector(s)
	case strings.Contains(s, ","):
		return Selector{}, fmt.Errorf("selector %s joins names with commas: list each name or pattern as its own selector", quote(s))
	case strings.ContainsAny(s, globMeta):
		p, err := canonicalPattern(s, "name pattern")
		if err != nil {
			return Selector{}, fmt.Errorf("selector %s: %w", quote(s), err)
		}
		return Selector{kind: selGlob, name: p}, nil
	default:
		n, err := CanonicalName(s)
		if err != nil {
			return Selector{}, fmt.Errorf("selector %s: %w", quote(s), err)
		}
		return Selector{kind: selExact, name: n}, nil
	}
}

// parseLabelSelector parses "key=value[,key=value...]".
func parseLabelSelector(s string) (Selector, error) {
	parts := strings.Split(s, ",")
	sel := Selector{kind: selLabels, labels: make([]labelTerm, 0, len(parts))}
	seen := make(map[string]bool, len(parts))
	for _, part := range parts {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return Selector{}, fmt.Errorf("selector %s: part %s is not key=value", quote(s), quote(part))
		}
		var term labelTerm
		var err error
		if strings.ContainsAny(v, globMeta) {
			term.key, err = canonical(k, "label key", true)
			if err == nil {
				term.value, err = canonicalPattern(v, "label value pattern")
				term.glob = true
			}
		} else {
			term.key, term.value, err = CanonicalLabel(k, v)
		}
		if err != nil {
			return Selector{}, fmt.Errorf("selector %s: %w", quote(s), err)
		}
		if seen[term.key] {
			return Selector{}, fmt.Errorf("selector %s names label %s twice", quote(s), term.key)
		}
		seen[term.key] = true
		sel.labels = append(sel.labels, term)
	}
	return sel, nil
}

// canonicalPattern folds a glob pattern to lower case and checks that it uses
// only name characters and glob metacharacters and that path.Match accepts it.
func canonicalPattern(s, what string) (string, error) {
	if len(s) > maxPatternLen {
		return "", fmt.Errorf("%s is longer than %d characters", what, maxPatternLen)
	}
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'A' && c <= 'Z':
			b[i] = c + 'a' - 'A'
		case c >= 0x80:
			return "", fmt.Errorf("%s must be plain ASCII", what)
		case c < 0x20 || c == 0x7f:
			return "", fmt.Errorf("%s contains a control character", what)
		case c == ' ':
			return "", fmt.Errorf("%s contains a space", what)
		case !bmcname.Char(c, false) && !strings.ContainsRune(globMeta, rune(c)):
			return "", fmt.Errorf("%s contains %q: only a-z, 0-9, '_', '.', '-' and the glob characters %s are allowed", what, string(c), globMeta)
		}
	}
	p := string(b)
	if _, err := path.Match(p, ""); err != nil {
		return "", fmt.Errorf("%s is not a valid glob: %w", what, err)
	}
	return p, nil
}

// Match reports whether the selector selects t. The target's name and labels
// are canonicalized first; a target that cannot be canonicalized (or has no
// name) is never selected.
func (s Selector) Match(t Target) bool {
	ct, err := canonicalTarget(t)
	if err != nil {
		return false
	}
	return s.match(ct)
}

// match is Match for a target already in canonical form.
func (s Selector) match(t Target) bool {
	switch s.kind {
	case selAll:
		return true
	case selExact:
		return t.Name == s.name
	case selGlob:
		ok, _ := path.Match(s.name, t.Name)
		return ok
	case selLabels:
		for _, term := range s.labels {
			v, ok := t.Labels[term.key]
			if !ok {
				return false
			}
			if term.glob {
				if m, _ := path.Match(term.value, v); !m {
					return false
				}
			} else if v != term.value {
				return false
			}
		}
		return true
	}
	return false
}

// IsExact reports whether s selects one BMC by its exact name.
func (s Selector) IsExact() bool {
	return s.kind == selExact
}

// IsZero reports whether s is the zero Selector, which matches nothing.
func (s Selector) IsZero() bool {
	return s.kind == selInvalid
}

// String returns the canonical text of s; ParseSelector(s.String()) gives s
// back. The zero Selector prints as "".
func (s Selector) String() string {
	switch s.kind {
	case selAll:
		return "*"
	case selExact, selGlob:
		return s.name
	case selLabels:
		parts := make([]string, len(s.labels))
		for i, t := range s.labels {
			parts[i] = t.key + "=" + t.value
		}
		return strings.Join(parts, ",")
	}
	return ""
}
