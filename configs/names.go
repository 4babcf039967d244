package configs

import "github.com/bmcgate/bmcgate/internal/bmcname"

// The naming rules are those of the policy engine: both use package bmcname.
// The config file must already use the canonical (lower-case) form.

// checkName checks that s is a canonical name: 1 to 63 characters of
// [a-z0-9_.-] (and '/' when slash is set), starting and ending with a letter
// or digit, without "..", "//" or non-ASCII characters. what names the kind
// of name in messages.
func checkName(s, what string, slash bool) error {
	return bmcname.Check(s, what, slash)
}
