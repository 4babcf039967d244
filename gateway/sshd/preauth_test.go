package sshd

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/configs"
	gossh "golang.org/x/crypto/ssh"
)

func TestPreauthPerSource(t *testing.T) {
	p := newPreauth(configs.Startups{Start: 100, Rate: 30, Full: 200}, 3, func(int) int { return 99 })
	for i := 0; i < 3; i++ {
		if ok, why := p.admit("192.0.2.1"); !ok {
			t.Fatalf("connection %d refused: %+v", i, why)
		}
	}
	ok, why := p.admit("192.0.2.1")
	if ok || why.class != "per-source pre-auth limit" || !strings.Contains(why.reason, "3 unauthenticated connections from 192.0.2.1") {
		t.Fatalf("fourth from one source: %v %+v", ok, why)
	}
	if ok, _ := p.admit("192.0.2.2"); !ok {
		t.Fatal("another source refused")
	}
	p.release("192.0.2.1")
	if ok, _ := p.admit("192.0.2.1"); !ok {
		t.Fatal("a released slot was not given back")
	}
	if total, from := p.counts("192.0.2.1"); total != 4 || from != 3 {
		t.Fatalf("counts %d %d", total, from)
	}
	for i := 0; i < 3; i++ {
		p.release("192.0.2.1")
	}
	p.release("192.0.2.2")
	if total, _ := p.counts("192.0.2.1"); total != 0 || len(p.bySrc) != 0 {
		t.Fatalf("after release: total %d, sources %v", total, p.bySrc)
	}
}

func TestPreauthRandomEarlyDrop(t *testing.T) {
	l := configs.Startups{Start: 10, Rate: 30, Full: 20}
	tests := []struct {
		held    int // unauthenticated connections already held
		roll    int // the random draw in [0,100)
		wantOK  bool
		wantPct int
	}{
		{held: 9, roll: 0, wantOK: true},                 // below start: never dropped
		{held: 10, roll: 29, wantOK: false, wantPct: 30}, // at start: rate%
		{held: 10, roll: 30, wantOK: true},
		{held: 15, roll: 64, wantOK: false, wantPct: 65}, // halfway: 30 + 70/2
		{held: 15, roll: 65, wantOK: true},
		{held: 19, roll: 92, wantOK: false, wantPct: 93},
		{held: 19, roll: 93, wantOK: true},
		{held: 20, roll: 99, wantOK: false}, // full: always
	}
	for _, tt := range tests {
		roll := tt.roll
		p := newPreauth(l, 1, func(n int) int {
			if n != 100 {
				t.Fatalf("intn(%d)", n)
			}
			return roll
		})
		for i := 0; i < tt.held; i++ {
			p.total++ // from many sources
		}
		ok, why := p.admit("198.51.100.1")
		if ok != tt.wantOK {
			t.Errorf("held %d roll %d: admitted=%v (%+v), want %v", tt.held, tt.roll, ok, why, tt.wantOK)
		}
		if tt.wantPct != 0 && !strings.Contains(why.reason, "probability "+strconv.Itoa(tt.wantPct)+"%") {
			t.Errorf("held %d: reason %q, want probability %d%%", tt.held, why.reason, tt.wantPct)
		}
	}
	if dropPercent(configs.Startups{Start: 5, Rate: 30, Full: 5}, 5) != 100 {
		t.Error("start == full must drop everything")
	}
}

func TestRefusedAllowance(t *testing.T) {
	st := &connState{}
	now := time.Unix(1000, 0)
	for i := 0; i < 5; i++ {
		if st.takeRefused(now, 5) {
			t.Fatalf("burst of 5: exhausted at %d", i)
		}
	}
	if !st.takeRefused(now, 5) {
		t.Fatal("sixth in a burst of 5 not refused")
	}
	if st.takeRefused(now, 5) {
		t.Fatal("exhaustion reported twice")
	}
	// A slow client refills: one per second is never cut off.
	st = &connState{}
	for i := 0; i < 100; i++ {
		if st.takeRefused(now.Add(time.Duration(i)*time.Second), 2) {
			t.Fatalf("one refusal a second cut off at %d", i)
		}
	}
}

func TestDestinations(t *testing.T) {
	direct := gossh.Marshal(struct {
		Host     string
		Port     uint32
		OrigHost string
		OrigPort uint32
	}{"10.1.2.3", 22, "127.0.0.1", 5555})
	if got := channelDestination("direct-tcpip", direct); got != "10.1.2.3:22" {
		t.Errorf("direct-tcpip: %q", got)
	}
	v6 := gossh.Marshal(struct {
		Host     string
		Port     uint32
		OrigHost string
		OrigPort uint32
	}{"2001:db8::1", 443, "", 0})
	if got := channelDestination("direct-tcpip", v6); got != "[2001:db8::1]:443" {
		t.Errorf("direct-tcpip v6: %q", got)
	}
	sock := gossh.Marshal(struct {
		Path, Reserved string
		Port           uint32
	}{"/run/docker.sock", "", 0})
	if got := channelDestination("direct-streamlocal@openssh.com", sock); got != "/run/docker.sock" {
		t.Errorf("streamlocal: %q", got)
	}
	fwd := gossh.Marshal(struct {
		Addr string
		Port uint32
	}{"0.0.0.0", 8080})
	if got := globalDestination("tcpip-forward", fwd); got != "0.0.0.0:8080" {
		t.Errorf("tcpip-forward: %q", got)
	}
	long := gossh.Marshal(struct {
		Addr string
		Port uint32
	}{strings.Repeat("a", 5000), 1})
	if got := globalDestination("tcpip-forward", long); len(got) > maxDestinationLen+10 {
		t.Errorf("unbounded destination of %d bytes", len(got))
	}
	if got := channelDestination("direct-tcpip", []byte{1, 2}); got != "" {
		t.Errorf("garbage: %q", got)
	}
	if got := channelDestination("x11", direct); got != "" {
		t.Errorf("x11: %q", got)
	}
}
