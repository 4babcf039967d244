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

func TestHostHelpers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		host string
		port int
		ok   bool
	}{
		{"Node01.LocalHost:8443", "node01.localhost", 8443, true},
		{"node01.localhost", "node01.localhost", 443, true},
		{"[::1]:443", "::1", 443, true},
		{"[::1]", "::1", 443, true},
		{"node01.localhost:9999", "node01.localhost", 9999, true},
		{"node01.localhost:", "", 0, false},
		{"node01.localhost:0", "", 0, false},
		{"node01.localhost:65536", "", 0, false},
		{"node01.localhost:x", "", 0, false},
		{"::1", "", 0, false},
		{":443", "", 0, false},
		{"", "", 0, false},
	} {
		host, port, ok := hostPort(tc.in)
		if host != tc.host || port != tc.port || ok != tc.ok {
			t.Errorf("hostPort(%q) = %q %d %v, want %q %d %v", tc.in, host, port, ok, tc.host, tc.port, tc.ok)
		}
	}
	for h, want := range map[string]bool{"node01.localhost": true, "localhost": false, "node01.xlocalhost": false, "": false} {
		if got := underDomain(h, "localhost"); got != want {
			t.Errorf("underDomain(%q) = %v", h, got)
		}
	}
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Cookie", "__Host-bmcgate=main; SID=bmc; __Host-bmcgate-bmc=x; __Host-bmcgate-other=y")
	stripGatewayCookies(r)
	if got := r.Header.Get("Cookie"); got != "SID=bmc" {
		t.Errorf("cookies forwarded: %q", got)
	}
}

func TestCrossSiteRefusal(t *testing.T) {
	own := func(o string) bool { return o == "https://node01.bmc.test" || o == "https://node01.bmc.test:15900" }
	for _, tc := range []struct {
		method, site, mode, dest, origin string
		refused                          bool
	}{
		{"GET", "", "", "", "", false}, // no Fetch Metadata (old browsers, tools)
		{"GET", "same-origin", "cors", "empty", "", false},
		{"GET", "same-origin", "navigate", "iframe", "", false}, // a BMC UI framing itself
		{"GET", "none", "navigate", "document", "", false},      // typed, bookmarked
		{"GET", "same-site", "navigate", "document", "", false}, // from the dashboard
		{"GET", "cross-site", "navigate", "document", "", false},
		{"HEAD", "cross-site", "navigate", "document", "", false},
		{"GET", "same-site", "websocket", "websocket", "https://node01.bmc.test", false}, // own extra port
		{"POST", "same-site", "cors", "empty", "https://node01.bmc.test:15900", false},
		{"GET", "same-site", "navigate", "iframe", "", true},
		{"GET", "same-site", "navigate", "frame", "", true},
		{"GET", "cross-site", "navigate", "iframe", "", true},
		{"GET", "same-site", "no-cors", "embed", "", true},
		{"GET", "same-site", "no-cors", "object", "", true},
		{"GET", "same-site", "no-cors", "image", "", true},
		{"GET", "same-site", "no-cors", "script", "", true},
		{"GET", "same-site", "cors", "empty", "https://node02.bmc.test", true},
		{"GET", "same-site", "websocket", "websocket", "https://node02.bmc.test", true},
		{"POST", "same-site", "navigate", "document", "https://node02.bmc.test", true},
		{"POST", "cross-site", "navigate", "document", "null", true},
	} {
		r, _ := http.NewRequest(tc.method, "https://node01.bmc.test/", nil)
		for k, v := range map[string]string{"Sec-Fetch-Site": tc.site, "Sec-Fetch-Mode": tc.mode, "Sec-Fetch-Dest": tc.dest, "Origin": tc.origin} {
			if v != "" {
				r.Header.Set(k, v)
			}
		}
		if got := crossSiteRefusal(r, own); (got != "") != tc.refused {
			t.Errorf("%+v: refusal %q", tc, got)
		}
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
