package bmcssh

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// echoer is one side of the keystroke round trip: type one byte, wait for
// its echo.
type echoer interface {
	echo(b byte) error
}

// lineEchoer types through a bmcssh Line.
type lineEchoer struct {
	l   *Line
	out chan []byte
}

func (e *lineEchoer) echo(b byte) error {
	if _, err := e.l.Write([]byte{b}); err != nil {
		return err
	}
	timeout := time.NewTimer(wait)
	defer timeout.Stop()
	for {
		select {
		case p := <-e.out:
			if bytes.IndexByte(p, b) >= 0 {
				return nil
			}
		case <-timeout.C:
			return fmt.Errorf("no echo of %q", b)
		}
	}
}

// sshEchoer types through OpenSSH's ssh client (-tt, one connection).
type sshEchoer struct {
	in  io.Writer
	out io.Reader
	buf []byte
}

func (e *sshEchoer) echo(b byte) error {
	if _, err := e.in.Write([]byte{b}); err != nil {
		return err
	}
	for {
		n, err := e.out.Read(e.buf)
		if bytes.IndexByte(e.buf[:n], b) >= 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// measure runs b.N round trips and reports p50 and p99.
func measure(b *testing.B, name string, e echoer) {
	b.Helper()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		c := byte('a' + i%26)
		start := time.Now()
		if err := e.echo(c); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
	b.ReportMetric(float64(p50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
	b.Logf("%s: keystroke echo p50 %v, p99 %v over %d round trips", name, p50, p99, len(lat))
}

// BenchmarkSSHEchoRTT: one keystroke's round trip through sshd, socat and
// the fake host serial port, typed through a bmcssh Line and through
// OpenSSH's ssh client to the same sshd.
func BenchmarkSSHEchoRTT(b *testing.B) {
	p := startSSHD(b, "LogLevel INFO\n")
	b.Run("bmcssh", func(b *testing.B) {
		out := make(chan []byte, 1024)
		w := newWatcher()
		o := w.options(Options{})
		keep := o.OnOutput
		o.OnOutput = func(q []byte) {
			keep(q)
			select {
			case out <- append([]byte(nil), q...):
			default:
			}
		}
		l := Open(p.target(b), o)
		defer l.Close()
		w.status(b, 0, StateActive, 0)
		w.output(b, 0, "booting host01\r\n")
		for len(out) > 0 {
			<-out
		}
		measure(b, "bmcssh line", &lineEchoer{l: l, out: out})
	})
	b.Run("openssh", func(b *testing.B) {
		known := filepath.Join(p.dir, "known_hosts")
		host, port := splitAddr(b, p.Addr())
		line := "[" + host + "]:" + port + " " + string(ssh.MarshalAuthorizedKey(p.hostKey))
		if err := os.WriteFile(known, []byte(line), 0o600); err != nil {
			b.Fatal(err)
		}
		cmd := exec.CommandContext(b.Context(), "ssh", "-tt", "-F", "/dev/null", "-i", p.keyPath, "-o", "IdentitiesOnly=yes",
			"-o", "UserKnownHostsFile="+known, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
			"-p", port, p.user+"@"+host)
		in, err := cmd.StdinPipe()
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
		defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
		var seen []byte
		buf := make([]byte, 4096)
		for !bytes.Contains(seen, []byte("booting host01\r\n")) {
			n, err := stdout.Read(buf)
			seen = append(seen, buf[:n]...)
			if err != nil {
				b.Fatalf("ssh: %v (output %q)", err, seen)
			}
		}
		measure(b, "OpenSSH ssh", &sshEchoer{in: in, out: stdout, buf: buf})
	})
}

// BenchmarkSSHLineMemory: heap and goroutines per attached line, many
// lines to one sshd (BMCGATE_BENCH_SSH_LINES, default 50).
func BenchmarkSSHLineMemory(b *testing.B) {
	n := 50
	if v, err := strconv.Atoi(os.Getenv("BMCGATE_BENCH_SSH_LINES")); err == nil && v > 0 {
		n = v
	}
	p := startSSHD(b, "LogLevel INFO\n")
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		g0 := runtime.NumGoroutine()
		lines := make([]*Line, n)
		watchers := make([]*watcher, n)
		for i := range lines {
			watchers[i] = newWatcher()
			o := watchers[i].options(Options{ReconnectMin: 50 * time.Millisecond, ReconnectMax: time.Second, ConnectTimeout: wait})
			o.OnOutput = func([]byte) {} // output is not kept
			lines[i] = Open(p.target(b), o)
		}
		for i := range lines {
			watchers[i].status(b, 0, StateActive, 0)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		g1 := runtime.NumGoroutine()
		per := float64(after.HeapInuse-before.HeapInuse) / float64(n)
		b.ReportMetric(per/1024, "KiB/line")
		b.ReportMetric(float64(g1-g0)/float64(n), "goroutines/line")
		b.Logf("%d attached lines: %.0f KiB heap in use per line, %.1f goroutines per line", n, per/1024, float64(g1-g0)/float64(n))
		for _, l := range lines {
			l.Close()
		}
	}
}
