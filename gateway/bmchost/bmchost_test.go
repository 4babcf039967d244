package bmchost

import (
	"net/http"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/gateway/service"
)

// bmcTestHosts is BMC hosts with only what the BMC-host state needs.
func bmcTestHosts(now *time.Time) *Hosts {
	return New(Options{Now: func() time.Time { return *now }})
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
	u := User{Caller: service.Caller{Session: "h1"}, Name: "alice", Expires: now.Add(time.Hour)}
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
