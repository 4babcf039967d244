package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/gateway/bmchost"
)

// A request on a BMC host reads the user session from the store once per
// hostUserTTL, not per request; a session deleted or ended meanwhile is
// seen at once, and an expired one too. hostUser asks as the BMC hosts do:
// the last copy while it is fresh, else a read.
func TestHostUserCachesTheSession(t *testing.T) {
	s := newClockServer(t)
	users := bmcUsers{s.Server}
	req := httptest.NewRequest(http.MethodGet, "https://127.0.0.1:8443/", nil)
	type hostSession struct {
		id     string
		cached *bmchost.User
	}
	open := func() (string, *hostSession) {
		rec := httptest.NewRecorder()
		if _, err := s.startSession(rec, req, Session{User: "u", Method: methodBreakGlass}); err != nil {
			t.Fatal(err)
		}
		id := rec.Result().Cookies()[0].Value
		return id, &hostSession{id: id}
	}
	hostUser := func(hs *hostSession) (bmchost.User, error) {
		if hs.cached != nil && hs.cached.Fresh() {
			return *hs.cached, nil
		}
		u, err := users.User(req, hs.id)
		if err != nil {
			hs.cached = nil
			return u, err
		}
		hs.cached = &u
		return u, nil
	}
	id, hs := open()
	reads := func() uint64 { return s.store.sessionReads.Load() }
	before := reads()
	for range 50 {
		if u, err := hostUser(hs); err != nil || u.Name != "u" {
			t.Fatalf("hostUser = %+v, %v", u, err)
		}
	}
	if n := reads() - before; n != 1 {
		t.Fatalf("50 requests read the session store %d times, want 1", n)
	}
	s.now = s.now.Add(touchEvery + time.Second)
	if _, err := hostUser(hs); err != nil || reads()-before != 2 {
		t.Fatalf("after the copy's lifetime: %v, %d reads", err, reads()-before)
	}
	// Another session's end invalidates every copy: read again, still good.
	other, _ := open()
	must(t, s.store.delete(bucketSessions, other))
	if _, err := hostUser(hs); err != nil || reads()-before != 3 {
		t.Fatalf("after another session ended: %v, %d reads", err, reads()-before)
	}
	// This session's end is seen on the next request.
	ss, _, err := s.sessionByID(req, id)
	if err != nil {
		t.Fatal(err)
	}
	tomb := ss.tombstone("revoked by a test")
	must(t, s.store.put(bucketSessions, id, &tomb))
	if _, err := hostUser(hs); err == nil {
		t.Fatal("an ended session still served from its copy")
	}
	// Expiry is checked on the copy.
	_, hs = open()
	if _, err := hostUser(hs); err != nil {
		t.Fatal(err)
	}
	s.now = s.now.Add(31 * time.Minute)
	if _, err := hostUser(hs); err == nil {
		t.Fatal("an idle session still served from its copy")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
