package configs

import (
	"errors"
	"fmt"
	"strings"
)

// The naming rules below are those of bmcgate's policy engine (its
// CanonicalName and CanonicalLabel), repeated here because configs does not
// import it; the gateway cross-checks with the policy engine. The config file
// must already use the canonical (lower-case) form.

// maxNameLen is the longest name, label key or label value.
const maxNameLen = 63

// checkName checks that s is a canonical name: 1 to 63 characters of
// [a-z0-9_.-] (and '/' when slash is set), starting and ending with a letter
// or digit, without "..", "//" or non-ASCII characters. what names the kind
// of name in messages.
func checkName(s, what string, slash bool) error {
	if s == "" {
		return fmt.Errorf("%s is empty", what)
	}
	if len(s) > maxNameLen {
		return fmt.Errorf("%s is longer than %d characters", what, maxNameLen)
	}
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 0x80:
			return fmt.Errorf("%s must be plain ASCII: only a-z, 0-9, '_', '.' and '-' are allowed", what)
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("%s contains a control character", what)
		case c == ' ':
			return fmt.Errorf("%s contains a space", what)
		case !nameChar(c, slash):
			return fmt.Errorf("%s contains %q: only a-z, 0-9, '_', '.' and '-' are allowed", what, string(c))
		}
	}
	if upper {
		return fmt.Errorf("%s must be lower case: write %q", what, strings.ToLower(s))
	}
	if err := checkShape(s); err != nil {
		return fmt.Errorf("%s %w", what, err)
	}
	return nil
}

// nameChar reports whether c may appear in a canonical name.
func nameChar(c byte, slash bool) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' || slash && c == '/'
}

// alnum reports whether c is a lower-case ASCII letter or a digit.
func alnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

// checkShape checks where punctuation sits in a name of allowed characters.
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
