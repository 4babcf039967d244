package web

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/gateway/service"
)

// TestRevokeSessionsLeavesTombstones: a reload that disables a session's
// break-glass account turns the stored session into a tombstone holding
// only who and why; the next lookup answers with the reason, and sessions
// of accounts still in force are untouched.
func TestRevokeSessionsLeavesTombstones(t *testing.T) {
	s := newClockServer(t)
	st := *s.svc.(*service.Service).State()
	st.Accounts = service.NewAccounts(nil, []service.Account{{Name: "u", Roles: []string{"admin"}}, {Name: "v", Roles: []string{"admin"}}}, nil)
	s.svc.(*service.Service).Swap(&st)
	start := func(user string) *http.Cookie {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "https://127.0.0.1:8443/", nil)
		if _, err := s.startSession(rec, req, Session{User: user, Method: methodBreakGlass, RefreshToken: "rt-secret"}); err != nil {
			t.Fatal(err)
		}
		return rec.Result().Cookies()[0]
	}
	cu, cv := start("u"), start("v")
	lookup := func(c *http.Cookie) (*Session, error) {
		req := httptest.NewRequest(http.MethodGet, "https://127.0.0.1:8443/", nil)
		req.AddCookie(c)
		ss, _, err := s.session(req)
		return ss, err
	}

	st2 := *s.svc.(*service.Service).State()
	st2.Accounts = service.NewAccounts(nil, []service.Account{{Name: "u", Roles: []string{"admin"}, Disabled: true}, {Name: "v", Roles: []string{"viewer"}}}, nil)
	s.svc.(*service.Service).Swap(&st2)
	s.revokeSessions(context.Background())

	var tomb Session
	if err := s.store.get(bucketSessions, cu.Value, &tomb); err != nil {
		t.Fatal(err)
	}
	if tomb.Ended == "" || tomb.CSRF != "" || tomb.RefreshToken != "" || tomb.User != "u" {
		t.Fatalf("tombstone %+v", tomb)
	}
	var ended *sessionEnded
	if _, err := lookup(cu); !errors.As(err, &ended) || !strings.Contains(ended.page(), "the break-glass account is disabled") {
		t.Fatalf("lookup of the revoked session: %v", err)
	}
	if ss, err := lookup(cv); err != nil || ss.User != "v" {
		t.Fatalf("a session that only lost roles ended: %v", err)
	}
}
