package audit

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "alice@127.0.0.1:5555 power.on", "alice@127.0.0.1:5555 power.on"},
		{"unicode text", "Grüße 日本 🙂", "Grüße 日本 🙂"},
		{"clear screen", "\x1b[2J\x1b[H", `\x1b[2J\x1b[H`},
		{"OSC 52 clipboard", "\x1b]52;c;cm0gLXJmIH4=\x07", `\x1b]52;c;cm0gLXJmIH4=\x07`},
		{"OSC 52 with ST", "\x1b]52;c;eA==\x1b\\", `\x1b]52;c;eA==\x1b\\`},
		{"title set with C1 ST", "\x1b]0;pwned\u009c", `\x1b]0;pwned\u009c`},
		{"raw C1 byte", "\x1b]0;pwned\x9c", `\x1b]0;pwned\x9c`},
		{"C1 CSI and NEL", "a\u009b2Jb\u0085c", `a\u009b2Jb\u0085c`},
		{"bidi override", "invoice\u202Etxt.exe", `invoice\u202etxt.exe`},
		{"bidi embeddings", "\u202a\u202b\u202c\u202d", `\u202a\u202b\u202c\u202d`},
		{"bidi isolates", "\u2066a\u2067b\u2068c\u2069", `\u2066a\u2067b\u2068c\u2069`},
		{"bidi marks", "\u200e\u200f\u061c", `\u200e\u200f\u061c`},
		{"zero width and BOM", "ad\u200bmin\ufeff", `ad\u200bmin\ufeff`},
		{"soft hyphen", "ro\u00adot", `ro\u00adot`},
		{"tag characters", "x\U000E0041\U000E007F", `x\U000e0041\U000e007f`},
		{"line separators", "a\u2028b\u2029c", `a\u2028b\u2029c`},
		{"invalid UTF-8", "a\xffb\xfe", `a\xffb\xfe`},
		{"truncated UTF-8", "\xe2\x82", `\xe2\x82`},
		{"surrogate encoded", "\xed\xa0\x80", `\xed\xa0\x80`},
		{"overlong encoding", "\xc0\xaf", `\xc0\xaf`},
		{"backslash", `C:\path`, `C:\\path`},
		{"escape-looking text", `\x1b`, `\\x1b`},
		{"NUL", "a\x00b", `a\x00b`},
		{"newline CR tab", "a\nb\rc\td", `a\nb\rc\td`},
		{"DEL", "a\x7f", `a\x7f`},
		{"replacement char kept", "\ufffd", "\ufffd"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Sanitize(tt.in)
			if got != tt.want {
				t.Fatalf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			checkSafe(t, got)
			checkSafe(t, Sanitize(got))
			if displaySafe(got) != got {
				t.Fatalf("displaySafe changed sanitized %q", got)
			}
		})
	}
}

func TestSanitizeTruncates(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		prefix string // the kept part must consist of repetitions of this
	}{
		{"ascii", strings.Repeat("a", 5000), "a"},
		{"escapes at the cut", strings.Repeat("\x1b", 2000), `\x1b`},
		{"multibyte", strings.Repeat("日", 2000), "日"},
		{"wide escapes", strings.Repeat("\U000E0041", 1000), `\U000e0041`},
		{"huge", strings.Repeat("z", 10<<20), "z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Sanitize(tt.in)
			if len(got) > MaxFieldLen || !strings.HasSuffix(got, truncMark) {
				t.Fatalf("len %d, suffix %q", len(got), got[max(0, len(got)-20):])
			}
			kept := strings.TrimSuffix(got, truncMark)
			if strings.ReplaceAll(kept, tt.prefix, "") != "" || len(kept)+len(tt.prefix) <= MaxFieldLen-len(truncMark) {
				t.Fatalf("cut in the middle of an escape or too early: %d bytes kept", len(kept))
			}
			checkSafe(t, got)
		})
	}
	exact := strings.Repeat("b", MaxFieldLen)
	if Sanitize(exact) != exact {
		t.Fatal("a string of exactly MaxFieldLen bytes was truncated")
	}
}

func TestSanitizeRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "\\", "\x1b", "\x00", "\x7f", "\xff", "\u202e", "\u0085", "é", "日", "\U000E0041", "\n", "\xe2"}
	for range 2000 {
		var b strings.Builder
		for range rng.IntN(40) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		got := Sanitize(b.String())
		checkSafe(t, got)
		checkSafe(t, Sanitize(got))
	}
}

func TestSanitizeNoAllocForCleanInput(t *testing.T) {
	s := strings.Repeat("alice@10.0.0.1 power.on node01 ", 10)
	if n := testing.AllocsPerRun(100, func() { _ = Sanitize(s) }); n != 0 {
		t.Fatalf("Sanitize allocated %v times for clean input", n)
	}
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"", "a\x1b[2J", "\u202e", "\xff", `\\`, strings.Repeat("\x1b", 1500)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Sanitize(s)
		checkSafe(t, got)
		if len(s) <= MaxFieldLen/10 && !strings.HasSuffix(got, truncMark) && len(got) < len(s) {
			t.Fatalf("Sanitize lost bytes: %q -> %q", s, got)
		}
	})
}

// checkSafe fails if s is invalid UTF-8, too long, or contains a character
// that must be escaped.
func checkSafe(t *testing.T, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("invalid UTF-8: %q", s)
	}
	if len(s) > MaxFieldLen {
		t.Fatalf("%d bytes, more than MaxFieldLen", len(s))
	}
	if i := strings.IndexFunc(s, unsafeRune); i >= 0 {
		t.Fatalf("unsafe character at %d in %q", i, s)
	}
}
