package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/gateway/service"
)

// bmcTestHosts is BMC hosts with only what the BMC-host state needs.
func bmcTestHosts(now *time.Time) *bmcHosts {
	return newBMCHosts(bmcHostOptions{Now: func() time.Time { return *now }})
}

func TestTicketsOnceAndShortLived(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := bmcTestHosts(&now)
	a, err := s.issueTicket("user-session-id", "node01")
	if err != nil {
		t.Fatal(err)
	}
	if len(a) < 43 { // 32 random bytes, base64url
		t.Fatalf("short ticket %q", a)
	}
	if tk, ok := s.takeTicket(a); !ok || tk.bmc != "node01" || tk.userID != "user-session-id" {
		t.Fatalf("take: %+v %v", tk, ok)
	}
	if _, ok := s.takeTicket(a); ok {
		t.Fatal("ticket used twice")
	}
	b, _ := s.issueTicket("user-session-id", "node01")
	now = now.Add(ticketTTL + time.Second)
	if _, ok := s.takeTicket(b); ok {
		t.Fatal("expired ticket accepted")
	}
	if _, ok := s.takeTicket(""); ok {
		t.Fatal("empty ticket accepted")
	}
}

func TestTicketCap(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := bmcTestHosts(&now)
	for range maxTickets {
		if _, err := s.issueTicket("u", "node01"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.issueTicket("u", "node01"); err == nil {
		t.Fatal("no cap on tickets")
	}
	now = now.Add(ticketTTL + time.Second) // expired ones make room
	if _, err := s.issueTicket("u", "node01"); err != nil {
		t.Fatal(err)
	}
}

func TestHostSessionBoundToBMC(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := bmcTestHosts(&now)
	u := BMCHostUser{Caller: service.Caller{Session: "h1"}, Name: "alice", Expires: now.Add(time.Hour)}
	v, err := s.newHostSession("uid", u, "node01", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if s.hostSession(v, "node01") == nil {
		t.Fatal("own host refused")
	}
	if s.hostSession(v, "node02") != nil {
		t.Fatal("cookie of node01 accepted on node02")
	}
	if s.hostSession("uid", "node01") != nil || s.hostSession("", "node01") != nil {
		t.Fatal("a non-cookie value accepted")
	}
	now = now.Add(2 * time.Hour)
	if s.hostSession(v, "node01") != nil {
		t.Fatal("host session outlived its user session")
	}
}

func TestStripGatewayCookies(t *testing.T) {
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Cookie", "__Host-bmcgate=main; SID=bmc; __Host-bmcgate-bmc=x; __Host-bmcgate-other=y")
	stripGatewayCookies(r)
	if got := r.Header.Get("Cookie"); got != "SID=bmc" {
		t.Errorf("cookies forwarded: %q", got)
	}
}

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
		cached *BMCHostUser
	}
	open := func() (string, *hostSession) {
		rec := httptest.NewRecorder()
		if _, err := s.startSession(rec, req, Session{User: "u", Method: methodBreakGlass}); err != nil {
			t.Fatal(err)
		}
		id := rec.Result().Cookies()[0].Value
		return id, &hostSession{id: id}
	}
	hostUser := func(hs *hostSession) (BMCHostUser, error) {
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
