package ipmi

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
)

// A lossy link for tests: a UDP relay between a client on loopback and a
// BMC, whose packets cross a veth pair between two network namespaces the
// test creates. The relay drops and delays datagrams with a seeded random
// source (this kernel has no netem qdisc, so the loss is the relay's). It
// needs root and iproute2's ip; without them the test skips, or fails when
// BMCGATE_REQUIRE_PEERS is set.
//
//	client ─▶ front (127.0.0.1, host) ─▶ A (10.x.y.1, ns A) ══veth══▶ B (10.x.y.2, ns B) ─▶ back (host) ─▶ BMC
//
// The 10.x addresses exist only inside the two namespaces.

// lossyLink is a running relay.
type lossyLink struct {
	front     *net.UDPConn // the client's target
	a, b      *net.UDPConn // the namespaced halves
	back      *net.UDPConn // connected to the BMC
	loss      float64
	delay     time.Duration
	mu        sync.Mutex
	rng       *rand.Rand
	client    *net.UDPAddr
	dropped   atomic.Int64
	forwarded atomic.Int64
	done      chan struct{}
	wg        sync.WaitGroup
}

// requireNetns skips (or fails) t unless network namespaces can be made.
func requireNetns(t testing.TB) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "not root"
	} else if _, err := exec.LookPath("ip"); err != nil {
		why = "no ip command (iproute2)"
	}
	if why == "" {
		return
	}
	if os.Getenv(ipmisim.RequirePeersEnv) != "" {
		t.Fatalf("the lossy link needs network namespaces (%s), and %s is set", why, ipmisim.RequirePeersEnv)
	}
	t.Skipf("the lossy link needs network namespaces (%s); set %s=1 to make this a failure", why, ipmisim.RequirePeersEnv)
}

func ipCmd(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %v: %v: %s", args, err, out)
	}
}

// inNetns runs fn with the calling goroutine's thread in the named network
// namespace, so that sockets fn opens belong to it.
func inNetns(name string, fn func() error) error {
	ns, err := os.Open("/run/netns/" + name)
	if err != nil {
		return err
	}
	defer ns.Close()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		ferr := fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			// The thread stays locked and ends with the goroutine.
			errc <- errors.Join(ferr, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// startLossyLink relays to bmcAddr with the given loss per datagram (each
// direction) and delay, using seed for the loss.
func startLossyLink(t testing.TB, bmcAddr string, loss float64, delay time.Duration, seed uint64) *lossyLink {
	t.Helper()
	requireNetns(t)
	tag := fmt.Sprintf("%d-%d", os.Getpid(), rand.Uint32())
	nsA, nsB := "bmcgate-la-"+tag, "bmcgate-lb-"+tag
	subnet := fmt.Sprintf("10.%d.%d", 200+rand.IntN(50), rand.IntN(250))
	ipCmd(t, "netns", "add", nsA)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", nsA).Run() })
	ipCmd(t, "netns", "add", nsB)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", nsB).Run() })
	ipCmd(t, "link", "add", "bgla", "netns", nsA, "type", "veth", "peer", "name", "bglb", "netns", nsB)
	ipCmd(t, "-n", nsA, "addr", "add", subnet+".1/30", "dev", "bgla")
	ipCmd(t, "-n", nsB, "addr", "add", subnet+".2/30", "dev", "bglb")
	for _, x := range [][2]string{{nsA, "bgla"}, {nsB, "bglb"}, {nsA, "lo"}, {nsB, "lo"}} {
		ipCmd(t, "-n", x[0], "link", "set", x[1], "up")
	}
	l := &lossyLink{loss: loss, delay: delay, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), done: make(chan struct{})}
	var err error
	if l.front, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		t.Fatal(err)
	}
	bmc, err := net.ResolveUDPAddr("udp", bmcAddr)
	if err != nil {
		t.Fatal(err)
	}
	if l.back, err = net.DialUDP("udp", nil, bmc); err != nil {
		t.Fatal(err)
	}
	bAddr := &net.UDPAddr{IP: net.ParseIP(subnet + ".2"), Port: 40000 + rand.IntN(20000)}
	if err := inNetns(nsB, func() (err error) { l.b, err = net.ListenUDP("udp", bAddr); return err }); err != nil {
		t.Fatalf("socket in %s: %v", nsB, err)
	}
	if err := inNetns(nsA, func() (err error) {
		l.a, err = net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(subnet + ".1")}, bAddr)
		return err
	}); err != nil {
		t.Fatalf("socket in %s: %v", nsA, err)
	}
	aAddr := l.a.LocalAddr().(*net.UDPAddr)
	// client → front → A ═▶ B → back → BMC
	l.pump(func(p []byte) error { // front
		n, from, err := l.front.ReadFromUDP(p)
		if err == nil {
			l.mu.Lock()
			l.client = from
			l.mu.Unlock()
		}
		return l.forward(p[:n], err, true, func(q []byte) { _, _ = l.a.Write(q) })
	})
	l.pump(func(p []byte) error { // B
		n, _, err := l.b.ReadFromUDP(p)
		return l.forward(p[:n], err, false, func(q []byte) { _, _ = l.back.Write(q) })
	})
	// BMC → back → B ═▶ A → front → client
	l.pump(func(p []byte) error { // back
		n, err := l.back.Read(p)
		return l.forward(p[:n], err, true, func(q []byte) { _, _ = l.b.WriteToUDP(q, aAddr) })
	})
	l.pump(func(p []byte) error { // A
		n, err := l.a.Read(p)
		l.mu.Lock()
		c := l.client
		l.mu.Unlock()
		if c == nil {
			return err
		}
		return l.forward(p[:n], err, false, func(q []byte) { _, _ = l.front.WriteToUDP(q, c) })
	})
	t.Cleanup(l.close)
	return l
}

// pump runs read until it fails (the relay closed).
func (l *lossyLink) pump(read func(p []byte) error) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		buf := make([]byte, 4096)
		for read(buf) == nil {
		}
	}()
}

// forward hands a copy of p to send after the delay, unless the loss takes
// it. Only the hops into the namespaces (lossy: front and back) lose
// packets, so each direction loses l.loss of its datagrams.
func (l *lossyLink) forward(p []byte, err error, lossy bool, send func([]byte)) error {
	if err != nil {
		return err
	}
	drop := false
	if lossy {
		l.mu.Lock()
		drop = l.rng.Float64() < l.loss
		l.mu.Unlock()
	}
	if drop {
		l.dropped.Add(1)
		return nil
	}
	l.forwarded.Add(1)
	q := append([]byte(nil), p...)
	if l.delay <= 0 {
		send(q)
		return nil
	}
	time.AfterFunc(l.delay, func() {
		select {
		case <-l.done:
		default:
			send(q)
		}
	})
	return nil
}

func (l *lossyLink) addr() string { return l.front.LocalAddr().String() }

func (l *lossyLink) close() {
	select {
	case <-l.done:
		return
	default:
	}
	close(l.done)
	for _, c := range []*net.UDPConn{l.front, l.a, l.b, l.back} {
		if c != nil {
			_ = c.Close()
		}
	}
	l.wg.Wait()
}
