package bmcname

import (
	"strings"
	"testing"
)

// TestCheckAgreesWithCanonical: a name is accepted as already canonical
// exactly when folding leaves it unchanged, and an upper-case spelling of a
// good name is told which spelling to write.
func TestCheckAgreesWithCanonical(t *testing.T) {
	for _, s := range []string{
		"node01", "Node01", "rack-1.a_b", "", ".node", "node.", "a..b", "a//b", "x/y", "-a", "a-",
		"nöde", "ｎｏｄｅ", "a b", "a\tb", "a\x7fb", strings.Repeat("a", MaxLen), strings.Repeat("a", MaxLen+1),
		"A.", "K/V", "a;b",
	} {
		for _, slash := range []bool{false, true} {
			c, cerr := Canonical(s, "name", slash)
			err := Check(s, "name", slash)
			if (err == nil) != (cerr == nil && c == s) {
				t.Errorf("%q slash=%v: Check %v, Canonical %q, %v", s, slash, err, c, cerr)
			}
			if cerr == nil && c != s && (err == nil || !strings.Contains(err.Error(), "write \""+c+"\"")) {
				t.Errorf("%q slash=%v: Check %v, want it to name %q", s, slash, err, c)
			}
		}
	}
}
