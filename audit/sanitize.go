package audit

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// truncMark ends a string field that was cut to MaxFieldLen bytes.
const truncMark = "…[truncated]"

// fieldsDroppedKey is the Fields entry that replaces entries beyond MaxFields.
const fieldsDroppedKey = "…[truncated]"

// Sanitize returns s as Append stores it: safe to print on a terminal and
// unambiguous. It escapes
//
//   - a backslash as \\ ;
//   - newline, carriage return and tab as \n, \r, \t;
//   - other C0 controls, ESC and DEL as \xHH (ESC is \x1b);
//   - each byte that is not part of valid UTF-8 as \xHH;
//   - C1 controls (U+0080–U+009F), line and paragraph separators
//     (U+2028, U+2029) and every format character (Unicode category Cf:
//     bidi marks, embeddings, overrides and isolates, zero-width characters,
//     U+FEFF, tag characters, ...) as \uHHHH or \UHHHHHHHH;
//
// with lower-case hex digits. Everything else is kept as is. The result is at
// most MaxFieldLen bytes: a longer one is cut at a character boundary and ends
// with "…[truncated]".
//
// The output contains no control or format character, so printing it (or
// sanitizing it again) is safe; Sanitize is not idempotent, since a second
// pass escapes the backslashes of the first.
func Sanitize(s string) string {
	return escape(s, true, MaxFieldLen)
}

// DisplaySafe makes a message safe to print on a terminal without
// escaping it twice: like Sanitize, but backslashes are kept, so text that
// is already escaped (a stored field, a message built from Sanitize'd
// parts) comes out unchanged, and raw control or format characters are
// still escaped.
func DisplaySafe(s string) string { return displaySafe(s) }

// displaySafe escapes like Sanitize but leaves backslashes alone: it is a
// no-op on stored (already sanitized) strings and makes any other string
// terminal-safe. Used for output.
func displaySafe(s string) string {
	return escape(s, false, MaxFieldLen)
}

// unsafeRune reports whether r must be escaped (besides backslash).
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f:
		return true
	case r < 0x80:
		return false
	case r <= 0x9f, r == 0x2028, r == 0x2029:
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

// escape implements Sanitize (backslash=true) and displaySafe.
func escape(s string, backslash bool, limit int) string {
	// Fast path: nothing to escape and short enough.
	i := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f || (backslash && c == '\\') {
				break
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || unsafeRune(r) {
			break
		}
		i += size
	}
	if i == len(s) && len(s) <= limit {
		return s
	}

	budget := max(limit-len(truncMark), 0)
	var b strings.Builder
	b.Grow(min(len(s), limit) + 16)
	cut := -1 // output length at the last token boundary within budget
	var tmp [10]byte
	for j := 0; j < len(s); {
		r, size := utf8.DecodeRuneInString(s[j:])
		var tok []byte
		switch {
		case r == utf8.RuneError && size == 1:
			tok = hexEscape(tmp[:0], 'x', uint32(s[j]), 2)
		case r == '\\' && backslash:
			tok = append(tmp[:0], '\\', '\\')
		case r == '\n':
			tok = append(tmp[:0], '\\', 'n')
		case r == '\r':
			tok = append(tmp[:0], '\\', 'r')
		case r == '\t':
			tok = append(tmp[:0], '\\', 't')
		case r < 0x20, r == 0x7f:
			tok = hexEscape(tmp[:0], 'x', uint32(r), 2)
		case unsafeRune(r) && r <= 0xffff:
			tok = hexEscape(tmp[:0], 'u', uint32(r), 4)
		case unsafeRune(r):
			tok = hexEscape(tmp[:0], 'U', uint32(r), 8)
		default:
			tok = append(tmp[:0], s[j:j+size]...)
		}
		j += size
		if cut < 0 && b.Len()+len(tok) > budget {
			cut = b.Len()
		}
		b.Write(tok)
		if b.Len() > limit {
			return b.String()[:cut] + truncMark
		}
	}
	return b.String()
}

// hexEscape appends '\\', kind and v as n lower-case hex digits.
func hexEscape(dst []byte, kind byte, v uint32, n int) []byte {
	dst = append(dst, '\\', kind)
	h := strconv.FormatUint(uint64(v), 16)
	for k := len(h); k < n; k++ {
		dst = append(dst, '0')
	}
	return append(dst, h...)
}

// sanitizeFields escapes keys and values and bounds the map to MaxFields
// entries: when there are more, the first MaxFields-1 keys in sorted order
// are kept and an entry "…[truncated]" says how many were dropped.
func sanitizeFields(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dropped := 0
	if len(keys) > MaxFields {
		dropped = len(keys) - (MaxFields - 1)
		keys = keys[:MaxFields-1]
	}
	out := make(map[string]string, len(keys)+1)
	for _, k := range keys {
		out[Sanitize(k)] = Sanitize(m[k])
	}
	if dropped > 0 {
		out[fieldsDroppedKey] = strconv.Itoa(dropped) + " more fields dropped"
	}
	return out
}

// sanitizeRecord escapes every string field of r in place.
func sanitizeRecord(r *Record) {
	for _, p := range []*string{&r.Code, &r.Actor, &r.Door, &r.Source, &r.Session,
		&r.Target, &r.Action, &r.Outcome, &r.Reason} {
		*p = Sanitize(*p)
	}
	r.Fields = sanitizeFields(r.Fields)
}
