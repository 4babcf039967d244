package web

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/configs"
)

func TestIdentityFromClaims(t *testing.T) {
	var w configs.Web
	w.OIDC.UsernameClaim, w.OIDC.GroupsClaim, w.OIDC.EmailClaim = "preferred_username", "groups", "email"
	for _, tc := range []struct {
		name   string
		claims map[string]any
		groups []string
		err    bool
	}{
		{"two groups", map[string]any{"preferred_username": "a", "groups": []any{"ops", "viewers"}}, []string{"ops", "viewers"}, false},
		{"string group", map[string]any{"preferred_username": "a", "groups": "viewers"}, []string{"viewers"}, false},
		{"comma-separated groups", map[string]any{"preferred_username": "a", "groups": " ops, viewers,,"}, []string{"ops", "viewers"}, false},
		{"no groups", map[string]any{"preferred_username": "a"}, nil, false},
		{"null groups", map[string]any{"preferred_username": "a", "groups": nil}, nil, false},
		{"non-string group", map[string]any{"preferred_username": "a", "groups": []any{1, "ops", map[string]any{"x": "admin"}}}, []string{"ops"}, false},
		{"groups an object", map[string]any{"preferred_username": "a", "groups": map[string]any{"ops": true}}, nil, true},
		{"group too long", map[string]any{"preferred_username": "a", "groups": []any{strings.Repeat("g", 257)}}, nil, true},
		{"too many groups", map[string]any{"preferred_username": "a", "groups": strings.Repeat("g,", 1001)}, nil, true},
		{"no user", map[string]any{"groups": []any{"ops"}}, nil, true},
		{"user not a string", map[string]any{"preferred_username": 5, "groups": []any{"ops"}}, nil, true},
		{"user too long", map[string]any{"preferred_username": strings.Repeat("a", 129)}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := identityFromClaims(tc.claims, w)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if err == nil && (id.User != "a" || !slices.Equal(id.Groups, tc.groups)) {
				t.Fatalf("identity %+v, want groups %v", id, tc.groups)
			}
			if (tc.groups == nil && !tc.err) != (id.NoGroups != nil) && tc.name != "non-string group" {
				t.Fatalf("NoGroups = %v", id.NoGroups)
			}
		})
	}
}

// TestClaimPaths reads nested, namespaced and array claims, each claim
// from the first source that has it.
func TestClaimPaths(t *testing.T) {
	o := configs.OIDC{UsernameClaim: "https://example.com/login", EmailClaim: "contact.email", GroupsClaim: "realm_access.roles"}
	idToken := map[string]any{"https://example.com/login": "alice", "contact": map[string]any{"email": "alice@example.test"}}
	info := map[string]any{"realm_access": map[string]any{"roles": []any{"ops", "viewers"}}, "https://example.com/login": "mallory"}
	id, err := identityFrom(o, claimSource{whereIDToken, idToken}, claimSource{whereInfo, info})
	if err != nil {
		t.Fatal(err)
	}
	if id.User != "alice" || id.Email != "alice@example.test" || !slices.Equal(id.Groups, []string{"ops", "viewers"}) || id.NoGroups != nil {
		t.Fatalf("identity %+v", id)
	}
	// A path through a value that is not an object finds nothing.
	if _, ok := lookupClaim(map[string]any{"realm_access": "roles"}, "realm_access.roles"); ok {
		t.Error("path through a string")
	}
	if _, ok := lookupClaim(map[string]any{"realm_access": map[string]any{"roles": nil}}, "realm_access.roles"); ok {
		t.Error("null at the end of a path")
	}

	// Nothing anywhere: the error names the claim and both sources, and
	// never a value.
	_, err = identityFrom(o, claimSource{whereIDToken, map[string]any{"sub": "s"}}, claimSource{whereInfo, map[string]any{"login": "mallory"}})
	var mc *missingClaimError
	if !errors.As(err, &mc) {
		t.Fatalf("err = %v", err)
	}
	want := `claim "https://example.com/login" (user name) missing from the ID token and the userinfo answer`
	if err.Error() != want || !strings.Contains(mc.page(), "web.oidc.username_claim") || strings.Contains(mc.page(), "mallory") {
		t.Fatalf("error %q page %q", err, mc.page())
	}
	id, err = identityFrom(o, claimSource{whereIDToken, idToken})
	if err != nil || id.NoGroups == nil || !strings.Contains(id.NoGroups.page(), `claim "realm_access.roles"`) {
		t.Fatalf("no groups: %+v %v", id, err)
	}
	if !missingAny(o, idToken) || missingAny(o, map[string]any{"https://example.com/login": "a", "contact": map[string]any{"email": "e"}, "realm_access": map[string]any{"roles": "x"}}) {
		t.Error("missingAny")
	}
}

// TestLimitedBodies: an identity provider's answer longer than the bound
// fails to read instead of filling memory.
func TestLimitedBodies(t *testing.T) {
	b := &limitedBody{rc: nopCloser{strings.NewReader(strings.Repeat("x", 100))}, left: 10}
	var got []byte
	buf := make([]byte, 7)
	var err error
	for err == nil {
		var n int
		n, err = b.Read(buf)
		got = append(got, buf[:n]...)
	}
	if !errors.Is(err, errBodyTooLarge) || len(got) != 10 {
		t.Fatalf("read %d bytes, err %v", len(got), err)
	}
	b = &limitedBody{rc: nopCloser{strings.NewReader("0123456789")}, left: 10}
	got, err = readAll(b)
	if err != nil || string(got) != "0123456789" {
		t.Fatalf("exactly the bound: %q %v", got, err)
	}
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }

func readAll(b *limitedBody) ([]byte, error) {
	var out []byte
	buf := make([]byte, 4)
	for {
		n, err := b.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
	}
}
