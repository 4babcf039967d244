package webui

import (
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// CanonicalAccountName is the form in which the AccountGuard compares BMC
// account names. BMCs differ in how they match a user name (some trim it,
// some fold its case, some store it as typed), and a person reading an
// account list cannot tell "bmcgate" from "bmcgate " or "bmсgate" with a
// Cyrillic "с". So every spelling a BMC might take for the same account, or
// a person for the same name, has one canonical form: compatibility forms
// (full-width letters, ligatures) decomposed, accents and other combining
// marks dropped, invisible characters (zero-width spaces, joiners, soft
// hyphens, byte order marks, controls) removed, Cyrillic and Greek letters
// that look like Latin ones mapped to those, case folded, every run of
// white space made one space and leading and trailing white space trimmed.
func CanonicalAccountName(s string) string {
	s = norm.NFKD.String(s)
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case unicode.Is(unicode.Mn, r), unicode.Is(unicode.Me, r), unicode.Is(unicode.Cf, r),
			unicode.IsControl(r), unicode.Is(unicode.Variation_Selector, r), r == unicode.ReplacementChar:
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	out := []rune(cases.Fold().String(b.String()))
	for i, r := range out {
		if l, ok := lookalikes[r]; ok {
			out[i] = l
		}
	}
	return string(out)
}

// lookalikes maps case-folded Cyrillic and Greek letters to the Latin
// letters they are drawn like (after folding, so only lower case).
var lookalikes = map[rune]rune{
	// Cyrillic
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'һ': 'h', 'і': 'i', 'ї': 'i', 'ј': 'j', 'к': 'k',
	'ӏ': 'l', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'ԛ': 'q', 'г': 'r', 'ѕ': 's', 'т': 't',
	'у': 'y', 'ԝ': 'w', 'х': 'x', 'с': 'c', 'ԁ': 'd', 'ɡ': 'g', 'ь': 'b', 'п': 'n',
	// Greek
	'α': 'a', 'β': 'b', 'ε': 'e', 'η': 'n', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p',
	'τ': 't', 'υ': 'u', 'χ': 'x', 'ω': 'w', 'μ': 'u', 'ς': 's', 'σ': 'o', 'γ': 'y',
	// Latin letters drawn like others
	'ı': 'i', 'ȷ': 'j', 'ſ': 's', 'ʟ': 'l', 'ɑ': 'a', 'ɩ': 'i', 'ʋ': 'u', 'ɪ': 'i',
}

// sameAccount reports whether two BMC account names are the same account
// for the guard.
func sameAccount(a, b string) bool {
	return CanonicalAccountName(a) == CanonicalAccountName(b)
}
