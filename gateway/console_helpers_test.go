package gateway

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
)

// ptyClient is a real OpenSSH client running in a pseudo-terminal, as a
// person at a terminal would run it.
type ptyClient struct {
	t    testing.TB
	cmd  *exec.Cmd
	tty  *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
	code int
}

// startPTY runs `ssh -tt -e none user@gw args...` in a new pseudo-terminal.
// -e none turns off OpenSSH's own "~" escapes so that bmcgate's are tested.
func startPTY(t testing.TB, h *harness, user string, args ...string) *ptyClient {
	t.Helper()
	full := append(h.sshArgs(user, "-tt", "-e", "none"), user+"@127.0.0.1")
	full = append(full, args...)
	return startPTYCmd(t, "ssh", full...)
}

func startPTYCmd(t testing.TB, name string, args ...string) *ptyClient {
	t.Helper()
	cmd := exec.Command(name, args...)
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		t.Fatal(err)
	}
	c := &ptyClient{t: t, cmd: cmd, tty: tty, done: make(chan struct{}), code: -1}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			if n > 0 {
				c.mu.Lock()
				c.out.Write(buf[:n])
				c.mu.Unlock()
			}
			if err != nil {
				break
			}
		}
		_ = cmd.Wait()
		c.mu.Lock()
		c.code = cmd.ProcessState.ExitCode()
		c.mu.Unlock()
		close(c.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.done
		_ = tty.Close()
	})
	return c
}

// send types s.
func (c *ptyClient) send(s string) {
	c.t.Helper()
	if _, err := c.tty.Write([]byte(s)); err != nil {
		c.t.Fatalf("type %q: %v", s, err)
	}
}

func (c *ptyClient) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

// mark returns the current output length, for waitAfter.
func (c *ptyClient) mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Len()
}

// waitFor waits until the output contains s.
func (c *ptyClient) waitFor(s string) {
	c.t.Helper()
	c.waitAfter(0, s)
}

// waitAfter waits until the output after position from contains s, and
// returns the position just past it.
func (c *ptyClient) waitAfter(from int, s string) int {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if out := c.output(); len(out) >= from {
			if i := strings.Index(out[from:], s); i >= 0 {
				return from + i + len(s)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.t.Fatalf("terminal never showed %q; it shows:\n%q", s, c.output())
	return 0
}

// waitRaw waits until the program has put its terminal in raw mode (no
// line editing), as ipmitool does just after it says the session is up:
// what is typed before then is cooked by the terminal.
func (c *ptyClient) waitRaw() {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		tio, err := unix.IoctlGetTermios(int(c.tty.Fd()), unix.TCGETS)
		if err != nil {
			c.t.Fatalf("terminal attributes: %v", err)
		}
		if tio.Lflag&unix.ICANON == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond) // polling the terminal, as waitAfter does
	}
	c.t.Fatalf("the terminal never went raw; it shows:\n%q", c.output())
}

// wait waits for the client to exit and returns its status.
func (c *ptyClient) wait() int {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		c.t.Fatalf("client did not exit; it shows:\n%q", c.output())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.code
}

// consoleHarness starts a gateway with one bmcsim BMC ("node01") serving an
// SOL console, and the users alice (admin), bob (operator), carol
// (watcher), vic (viewer) and aud (auditor).
func consoleHarness(t testing.TB, extra string) (*harness, *bmcsim.BMC) {
	t.Helper()
	sim, err := bmcsim.Start(t.Context(), "node01", bmcsim.Options{Username: "bmcadmin", Password: "sol-pass-0001", SOL: true, Privilege: "operator"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	h := startHarness(t, []testBMC{{name: "node01", addr: sim.Addr(), user: "bmcadmin", pass: "sol-pass-0001", suite: 3}},
		[]testUser{{name: "alice", roles: "[admin]"}, {name: "bob", roles: "[operator]"}, {name: "carol", roles: "[watcher]"},
			{name: "vic", roles: "[viewer]"}, {name: "aud", roles: "[auditor]"}}, extra)
	return h, sim
}
