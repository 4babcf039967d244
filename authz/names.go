package authz

import (
	"fmt"
	"strconv"

	"github.com/bmcgate/bmcgate/internal/bmcname"
)

// maxNameLen is the longest BMC name, label key or label value (a DNS label).
const maxNameLen = bmcname.MaxLen

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

// canonical folds s to lower case and checks it against the name rules
// (package bmcname, shared with the config loader). what names the kind of
// string in error messages. slash allows '/' inside.
func canonical(s, what string, slash bool) (string, error) {
	return bmcname.Canonical(s, what, slash)
}

// quote quotes s for an error message, escaping anything that is not
// printable ASCII so look-alike and invisible characters show.
func quote(s string) string {
	return strconv.QuoteToASCII(s)
}
