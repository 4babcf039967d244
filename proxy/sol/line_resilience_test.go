package sol

import (
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
)

// ipmitoolSOL runs `ipmitool sol activate` in a pseudo-terminal (it needs
// one) and returns a function giving its output so far.
func ipmitoolSOL(t *testing.T, addr string) (*os.File, func() string) {
	t.Helper()
	ipmisim.RequireBinaries(t, "ipmitool")
	port := addr[strings.LastIndex(addr, ":")+1:]
	cmd := exec.Command("ipmitool", "-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", port,
		"-U", "admin", "-P", "password", "sol", "activate")
	tty, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var out strings.Builder
	done := make(chan struct{})
	go func() {
		buf := make([]byte, 1024)
		for {
			n, err := tty.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				break
			}
		}
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		_ = tty.Close()
	})
	return tty, func() string {
		mu.Lock()
		defer mu.Unlock()
		return out.String()
	}
}

// TestLinePayloadBusyAndTakeover: an outside ipmitool holds the payload;
// the line reports who, and takes over only when allowed.
func TestLinePayloadBusyAndTakeover(t *testing.T) {
	sim, host, ep := startIPMISim(t)
	_, out := ipmitoolSOL(t, sim.Addr)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out(), "SOL Session operational") {
		if time.Now().After(deadline) {
			t.Fatalf("ipmitool did not activate SOL: %q", out())
		}
		time.Sleep(20 * time.Millisecond)
	}
	c := newCapture()
	l := openLine(t, ep, c, Options{ReconnectMin: 100 * time.Millisecond, ReconnectMax: 200 * time.Millisecond})
	c.waitFor(t, 10*time.Second, "busy status", func() bool { return c.has(StateBusy) })
	c.mu.Lock()
	var busy Status
	for _, s := range c.states {
		if s.State == StateBusy {
			busy = s
		}
	}
	c.mu.Unlock()
	if busy.Holder == nil || busy.Holder.SessionID == 0 || !strings.Contains(busy.Msg, "in use by another client") {
		t.Fatalf("busy status without the holder: %+v", busy)
	}
	t.Logf("holder: %s", busy.Holder)
	time.Sleep(300 * time.Millisecond)
	if l.State() == StateActive {
		t.Fatal("line took the payload without a takeover")
	}
	l.Takeover()
	c.waitFor(t, 10*time.Second, "active after takeover", func() bool { return l.State() == StateActive })
	if _, err := l.Write([]byte("mine\r")); err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, 10*time.Second, "echo after takeover", func() bool { return strings.Contains(c.String(), "mine\r\n") })
	if got := string(host.Received()); !strings.HasSuffix(got, "mine\r") {
		t.Fatalf("host received %q", got)
	}
}

// TestLineReactivatesAfterBMCRestart: the BMC goes away and comes back on
// the same address; the line reports the drop and re-activates.
func TestLineReactivatesAfterBMCRestart(t *testing.T) {
	sim := startSim(t)
	addr := sim.Addr()
	c := newCapture()
	l := openLine(t, endpoint(addr), c, Options{KeepAlive: 200 * time.Millisecond, ReconnectMin: 50 * time.Millisecond, ReconnectMax: 200 * time.Millisecond})
	c.waitFor(t, 10*time.Second, "prompt", func() bool { return strings.Contains(c.String(), "login: ") })
	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, 10*time.Second, "dropped", func() bool { return c.has(StateDropped) })
	sim2, err := bmcsim.Start(t.Context(), "solsim", bmcsim.Options{Addr: addr, Username: testUser, Password: testPassword, SOL: true, Privilege: "operator"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim2.Close() })
	before := strings.Count(c.String(), "login: ")
	c.waitFor(t, 10*time.Second, "prompt after restart", func() bool { return strings.Count(c.String(), "login: ") > before })
	if l.State() != StateActive {
		t.Fatalf("state %v", l.State())
	}
	if _, err := l.Write([]byte("again\r")); err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, 10*time.Second, "echo after restart", func() bool { return strings.Contains(c.String(), "again\r\n") })
}
