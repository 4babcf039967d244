package core

import (
	"fmt"
	"time"
)

// ParseTime reads a time typed by a user: RFC 3339, a date or date-time
// in UTC, or a duration meaning that long before now ("2h").
func ParseTime(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2026-11-24T10:00:00Z), a date (2026-11-24) or a duration ago (2h)", safe(s))
}
