package audit

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"time"
	"unicode/utf8"
)

// Fast reading of stored values without decoding them.
//
// scanStored checks that a stored value is in the stored form of
// canonical.go and finds its parts, without allocating. It is strict: it
// accepts a value only if decoding it and encoding it again would give the
// same bytes, and its strings hold no character Sanitize escapes, so a value
// it accepts passes every per-record check of Verify except those that need
// the neighbours (sequence number, chain, hash, time order), which the
// caller makes on the parts. A value it refuses may still be good (a Fields
// key with a backslash, say): callers then take the slow path, decoding with
// encoding/json, which also words the problem.

// The string fields of the canonical form, in order.
const (
	strCode = iota
	strActor
	strDoor
	strSource
	strSession
	strTarget
	strAction
	strOutcome
	strReason
	numStr
)

// strKeys are the canonical form's string keys, each with the separator and
// the opening quote of its value.
var strKeys = [numStr]string{
	`,"code":"`, `,"actor":"`, `,"door":"`, `,"source":"`, `,"session":"`,
	`,"target":"`, `,"action":"`, `,"outcome":"`, `,"reason":"`,
}

// span is a half-open byte range [lo, hi) of a stored value.
type span struct{ lo, hi int }

// storedView is a stored value with the positions of its parts. String spans
// hold the JSON string's content without its quotes, still encoded (a stored
// string's `\` and `"` are written `\\` and `\"`).
type storedView struct {
	val    []byte
	seq    uint64
	time   span
	str    [numStr]span
	fields span // the fields object's content, without its braces
	data   span
	prev   span
	hashAt int // index of `,"hash":` (the canonical bytes are val[:hashAt] + "}")
	hash   span
}

// field returns the encoded content of string field i.
func (r *storedView) field(i int) []byte { return r.val[r.str[i].lo:r.str[i].hi] }

// prevHex and hashHex return the 64 hex digits of Prev and Hash.
func (r *storedView) prevHex() []byte { return r.val[r.prev.lo:r.prev.hi] }
func (r *storedView) hashHex() []byte { return r.val[r.hash.lo:r.hash.hi] }

