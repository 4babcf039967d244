package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// bmcTestServer is a Server with only what the BMC-host state needs.
func bmcTestServer(now *time.Time) *Server {
	s := &Server{now: func() time.Time { return *now }}
	s.bmc.tickets = map[[32]byte]ticket{}
	s.bmc.hosts = map[[32]byte]*hostSession{}
	return s
}

func TestTicketsOnceAndShortLived(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := bmcTestServer(&now)
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
	s := bmcTestServer(&now)
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
	s := bmcTestServer(&now)
	ss := &Session{Handle: "h1", User: "alice", Expires: now.Add(time.Hour)}
	v, err := s.newHostSession("uid", ss, "node01", "127.0.0.1")
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
// seen at once, and an expired one too.
func TestHostUserCachesTheSession(t *testing.T) {
	s := newClockServer(t)
	req := httptest.NewRequest(http.MethodGet, "https://127.0.0.1:8443/", nil)
	open := func() (string, *hostSession) {
		rec := httptest.NewRecorder()
		ss, err := s.startSession(rec, req, Session{User: "u", Method: methodBreakGlass})
		if err != nil {
			t.Fatal(err)
		}
		id := rec.Result().Cookies()[0].Value
		v, err := s.newHostSession(id, ss, "node01", "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		return id, s.hostSession(v, "node01")
	}
	id, hs := open()
	reads := func() uint64 { return s.store.sessionReads.Load() }
	before := reads()
	for range 50 {
		if ss, err := s.hostUser(req, hs); err != nil || ss.User != "u" {
			t.Fatalf("hostUser = %+v, %v", ss, err)
		}
	}
	if n := reads() - before; n != 1 {
		t.Fatalf("50 requests read the session store %d times, want 1", n)
	}
	s.now = s.now.Add(touchEvery + time.Second)
	if _, err := s.hostUser(req, hs); err != nil || reads()-before != 2 {
		t.Fatalf("after the copy's lifetime: %v, %d reads", err, reads()-before)
	}
	// Another session's end invalidates every copy: read again, still good.
	other, _ := open()
	must(t, s.store.delete(bucketSessions, other))
	if _, err := s.hostUser(req, hs); err != nil || reads()-before != 3 {
		t.Fatalf("after another session ended: %v, %d reads", err, reads()-before)
	}
	// This session's end is seen on the next request.
	ss, _, err := s.sessionByID(req, id)
	if err != nil {
		t.Fatal(err)
	}
	tomb := ss.tombstone("revoked by a test")
	must(t, s.store.put(bucketSessions, id, &tomb))
	if _, err := s.hostUser(req, hs); err == nil {
		t.Fatal("an ended session still served from its copy")
	}
	// Expiry is checked on the copy.
	_, hs = open()
	if _, err := s.hostUser(req, hs); err != nil {
		t.Fatal(err)
	}
	s.now = s.now.Add(31 * time.Minute)
	if _, err := s.hostUser(req, hs); err == nil {
		t.Fatal("an idle session still served from its copy")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
