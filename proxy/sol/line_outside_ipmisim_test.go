package sol

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
)

// ipmitoolRun runs one ipmitool command (no terminal) against ipmi_sim.
func ipmitoolRun(t *testing.T, addr string, args ...string) string {
	t.Helper()
	ipmisim.RequireBinaries(t, "ipmitool")
	port := addr[strings.LastIndex(addr, ":")+1:]
	base := []string{"-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", port, "-U", "admin", "-P", "password"}
	out, err := exec.Command("ipmitool", append(base, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ipmitool %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// waitOperational waits until an outside `ipmitool sol activate` holds the
// payload.
func waitOperational(t *testing.T, out func() string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(out(), "SOL Session operational") {
		if time.Now().After(deadline) {
			t.Fatalf("ipmitool did not activate SOL: %q", out())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// statesSince returns the statuses reported after the first n.
func (c *capture) statesSince(n int) []Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Status(nil), c.states[n:]...)
}

func (c *capture) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.states)
}

// TestLineNoticesOutsideDeactivateWhileIdle: an outside `sol deactivate`
// while nothing is typed is noticed by the payload check (not at the next
// keystroke), reported, and the line activates the free payload again.
func TestLineNoticesOutsideDeactivateWhileIdle(t *testing.T) {
	sim, host, ep := startIPMISim(t)
	c := newCapture()
	l := openLine(t, ep, c, Options{PayloadCheck: 300 * time.Millisecond, ReconnectMin: 100 * time.Millisecond, ReconnectMax: 200 * time.Millisecond})
	c.waitFor(t, 10*time.Second, "active", func() bool { return l.State() == StateActive })
	n := c.count()
	ipmitoolRun(t, sim.Addr, "sol", "deactivate")
	c.waitFor(t, 20*time.Second, "the loss reported", func() bool {
		for _, s := range c.statesSince(n) {
			if s.State == StateDropped {
				return true
			}
		}
		return false
	})
	c.waitFor(t, 20*time.Second, "active again", func() bool { return l.State() == StateActive })
	if _, err := l.Write([]byte("back\r")); err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, 10*time.Second, "echo", func() bool { return strings.HasSuffix(string(host.Received()), "back\r") })
}

// TestLineOutsideTakeoverIsNotUndone: an outside client deactivates the
// line's payload and activates its own while the line is idle. The line
// reports that another client holds the console, refuses input, and never
// deactivates the other client's payload, until a takeover is allowed.
func TestLineOutsideTakeoverIsNotUndone(t *testing.T) {
	sim, host, ep := startIPMISim(t)
	c := newCapture()
	var lost []string
	l := openLine(t, ep, c, Options{PayloadCheck: 300 * time.Millisecond, ReconnectMin: 100 * time.Millisecond, ReconnectMax: 400 * time.Millisecond,
		OnInputLost: func(p []byte, why string) { lost = append(lost, string(p)) }})
	c.waitFor(t, 10*time.Second, "active", func() bool { return l.State() == StateActive })
	n := c.count()
	ipmitoolRun(t, sim.Addr, "sol", "deactivate")
	_, out := ipmitoolSOL(t, sim.Addr)
	waitOperational(t, out)
	var busy Status
	c.waitFor(t, 20*time.Second, "busy status", func() bool {
		for _, s := range c.statesSince(n) {
			if s.State == StateBusy {
				busy = s
				return true
			}
		}
		return false
	})
	if busy.Holder == nil || busy.Holder.SessionID == 0 {
		t.Fatalf("busy status without the holder: %+v", busy)
	}
	t.Logf("status: %s", busy.Msg)
	// Typing now is refused, and several re-checks later the outside
	// client still holds the payload.
	if _, err := l.Write([]byte("mine\r")); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("Write while another client holds the console: %v", err)
	}
	m := c.count()
	c.waitFor(t, 20*time.Second, "re-checks", func() bool {
		k := 0
		for _, s := range c.statesSince(m) {
			if s.State == StateBusy {
				k++
			}
		}
		return k >= 3
	})
	if strings.Contains(out(), "deactivated") || l.State() == StateActive {
		t.Fatalf("the outside client lost the console (state %v): %q", l.State(), out())
	}
	if strings.Contains(string(host.Received()), "mine") {
		t.Fatalf("refused input reached the host: %q", host.Received())
	}
	l.Takeover()
	c.waitFor(t, 20*time.Second, "active after takeover", func() bool { return l.State() == StateActive })
	if _, err := l.Write([]byte("taken\r")); err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, 10*time.Second, "echo after takeover", func() bool { return strings.HasSuffix(string(host.Received()), "taken\r") })
}