// parseTime returns the record's time; ok is false unless the text is the
// canonical RFC 3339 form of a UTC time.
func (r *storedView) parseTime() (time.Time, bool) {
	s := r.val[r.time.lo:r.time.hi]
	t, err := time.Parse(time.RFC3339Nano, string(s))
	if err != nil {
		return time.Time{}, false
	}
	var buf [40]byte
	if !bytes.Equal(t.UTC().AppendFormat(buf[:0], time.RFC3339Nano), s) {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// scanner walks a stored value.
type scanner struct {
	b   []byte
	pos int
}

func (s *scanner) lit(l string) bool {
	if len(s.b)-s.pos < len(l) || string(s.b[s.pos:s.pos+len(l)]) != l {
		return false
	}
	s.pos += len(l)
	return true
}

// str reads a canonical string's content up to its closing quote (which it
// consumes): raw UTF-8 without control or format characters, `\\` and `\"`.
// esc reports whether the content holds an escape.
func (s *scanner) str() (sp span, esc, ok bool) {
	sp.lo = s.pos
	b := s.b
	for i := s.pos; i < len(b); {
		c := b[i]
		switch {
		case c == '"':
			sp.hi, s.pos = i, i+1
			return sp, esc, true
		case c == '\\':
			if i+1 >= len(b) || (b[i+1] != '\\' && b[i+1] != '"') {
				return sp, esc, false
			}
			esc = true
			i += 2
		case c < 0x20 || c == 0x7f:
			return sp, esc, false
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if (r == utf8.RuneError && size == 1) || unsafeRune(r) {
				return sp, esc, false
			}
			i += size
		}
	}
	return sp, esc, false
}

// digits reads a canonical non-negative integer (no sign, no leading zero).
func (s *scanner) digits() (span, bool) {
	lo := s.pos
	for s.pos < len(s.b) && s.b[s.pos] >= '0' && s.b[s.pos] <= '9' {
		s.pos++
	}
	n := s.pos - lo
	return span{lo, s.pos}, n > 0 && (n == 1 || s.b[lo] != '0')
}

// hex64 reads 64 lower-case hex digits and a closing quote.
func (s *scanner) hex64() (span, bool) {
	if len(s.b)-s.pos < 65 {
		return span{}, false
	}
	lo := s.pos
	var bad byte
	for _, c := range s.b[lo : lo+64] {
		bad |= notHex[c]
	}
	if bad != 0 {
		return span{}, false
	}
	s.pos += 64
	return span{lo, lo + 64}, s.lit(`"`)
}

// scanStored checks val against the stored form and finds its parts (see
// the comment at the top of this file). It does not check the hash, the
// chain, the time's form (parseTime does) or its order.
func scanStored(val []byte) (r storedView, ok bool) {
	r.val = val
	s := scanner{b: val}
	if !s.lit(`{"seq":`) {
		return r, false
	}
	sp, ok := s.digits()
	if !ok {
		return r, false
	}
	if r.seq, ok = parseUint(val[sp.lo:sp.hi]); !ok || !s.lit(`,"time":"`) {
		return r, false
	}
	if r.time, _, ok = s.str(); !ok {
		return r, false
	}
	for i, key := range strKeys {
		if !s.lit(key) {
			return r, false
		}
		if r.str[i], _, ok = s.str(); !ok {
			return r, false
		}
	}
	if !s.lit(`,"duration_ns":`) {
		return r, false
	}
	neg := s.lit("-")
	sp, ok = s.digits()
	if !ok || (neg && val[sp.lo] == '0') {
		return r, false
	}
	if _, err := strconv.ParseInt(string(val[sp.lo-btoi(neg):sp.hi]), 10, 64); err != nil {
		return r, false
	}
	if !s.lit(`,"fields":{`) || !s.fieldsObject(&r) || !s.lit(`,"data":"`) {
		return r, false
	}
	lo := s.pos
	for s.pos < len(val) && val[s.pos] != '"' {
		s.pos++
	}
	r.data = span{lo, s.pos}
	if !s.lit(`"`) || !canonicalBase64(val[lo:r.data.hi]) || !s.lit(`,"prev":"`) {
		return r, false
	}
	if r.prev, ok = s.hex64(); !ok {
		return r, false
	}
	r.hashAt = s.pos
	if !s.lit(`,"hash":"`) {
		return r, false
	}
	if r.hash, ok = s.hex64(); !ok || !s.lit("}") || s.pos != len(val) {
		return r, false
	}
	return r, true
}

// fieldsObject reads the fields object after its opening brace, through its
// closing brace: keys in strictly increasing byte order (a key holding an
// escape sends the record to the slow path).
func (s *scanner) fieldsObject(r *storedView) bool {
	r.fields.lo = s.pos
	if s.lit("}") {
		r.fields.hi = s.pos - 1
		return true
	}
	var prev []byte
	for first := true; ; first = false {
		if !first && !s.lit(",") {
			return false
		}
		if !s.lit(`"`) {
			return false
		}
		k, esc, ok := s.str()
		if !ok || esc {
			return false
		}
		key := s.b[k.lo:k.hi]
		if !first && bytes.Compare(prev, key) >= 0 {
			return false
		}
		prev = key
		if !s.lit(`:"`) {
			return false
		}
		if _, _, ok := s.str(); !ok {
			return false
		}
		if s.lit("}") {
			r.fields.hi = s.pos - 1
			return true
		}
	}
}

// canonicalBase64 reports whether b is standard base64 with padding that
// decodes and encodes back to itself.
func canonicalBase64(b []byte) bool {
	if len(b)%4 != 0 {
		return false
	}
	if len(b) == 0 {
		return true
	}
	for i, c := range b {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
		case c == '=' && i >= len(b)-2:
		default:
			return false
		}
	}
	// The last quantum carries the padding and the bits that must be zero.
	var out [3]byte
	_, err := base64.StdEncoding.Strict().Decode(out[:], b[len(b)-4:])
	return err == nil
}

// parseUint parses base-10 digits into a uint64; false on overflow.
func parseUint(b []byte) (uint64, bool) {
	var n uint64
	for _, c := range b {
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// notHex is 0 for the lower-case hex digits and 1 for every other byte.
var notHex = func() (t [256]byte) {
	for i := range t {
		if !(i >= '0' && i <= '9' || i >= 'a' && i <= 'f') {
			t[i] = 1
		}
	}
	return t
}()

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
