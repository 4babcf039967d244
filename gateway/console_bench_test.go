package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bougou/go-ipmi/pkg/client"
	"github.com/bougou/go-ipmi/pkg/command/transport"
	"github.com/bougou/go-ipmi/pkg/types"
	gossh "golang.org/x/crypto/ssh"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/proxy/bmcsim"
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
	keyPEM, err := os.ReadFile(h.keys[user])
	if err != nil {
		tb.Fatal(err)
	}
	signer, err := gossh.ParsePrivateKey(keyPEM)
	if err != nil {
		tb.Fatal(err)
	}
	conn, err := gossh.Dial("tcp", h.g.SSHAddr(), &gossh.ClientConfig{User: user, Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.FixedHostKey(h.g.HostKey()), Timeout: 10 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	sess, err := conn.NewSession()
	if err != nil {
		tb.Fatal(err)
	}
	in, _ := sess.StdinPipe()
	out, _ := sess.StdoutPipe()
	if err := sess.RequestPty("xterm", 24, 80, gossh.TerminalModes{}); err != nil {
		tb.Fatal(err)
	}
	if err := sess.Start("console " + bmc); err != nil {
		tb.Fatal(err)
	}
	c := &consoleConn{conn: conn, sess: sess, in: in, out: out}
	tb.Cleanup(func() { _ = sess.Close(); _ = conn.Close() })
	return c
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

// BenchmarkConsoles500 attaches one SSH viewer to each of N simulated BMC
// consoles (N = BMCGATE_BENCH_CONSOLES, default 500) and has every viewer
// type a line every 100 ms, so every console streams output and input that
// is recorded. It checks that every console stays live and reports the
// gateway heap per console and the recording rate.
// Run: go test -run '^$' -bench Consoles500 -benchtime 1x -timeout 20m ./gateway
func BenchmarkConsoles500(b *testing.B) {
	n := 500
	if v, err := strconv.Atoi(os.Getenv("BMCGATE_BENCH_CONSOLES")); err == nil && v > 0 {
		n = v
	}
	fleet, err := bmcsim.StartFleet(b.Context(), n, "node", bmcsim.Options{Username: "bmcadmin", Password: "sol-pass-0001", SOL: true, Privilege: "operator"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bmcsim.CloseAll(fleet) })
	bmcs := make([]testBMC, n)
	for i, s := range fleet {
		bmcs[i] = testBMC{name: s.Name(), addr: s.Addr(), user: "bmcadmin", pass: "sol-pass-0001", suite: 3}
	}
	h := startHarness(b, bmcs, []testUser{{name: "bob", roles: "[operator]"}},
		"limits:\n  max_connections: 2048\n  max_connections_per_user: 2048\n")
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	before := heap()
	progress("gateway up with %d BMCs", n)
	conns := make([]*consoleConn, n)
	for i := range fleet {
		conns[i] = dialConsole(b, h, "bob", fleet[i].Name())
	}
	var live atomic.Int64
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			go func() { <-ctx.Done(); _ = c.sess.Close() }() // unblock reads on timeout
			if readUntil(c.out, []byte("login: "), make([]byte, 4096)) == nil {
				live.Add(1)
			}
		}()
	}
	wg.Wait()
	progress("%d consoles live", live.Load())
	if got := live.Load(); got != int64(n) {
		b.Fatalf("%d of %d consoles live", got, n)
	}
	perConsole := float64(heap()-before) / float64(n) / 1024
	seq0, _ := h.g.store.Head()
	b.ResetTimer()
	const rounds = 20
	var echoed, complete atomic.Int64
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 4096)
			for r := range rounds {
				line := fmt.Sprintf("line %02d of console output\r", r)
				if _, err := c.in.Write([]byte(line)); err != nil {
					return
				}
				if readUntil(c.out, []byte(fmt.Sprintf("line %02d of console output\r\n", r)), buf) != nil || ctx.Err() != nil {
					return
				}
				echoed.Add(1)
				if r == rounds-1 {
					complete.Add(1)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	elapsed := b.Elapsed()
	b.StopTimer()
	if got := echoed.Load(); got != int64(n*rounds) {
		b.Fatalf("%d of %d lines echoed; %d of %d consoles echoed every line", got, n*rounds, complete.Load(), n)
	}
	time.Sleep(2 * chunkFlushPeriod)
	seq1, _ := h.g.store.Head()
	var chunks int
	for _, r := range h.records(b, audit.Query{AfterSeq: seq0}) {
		if r.Code == audit.CodeConsoleOutput || r.Code == audit.CodeConsoleInput {
			chunks++
		}
	}
	b.ReportMetric(perConsole, "KiB/console-idle")
	b.ReportMetric(float64(chunks)/elapsed.Seconds(), "chunks/s")
	b.ReportMetric(float64(seq1-seq0), "records")
	b.ReportMetric(float64(heap()-before)/float64(n)/1024, "KiB/console-streaming")
}

// progress reports benchmark phases on stderr when BMCGATE_BENCH_VERBOSE is set.
func progress(format string, args ...any) {
	if os.Getenv("BMCGATE_BENCH_VERBOSE") != "" {
		fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05.000 ")+format+"\n", args...)
	}
}

// chunkFlushPeriod mirrors the console recorder's flush period.
const chunkFlushPeriod = 250 * time.Millisecond
