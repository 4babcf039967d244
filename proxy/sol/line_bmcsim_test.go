package sol

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

const (
	testUser     = "soluser"
	testPassword = "sol-test-pass-1"
)

// capture collects a line's output and statuses.
type capture struct {
	mu     sync.Mutex
	out    bytes.Buffer
	states []Status
	ch     chan struct{}
}

func newCapture() *capture { return &capture{ch: make(chan struct{}, 1)} }

func (c *capture) output(p []byte) {
	c.mu.Lock()
	c.out.Write(p)
	c.mu.Unlock()
	c.notify()
}

func (c *capture) status(s Status) {
	c.mu.Lock()
	c.states = append(c.states, s)
	c.mu.Unlock()
	c.notify()
}

func (c *capture) notify() {
	select {
	case c.ch <- struct{}{}:
	default:
	}
}

func (c *capture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

func (c *capture) has(st State) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.states {
		if s.State == st {
			return true
		}
	}
	return false
}

// waitFor waits until cond holds or fails the test after d.
func (c *capture) waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(d)
	for !cond() {
		select {
		case <-c.ch:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s; output %q", what, c.String())
		}
	}
}

func startSim(t testing.TB) *bmcsim.BMC {
	t.Helper()
	b, err := bmcsim.Start(t.Context(), "solsim", bmcsim.Options{Username: testUser, Password: testPassword, SOL: true, Privilege: "operator"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func endpoint(addr string) ipmi.Endpoint {
	host, port, _ := net.SplitHostPort(addr)
	var p int
	fmt.Sscan(port, &p)
	return ipmi.Endpoint{Name: "solsim", Host: host, Port: p, Username: testUser, Password: testPassword, CipherSuite: 3}
}

func openLine(t testing.TB, ep ipmi.Endpoint, c *capture, o Options) *Line {
	t.Helper()
	o.OnOutput, o.OnStatus = c.output, c.status
	l := Open(ep, o)
	t.Cleanup(l.Close)
	return l
}

func TestLineEchoBmcsim(t *testing.T) {
	sim := startSim(t)
	c := newCapture()
	l := openLine(t, endpoint(sim.Addr()), c, Options{})
	c.waitFor(t, 10*time.Second, "login prompt", func() bool { return strings.Contains(c.String(), "login: ") })
	if l.State() != StateActive {
		t.Fatalf("state %v, want active", l.State())
	}
	if _, err := l.Write([]byte("root\r")); err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, 5*time.Second, "echo", func() bool { return strings.Contains(c.String(), "login: root\r\n") })
	// A long paste goes through in chunks, in order.
	long := strings.Repeat("0123456789abcdef", 64)
	if _, err := l.Write([]byte(long)); err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, 10*time.Second, "long echo", func() bool { return strings.Contains(c.String(), long) })
	l.Break()
	l.Close()
	if l.State() != StateClosed {
		t.Fatalf("state after close %v", l.State())
	}
	if _, err := l.Write([]byte("x")); err == nil {
		t.Fatal("write after close succeeded")
	}
}

func TestLineWrongPassword(t *testing.T) {
	sim := startSim(t)
	c := newCapture()
	ep := endpoint(sim.Addr())
	ep.Password = "wrong-password"
	openLine(t, ep, c, Options{ReconnectMin: 50 * time.Millisecond, ReconnectMax: 100 * time.Millisecond})
	c.waitFor(t, 10*time.Second, "dropped status", func() bool { return c.has(StateDropped) })
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.states {
		if strings.Contains(s.Msg, "wrong-password") || (s.Err != nil && strings.Contains(s.Err.Error(), "wrong-password")) {
			t.Fatalf("status leaks the password: %+v", s)
		}
	}
}

func TestLineOverflow(t *testing.T) {
	l := &Line{opts: Options{InputBuffer: 4}.withDefaults(), wake: make(chan struct{}, 1), state: StateActive}
	n, err := l.Write([]byte("abcdef"))
	if n != 4 || err != ErrOverflow {
		t.Fatalf("Write = %d, %v; want 4, ErrOverflow", n, err)
	}
	in, _ := l.peekInput(maxChunk)
	if string(in) != "abcd" {
		t.Fatalf("queued %q", in)
	}
	_ = context.Background()
}

// TestLineBreakDuringPaste: a break asked for while input is on its way to
// the BMC goes out with a later packet rather than being dropped when the
// packet in flight (which carried no break) is acknowledged.
func TestLineBreakDuringPaste(t *testing.T) {
	sim := startSim(t)
	c := newCapture()
	l := openLine(t, endpoint(sim.Addr()), c, Options{})
	c.waitFor(t, 10*time.Second, "login prompt", func() bool { return strings.Contains(c.String(), "login: ") })
	long := strings.Repeat("0123456789abcdef", 512)
	if _, err := l.Write([]byte(long)); err != nil {
		t.Fatal(err)
	}
	// Ask for the break once the paste is flowing: the first echo is back
	// and more input is still waiting.
	c.waitFor(t, 10*time.Second, "first echo", func() bool { return strings.Contains(c.String(), "0123456789abcdef") })
	if in, brk := l.peekInput(maxChunk); len(in) == 0 || brk {
		t.Fatalf("paste already sent (%d bytes pending, break %v)", len(in), brk)
	}
	l.Break()
	c.waitFor(t, 20*time.Second, "long echo", func() bool { return strings.Contains(c.String(), long) })
	deadline := time.Now().Add(5 * time.Second)
	for sim.Breaks() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the break asked for during the paste never reached the host")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
