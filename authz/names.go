package authz

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// maxNameLen is the longest BMC name, label key or label value (a DNS label).
const maxNameLen = 63

// CanonicalName returns the canonical form of a BMC name, or an error saying
// plainly why s is not a BMC name.
//
// BMC names are ASCII only. Upper-case ASCII letters are folded to lower case;
// the result must then be 1 to 63 characters of [a-z0-9_.-], start and end
// with a letter or digit, and contain no "..". Anything else (Unicode,
// including full-width and other compatibility forms, control characters,
// spaces, a leading or trailing dot, the empty string) is rejected rather
// than repaired, so that two different inputs never name the same BMC by
// accident.
func CanonicalName(s string) (string, error) {
	return canonical(s, "BMC name", false)
}

// CanonicalLabel returns the canonical form of a BMC label. Keys and values
// follow the rules of CanonicalName; keys may also contain '/' (as in
// "example.com/rack"), though not at either end and not twice in a row.
func CanonicalLabel(key, value string) (string, string, error) {
	k, err := canonical(key, "label key", true)
	if err != nil {
		return "", "", err
	}
	v, err := canonical(value, "label value", false)
	if err != nil {
		return "", "", fmt.Errorf("label %s: %w", k, err)
	}
	return k, v, nil
}

// canonical folds s to lower case and checks it against the name rules.
// what names the kind of string in error messages. slash allows '/' inside.
func canonical(s, what string, slash bool) (string, error) {
	if s == "" {
		return "", fmt.Errorf("%s is empty", what)
	}
	if len(s) > maxNameLen {
		return "", fmt.Errorf("%s is longer than %d characters", what, maxNameLen)
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 0x80:
			return "", fmt.Errorf("%s must be plain ASCII: only a-z, 0-9, '_', '.' and '-' are allowed", what)
		case c < 0x20 || c == 0x7f:
			return "", fmt.Errorf("%s contains a control character", what)
		case c == ' ':
			return "", fmt.Errorf("%s contains a space", what)
		case !nameChar(c, slash):
			return "", fmt.Errorf("%s contains %q: only a-z, 0-9, '_', '.' and '-' are allowed", what, string(c))
		}
		b.WriteByte(c)
	}
	out := b.String()
	if err := checkShape(out); err != nil {
		return "", fmt.Errorf("%s %w", what, err)
	}
	return out, nil
}

// nameChar reports whether c may appear in a canonical name.
func nameChar(c byte, slash bool) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' || slash && c == '/'
}

// alnum reports whether c is a lower-case ASCII letter or a digit.
func alnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

// checkShape checks the rules about where punctuation may appear in an
// already lower-cased name made only of allowed characters.
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

// quote quotes s for an error message, escaping anything that is not
// printable ASCII so look-alike and invisible characters show.
func quote(s string) string {
	return strconv.QuoteToASCII(s)
}
