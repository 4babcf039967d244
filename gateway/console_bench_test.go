package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bougou/go-ipmi/pkg/client"
	"github.com/bougou/go-ipmi/pkg/command/transport"
	"github.com/bougou/go-ipmi/pkg/types"
	gossh "golang.org/x/crypto/ssh"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

// consoleConn is a Go SSH client attached to a console with a terminal.
type consoleConn struct {
	conn *gossh.Client
	sess *gossh.Session
	in   io.WriteCloser
	out  io.Reader
}

func dialConsole(tb testing.TB, h *harness, user, bmc string) *consoleConn {
	tb.Helper()
	c, err := dialConsoleAt(h.g.SSHAddr(), h.g.HostKey(), h.keys[user], user, bmc)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.close)
	return c
}

// dialConsoleAt connects to the gateway at addr as user (private key file
// keyPath), requests a terminal and runs "console bmc". The caller closes
// the connection.
func dialConsoleAt(addr string, hostKey gossh.PublicKey, keyPath, user, bmc string) (*consoleConn, error) {
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	signer, err := gossh.ParsePrivateKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("parse key: %w", err)
	}
	conn, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: user, Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.FixedHostKey(hostKey), Timeout: 10 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	c := &consoleConn{conn: conn}
	if err := c.start(bmc); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

func (c *consoleConn) start(bmc string) error {
	sess, err := c.conn.NewSession()
	if err != nil {
		return fmt.Errorf("session: %w", err)
	}
	c.sess = sess
	if c.in, err = sess.StdinPipe(); err != nil {
		return fmt.Errorf("stdin: %w", err)
	}
	if c.out, err = sess.StdoutPipe(); err != nil {
		return fmt.Errorf("stdout: %w", err)
	}
	if err := sess.RequestPty("xterm", 24, 80, gossh.TerminalModes{}); err != nil {
		return fmt.Errorf("pty: %w", err)
	}
	if err := sess.Start("console " + bmc); err != nil {
		return fmt.Errorf("console %s: %w", bmc, err)
	}
	return nil
}

func (c *consoleConn) close() {
	if c.sess != nil {
		_ = c.sess.Close()
	}
	_ = c.conn.Close()
}

// readUntil reads from r until the bytes read end with want.
func readUntil(r io.Reader, want []byte, buf []byte) error {
	var seen []byte
	for !bytes.Contains(seen, want) {
		n, err := r.Read(buf)
		if err != nil {
			return err
		}
		seen = append(seen, buf[:n]...)
		if len(seen) > 1<<16 {
			seen = seen[len(seen)-len(want):]
		}
	}
	return nil
}

// echoRTT types one character at a time and times its echo.
func echoRTT(b *testing.B, w io.Writer, r io.Reader) []time.Duration {
	buf := make([]byte, 4096)
	d := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := []byte{byte('a' + i%26)}
		start := time.Now()
		if _, err := w.Write(c); err != nil {
			b.Fatal(err)
		}
		if err := readUntil(r, c, buf); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(start))
	}
	b.StopTimer()
	return d
}

func reportPercentiles(b *testing.B, d []time.Duration) (p50, p99 time.Duration) {
	slices.Sort(d)
	p50, p99 = d[len(d)/2], d[min(len(d)-1, len(d)*99/100)]
	b.ReportMetric(float64(p50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
	return p50, p99
}

// BenchmarkConsoleEchoRTT compares keystroke echo round trips to the same
// simulated BMC:
//
//	direct:  go-ipmi's SOL client (SOLStream, 10 ms poll), no gateway
//	gateway: Go SSH client with a terminal → bmcgate (console hub, recording) → BMC
//
// Target: the gateway adds < 1 ms at p50 and < 5 ms at p99.
// Run: go test -run '^$' -bench ConsoleEchoRTT -benchtime 2000x ./gateway
func BenchmarkConsoleEchoRTT(b *testing.B) {
	sim, err := bmcsim.Start(b.Context(), "node01", bmcsim.Options{Username: "bmcadmin", Password: "sol-pass-0001", SOL: true, Privilege: "operator"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sim.Close() })
	b.Run("direct", func(b *testing.B) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s, err := ipmi.Dial(ctx, ipmi.Endpoint{Name: "node01", Host: sim.Host(), Port: sim.Port(), Username: "bmcadmin", Password: "sol-pass-0001", CipherSuite: 3}, ipmi.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close(context.Background())
		c := s.Client()
		if _, err := c.ActivatePayload(ctx, &transport.ActivatePayloadRequest{PayloadType: types.PayloadTypeSOL, PayloadInstance: 1,
			EnableEncryption: true, EnableAuthentication: true}); err != nil {
			b.Fatal(err)
		}
		inR, inW := io.Pipe()
		outR, outW := io.Pipe()
		go func() {
			_ = c.SOLStream(ctx, inR, outW, &client.SOLStreamOptions{PollInterval: 10 * time.Millisecond})
			outW.Close()
		}()
		if err := readUntil(outR, []byte("login: "), make([]byte, 4096)); err != nil {
			b.Fatal(err)
		}
		reportPercentiles(b, echoRTT(b, inW, outR))
		cancel()
	})
	b.Run("gateway", func(b *testing.B) {
		h := startHarness(b, []testBMC{{name: "node01", addr: sim.Addr(), user: "bmcadmin", pass: "sol-pass-0001", suite: 3}},
			[]testUser{{name: "bob", roles: "[operator]"}}, "")
		c := dialConsole(b, h, "bob", "node01")
		if err := readUntil(c.out, []byte("login: "), make([]byte, 4096)); err != nil {
			b.Fatal(err)
		}
		reportPercentiles(b, echoRTT(b, c.in, c.out))
	})
}

// progress reports benchmark phases on stderr when BMCGATE_BENCH_VERBOSE is set.
func progress(format string, args ...any) {
	if os.Getenv("BMCGATE_BENCH_VERBOSE") != "" {
		fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05.000 ")+format+"\n", args...)
	}
}

// startFleetChild starts this test binary as the fleet helper (simulated
// BMCs and SSH viewers in their own process) and returns its pipe and a
// function that ends it (idempotent; also run on cleanup).
func startFleetChild(b *testing.B, n int) (*fleetPipe, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestConsoleFleetHelper$", "-test.count=1", "-test.timeout=15m")
	cmd.Env = append(os.Environ(), fleetHelperEnv+"="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = stdin.Close() // the child ends its viewers and simulators
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				cancel()
				<-done
			}
			cancel()
		})
	}
	b.Cleanup(stop)
	return newFleetPipe(stdout, stdin), stop
}

