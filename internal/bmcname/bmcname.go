// Package bmcname is the one definition of what a BMC name, a label key or
// value, a role name and every other bmcgate name may be. The config loader
// (which requires names already in canonical form) and the policy engine
// (which folds what users type) both use it, so a name can never mean one
// BMC to the config and another to the policy.
//
// Names are ASCII only. Upper-case ASCII letters fold to lower case; the
// result must then be 1 to 63 characters of [a-z0-9_.-] (and '/' where
// allowed), start and end with a letter or digit, and contain neither ".."
// nor "//". Anything else (Unicode, including full-width and other
// compatibility forms, control characters, spaces, a leading or trailing
// dot, the empty string) is rejected rather than repaired, so that two
// different inputs never name the same BMC by accident.
package bmcname

import (
	"errors"
	"fmt"
	"strings"
)

// MaxLen is the longest name, label key or label value (a DNS label).
const MaxLen = 63

// Canonical folds s to lower case and checks it against the name rules.
// what names the kind of string in error messages ("BMC name", "label
// key"); slash allows '/' inside (label keys such as "example.com/rack").
func Canonical(s, what string, slash bool) (string, error) {
	out, _, err := fold(s, what, slash)
	if err != nil {
		return "", err
	}
	if err := checkShape(out); err != nil {
		return "", fmt.Errorf("%s %w", what, err)
	}
	return out, nil
}

// Check requires s to be already canonical: the rules of Canonical, and no
// upper-case letter (the message then says which spelling to write).
func Check(s, what string, slash bool) error {
	_, upper, err := fold(s, what, slash)
	if err != nil {
		return err
	}
	if upper {
		return fmt.Errorf("%s must be lower case: write %q", what, strings.ToLower(s))
	}
	if err := checkShape(s); err != nil {
		return fmt.Errorf("%s %w", what, err)
	}
	return nil
}

// fold lower-cases s, checking its length and each character; upper reports
// whether anything was folded.
func fold(s, what string, slash bool) (out string, upper bool, err error) {
	if s == "" {
		return "", false, fmt.Errorf("%s is empty", what)
	}
	if len(s) > MaxLen {
		return "", false, fmt.Errorf("%s is longer than %d characters", what, MaxLen)
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
			upper = true
		case c >= 0x80:
			return "", false, fmt.Errorf("%s must be plain ASCII: only a-z, 0-9, '_', '.' and '-' are allowed", what)
		case c < 0x20 || c == 0x7f:
			return "", false, fmt.Errorf("%s contains a control character", what)
		case c == ' ':
			return "", false, fmt.Errorf("%s contains a space", what)
		case !Char(c, slash):
			return "", false, fmt.Errorf("%s contains %q: only a-z, 0-9, '_', '.' and '-' are allowed", what, string(c))
		}
		b.WriteByte(c)
	}
	return b.String(), upper, nil
}

// Char reports whether c may appear in a canonical name (with slash, also
// '/').
func Char(c byte, slash bool) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' || slash && c == '/'
}

// alnum reports whether c is a lower-case ASCII letter or a digit.
func alnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

// checkShape checks where punctuation sits in a lower-cased name made only
// of allowed characters.
func checkShape(s string) error {
	switch {
	case s[0] == '.':
		return errors.New("must not start with a dot")
	case s[len(s)-1] == '.':
		return errors.New("must not end with a dot")
	case !alnum(s[0]):
		return errors.New("must start with a letter or digit")
	case !alnum(s[len(s)-1]):
		return errors.New("must end with a letter or digit")
	case strings.Contains(s, ".."):
		return errors.New("must not contain \"..\"")
	case strings.Contains(s, "//"):
		return errors.New("must not contain \"//\"")
	}
	return nil
}
