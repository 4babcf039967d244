package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
)

// The console fleet benchmark runs in two processes so that the gateway's
// memory can be measured alone: the benchmark (parent) runs the gateway; a
// child, the same test binary running TestConsoleFleetHelper, runs the
// simulated BMCs and the SSH viewers. They exchange one JSON object per line
// over the child's stdin and stdout:
//
//	child → parent  {"type":"sims","sims":[{"name":…,"addr":…},…]}
//	parent → child  {"type":"gateway","addr":…,"host_key":…,"key_path":…,"user":…}
//	child → parent  {"type":"live","live":N}            every viewer saw the login prompt
//	parent → child  {"type":"stream","rounds":R}
//	child → parent  {"type":"done","echoed":E,"complete":C}
//
// Closing the child's stdin ends it.

// fleetHelperEnv makes TestConsoleFleetHelper run; its value is the number
// of consoles.
const fleetHelperEnv = "BMCGATE_CONSOLE_FLEET_HELPER"

// fleetSimPassword is the simulated BMCs' password (test-only).
const fleetSimPassword = "sol-pass-0001"

// fleetMsg is one line of the parent/child protocol.
type fleetMsg struct {
	Type     string     `json:"type"`
	Sims     []fleetSim `json:"sims,omitempty"`
	Addr     string     `json:"addr,omitempty"`
	HostKey  string     `json:"host_key,omitempty"`
	KeyPath  string     `json:"key_path,omitempty"`
	User     string     `json:"user,omitempty"`
	Live     int        `json:"live,omitempty"`
	Rounds   int        `json:"rounds,omitempty"`
	Echoed   int        `json:"echoed,omitempty"`
	Complete int        `json:"complete,omitempty"`
	Err      string     `json:"err,omitempty"`
}

type fleetSim struct {
	Name string `json:"name"`
	Addr string `json:"addr"`
}

// fleetPipe reads and writes protocol lines. Lines that are not protocol
// messages (test framework output) are skipped.
type fleetPipe struct {
	r  *bufio.Scanner
	w  io.Writer
	mu sync.Mutex
}

func newFleetPipe(r io.Reader, w io.Writer) *fleetPipe {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	return &fleetPipe{r: sc, w: w}
}

func (p *fleetPipe) send(m fleetMsg) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("fleet: encode: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("fleet: send %s: %w", m.Type, err)
	}
	return nil
}

// recv returns the next message, which must be of type want.
func (p *fleetPipe) recv(want string) (fleetMsg, error) {
	for p.r.Scan() {
		line := p.r.Bytes()
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var m fleetMsg
		if err := json.Unmarshal(line, &m); err != nil || m.Type == "" {
			continue
		}
		if m.Type == "error" {
			return m, fmt.Errorf("fleet: peer failed: %s", m.Err)
		}
		if m.Type != want {
			return m, fmt.Errorf("fleet: got %q, want %q", m.Type, want)
		}
		return m, nil
	}
	if err := p.r.Err(); err != nil {
		return fleetMsg{}, fmt.Errorf("fleet: read: %w", err)
	}
	return fleetMsg{}, fmt.Errorf("fleet: peer closed the pipe waiting for %q", want)
}

// TestConsoleFleetHelper is the child process of BenchmarkConsoles500: it
// runs the simulated BMCs and one SSH viewer per console. It does nothing
// unless started by the benchmark.
func TestConsoleFleetHelper(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv(fleetHelperEnv))
	if err != nil || n <= 0 {
		t.Skip("child process of BenchmarkConsoles500")
	}
	p := newFleetPipe(os.Stdin, os.Stdout)
	if err := runFleet(t.Context(), p, n); err != nil {
		_ = p.send(fleetMsg{Type: "error", Err: err.Error()})
		t.Fatal(err)
	}
}

// runFleet is the child's side of the protocol.
func runFleet(ctx context.Context, p *fleetPipe, n int) error {
	fleet, err := bmcsim.StartFleet(ctx, n, "node", bmcsim.Options{Username: "bmcadmin", Password: fleetSimPassword, SOL: true, Privilege: "operator"})
	if err != nil {
		return fmt.Errorf("start simulators: %w", err)
	}
	defer bmcsim.CloseAll(fleet)
	sims := make([]fleetSim, n)
	for i, s := range fleet {
		sims[i] = fleetSim{Name: s.Name(), Addr: s.Addr()}
	}
	if err := p.send(fleetMsg{Type: "sims", Sims: sims}); err != nil {
		return err
	}
	gw, err := p.recv("gateway")
	if err != nil {
		return err
	}
	hostKey, _, _, _, err := gossh.ParseAuthorizedKey([]byte(gw.HostKey))
	if err != nil {
		return fmt.Errorf("host key: %w", err)
	}
	conns, err := dialFleet(gw, hostKey, sims)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.close()
			}
		}
	}()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	live := eachConsole(ctx, conns, func(c *consoleConn) bool {
		return readUntil(c.out, []byte("login: "), make([]byte, 4096)) == nil
	})
	if err := p.send(fleetMsg{Type: "live", Live: live}); err != nil {
		return err
	}
	st, err := p.recv("stream")
	if err != nil {
		return err
	}
	var echoed atomic.Int64
	complete := eachConsole(ctx, conns, func(c *consoleConn) bool {
		buf := make([]byte, 4096)
		for r := range st.Rounds {
			line := fmt.Sprintf("line %02d of console output\r", r)
			if _, err := c.in.Write([]byte(line)); err != nil {
				return false
			}
			if readUntil(c.out, []byte(line+"\n"), buf) != nil || ctx.Err() != nil {
				return false
			}
			echoed.Add(1)
			if r < st.Rounds-1 {
				time.Sleep(100 * time.Millisecond)
			}
		}
		return true
	})
	if err := p.send(fleetMsg{Type: "done", Echoed: int(echoed.Load()), Complete: complete}); err != nil {
		return err
	}
	_, _ = p.recv("end") // the parent closes stdin when it has measured
	return nil
}

// dialFleet attaches one viewer per simulated BMC, a few at a time.
func dialFleet(gw fleetMsg, hostKey gossh.PublicKey, sims []fleetSim) ([]*consoleConn, error) {
	conns := make([]*consoleConn, len(sims))
	errs := make([]error, len(sims))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, s := range sims {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			conns[i], errs[i] = dialConsoleAt(gw.Addr, hostKey, gw.KeyPath, gw.User, s.Name)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return conns, err
		}
	}
	return conns, nil
}

// eachConsole runs f on every console concurrently and counts the trues.
// When ctx ends, the sessions are closed to unblock f.
func eachConsole(ctx context.Context, conns []*consoleConn, f func(*consoleConn) bool) int {
	var ok atomic.Int64
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stop := context.AfterFunc(ctx, func() { _ = c.sess.Close() })
			defer stop()
			if f(c) {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(ok.Load())
}