// BenchmarkConsoles500 attaches one SSH viewer to each of N simulated BMC
// consoles (N = BMCGATE_BENCH_CONSOLES, default 500) and has every viewer
// type a line every 100 ms for 20 rounds, so every console streams output
// and input that is recorded. The simulated BMCs and the viewers run in a
// child process (TestConsoleFleetHelper), so the memory figures are the
// gateway's alone: heap in use and RSS per console with every console
// idle-attached and at the peak while streaming. It checks that every
// console stays live and every line echoes, and reports the recording rate.
// BMCGATE_BENCH_HEAPPROFILE=FILE writes heap profiles of the gateway taken at
// the streaming peak (FILE) and with every console idle-attached (FILE.idle);
// add -memprofilerate 4096 for a fine-grained one, and read it with
// go tool pprof -top -inuse_space.
// Run: BMCGATE_BENCH_CONSOLES=500 go test -run '^$' -bench Consoles500 -benchtime 1x -timeout 20m ./gateway
func BenchmarkConsoles500(b *testing.B) {
	n := 500
	if v, err := strconv.Atoi(os.Getenv("BMCGATE_BENCH_CONSOLES")); err == nil && v > 0 {
		n = v
	}
	const rounds = 20
	child, stopChild := startFleetChild(b, n)
	sims, err := child.recv("sims")
	if err != nil {
		b.Fatal(err)
	}
	if len(sims.Sims) != n {
		b.Fatalf("child started %d simulators, want %d", len(sims.Sims), n)
	}
	bmcs := make([]testBMC, n)
	for i, s := range sims.Sims {
		bmcs[i] = testBMC{name: s.Name, addr: s.Addr, user: "bmcadmin", pass: fleetSimPassword, suite: 3}
	}
	h := startHarness(b, bmcs, []testUser{{name: "bob", roles: "[operator]"}},
		"limits:\n  max_connections: 2048\n  max_connections_per_user: 2048\n")
	base := measureMem(b)
	progress("gateway up with %d BMCs: %s", n, base)
	if err := child.send(fleetMsg{Type: "gateway", Addr: h.g.SSHAddr(), User: "bob", KeyPath: h.keys["bob"],
		HostKey: string(gossh.MarshalAuthorizedKey(h.g.HostKey()))}); err != nil {
		b.Fatal(err)
	}
	live, err := child.recv("live")
	if err != nil {
		b.Fatal(err)
	}
	progress("%d consoles live", live.Live)
	if live.Live != n {
		b.Fatalf("%d of %d consoles live", live.Live, n)
	}
	idle := measureMem(b)
	if path := os.Getenv("BMCGATE_BENCH_HEAPPROFILE"); path != "" {
		writeHeapProfile(b, path+".idle")
	}
	seq0, _ := h.g.store.Head()
	b.ResetTimer()
	if err := child.send(fleetMsg{Type: "stream", Rounds: rounds}); err != nil {
		b.Fatal(err)
	}
	peak := sampleWhile(b, func() (fleetMsg, error) { return child.recv("done") })
	elapsed := b.Elapsed()
	b.StopTimer()
	if peak.err != nil {
		b.Fatal(peak.err)
	}
	if peak.msg.Echoed != n*rounds {
		b.Fatalf("%d of %d lines echoed; %d of %d consoles echoed every line", peak.msg.Echoed, n*rounds, peak.msg.Complete, n)
	}
	h.g.consoles.hub.Load().Flush() // the recordings' last chunks, now rather than at their deadline
	seq1, _ := h.g.store.Head()
	stopChild() // viewers detach while the gateway still records it
	waitDetached(h)
	var chunks int
	for _, r := range h.records(b, audit.Query{AfterSeq: seq0}) {
		if r.Code == audit.CodeConsoleOutput || r.Code == audit.CodeConsoleInput {
			chunks++
		}
	}
	idleHeap, idleRSS := perConsoleKiB(base, idle, n)
	streamHeap, streamRSS := perConsoleKiB(base, peak.mem, n)
	progress("idle: %s; streaming peak: %s", idle, peak.mem)
	b.ReportMetric(float64(n), "consoles")
	b.ReportMetric(idleHeap, "heap-KiB/console-idle")
	b.ReportMetric(idleRSS, "rss-KiB/console-idle")
	b.ReportMetric(streamHeap, "heap-KiB/console-streaming")
	b.ReportMetric(streamRSS, "rss-KiB/console-streaming")
	b.ReportMetric(float64(chunks)/elapsed.Seconds(), "chunks/s")
	b.ReportMetric(float64(seq1-seq0), "records")
}

// waitDetached waits (bounded) until the gateway has recorded the viewers'
// detach (the hub has no event for it); the SSH door's Shutdown then waits
// for the sessions' own end records.
func waitDetached(h *harness) {
	hub := h.g.consoles.hub.Load()
	for deadline := time.Now().Add(30 * time.Second); hub != nil && hub.Viewers() > 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
}
