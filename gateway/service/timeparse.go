package service

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// timeLayouts are the absolute forms ParseTime reads, in UTC unless they
// carry an offset.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05", "2006-01-02T15:04",
	"2006-01-02 15:04:05", "2006-01-02 15:04",
	"2006-01-02",
}

// dayUnits matches the day and week parts of a duration ("7d", "1w2d3h").
var dayUnits = regexp.MustCompile(`^(?:(\d+)w)?(?:(\d+)d)?(.*)$`)

// ParseTime reads a time typed by a user, the same everywhere a time is
// typed (SSH and offline `audit search`, the web audit page and the API):
// RFC 3339 (2026-11-24T10:00:00Z, with an offset, or without seconds), a
// date or date-time in UTC (2026-11-24, 2026-11-24 10:00), or a duration
// meaning that long before now (2h, 90m, 1h30m, 7d, 1w; "ago" may follow).
// An RFC 3339 offset whose "+" became a space in a URL query is accepted.
func ParseTime(s string, now time.Time) (time.Time, error) {
	t := strings.TrimSpace(s)
	if d, ok := parseAgo(t); ok {
		return now.Add(-d), nil
	}
	u := strings.ToUpper(t)
	if len(u) > 10 && u[10] == 'T' || len(u) > 10 && u[10] == ' ' {
		// 2026-11-24T10:00:00 01:00: a "+" lost to URL decoding.
		if i := strings.LastIndexByte(u, ' '); i > 10 && len(u)-i == 6 && u[i+3] == ':' {
			u = u[:i] + "+" + u[i+1:]
		}
	}
	for _, layout := range timeLayouts {
		if tm, err := time.ParseInLocation(layout, u, time.UTC); err == nil {
			return tm, nil
		}
	}
	return time.Time{}, &UserError{Msg: quote(s) + " is not a time: use RFC 3339 (2026-11-24T10:00:00Z), a date (2026-11-24) or a duration ago (2h, 7d)"}
}

// parseAgo reads a non-negative duration with optional w and d units.
func parseAgo(s string) (time.Duration, bool) {
	s = strings.TrimSpace(strings.TrimSuffix(s, "ago"))
	m := dayUnits.FindStringSubmatch(s)
	if m == nil || s == "" {
		return 0, false
	}
	var d time.Duration
	for i, u := range []struct {
		unit time.Duration
		max  int
	}{{7 * 24 * time.Hour, 5000}, {24 * time.Hour, 30000}} { // about 100 years each: no overflow
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.Atoi(m[i+1])
		if err != nil || n > u.max {
			return 0, false
		}
		d += time.Duration(n) * u.unit
	}
	if rest := m[3]; rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil || r < 0 || r > math.MaxInt64-d {
			return 0, false
		}
		d += r
	} else if m[1] == "" && m[2] == "" {
		return 0, false
	}
	return d, true
}
