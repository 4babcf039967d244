package web

import (
	"slices"
	"testing"

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
