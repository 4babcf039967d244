package service

import (
	"strings"
	"testing"
	"time"
	"unicode"
)

// FuzzParseTime: a time typed by a user parses to a UTC time that formats
// and parses back to the same instant, a duration ago is that long before
// now, and an error echoes the input only escaped.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2h", "0s", "-1h", "1h30m", "2026-11-24", "2026-11-24T10:00:00Z", "2026-11-24T10:00:00.5+02:00",
		"2026-11-24 10:00:00", "2026-11-24T10:00:00", "9999-12-31T23:59:59.999999999Z", "2562047h", "\x1b[2J", "\u202e2h", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 24, 16, 41, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s, now)
		if err != nil {
			if msg := err.Error(); strings.ContainsFunc(msg, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
				t.Fatalf("ParseTime(%q): error %q holds a raw control or format character", s, msg)
			}
			return
		}
		if d, derr := time.ParseDuration(s); derr == nil && d >= 0 {
			if !got.Equal(now.Add(-d)) {
				t.Fatalf("ParseTime(%q) = %v, want %v", s, got, now.Add(-d))
			}
			return
		}
		if got.Year() < 0 || got.Year() > 9999 {
			t.Fatalf("ParseTime(%q) = %v", s, got)
		}
		back, err := ParseTime(got.UTC().Format(time.RFC3339Nano), now)
		if err != nil || !back.Equal(got) {
			t.Fatalf("ParseTime(%q) = %v; formatted it parses to %v, %v", s, got, back, err)
		}
	})
}
