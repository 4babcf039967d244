package web

import (
	"slices"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/configs"
)

func TestIdentityFromClaims(t *testing.T) {
	var w configs.Web
	w.OIDC.UsernameClaim, w.OIDC.GroupsClaim = "preferred_username", "groups"
	for _, tc := range []struct {
		name   string
		claims map[string]any
		groups []string
		err    bool
	}{
		{"two groups", map[string]any{"preferred_username": "a", "groups": []any{"ops", "viewers"}}, []string{"ops", "viewers"}, false},
		{"string group", map[string]any{"preferred_username": "a", "groups": "viewers"}, []string{"viewers"}, false},
		{"no groups", map[string]any{"preferred_username": "a"}, nil, false},
		{"non-string group", map[string]any{"preferred_username": "a", "groups": []any{1, "ops"}}, []string{"ops"}, false},
		{"no user", map[string]any{"groups": []any{"ops"}}, nil, true},
		{"user not a string", map[string]any{"preferred_username": 5, "groups": []any{"ops"}}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := identityFromClaims(tc.claims, w)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if err == nil && (id.User != "a" || !slices.Equal(id.Groups, tc.groups)) {
				t.Fatalf("identity %+v, want groups %v", id, tc.groups)
			}
		})
	}
}

func TestLoginLimiter(t *testing.T) {
	l := newLoginLimiter(configs.WebLoginLimits{MaxFailures: 3, Window: configs.Duration{Duration: time.Minute},
		Lockout: configs.Duration{Duration: 10 * time.Minute}, PerSourcePerMinute: 2})
	now := time.Now()
	for i, want := range []bool{true, true, false} {
		if got := l.allowSource("a", now); got != want {
			t.Fatalf("attempt %d from one source: allowed %v", i+1, got)
		}
	}
	if !l.allowSource("a", now.Add(61*time.Second)) || !l.allowSource("b", now) {
		t.Fatal("per-source limit does not reset or is not per source")
	}
	// Failures spread wider than the window do not lock.
	l.fail("u", now)
	l.fail("u", now.Add(2*time.Minute))
	if l.fail("u", now.Add(2*time.Minute+time.Second)) || l.isLocked("u", now.Add(2*time.Minute)) {
		t.Fatal("locked by failures outside the window")
	}
	if !l.fail("u", now.Add(2*time.Minute+2*time.Second)) || !l.isLocked("u", now.Add(3*time.Minute)) {
		t.Fatal("not locked after 3 failures in the window")
	}
	if l.isLocked("u", now.Add(13*time.Minute)) {
		t.Fatal("lockout did not end")
	}
}
