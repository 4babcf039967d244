package ipmi

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
)

// startBMC runs a simulated BMC whose user is testUser/testPassword.
func startBMC(t testing.TB, o bmcsim.Options) *bmcsim.BMC {
	t.Helper()
	if o.Username == "" {
		o.Username = testUser
	}
	if o.Password == "" {
		o.Password = testPassword
	}
	b, err := bmcsim.Start(t.Context(), "sim-"+strings.ReplaceAll(t.Name(), "/", "-"), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func endpointFor(name, addr string, suite int) Endpoint {
	host, port, _ := net.SplitHostPort(addr)
	var p int
	fmt.Sscan(port, &p)
	return Endpoint{Name: name, Host: host, Port: p, Username: testUser, Password: testPassword, CipherSuite: suite}
}

// noSecret fails t if the error or any formatting of it contains the
// password.
func noSecret(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		if strings.Contains(s, testPassword) {
			t.Fatalf("password in error: %s", s)
		}
	}
	var e *Error
	if errors.As(err, &e) && strings.Contains(e.Msg, testPassword) {
		t.Fatalf("password in user message: %s", e.Msg)
	}
}

// wantKind checks err is an *Error of kind k with no password in it.
func wantKind(t testing.TB, err error, sentinel error) *Error {
	t.Helper()
	noSecret(t, err)
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, sentinel) {
		t.Fatalf("got %v (%T), want %v", err, err, sentinel)
	}
	return e
}

// logBuffer is a concurrency-safe slog sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// mitm is a UDP man in the middle between one client and a BMC. Hooks may
// rewrite, drop or inject datagrams.
type mitm struct {
	t    testing.TB
	pc   net.PacketConn // client side
	up   *net.UDPConn   // BMC side
	done chan struct{}

	mu     sync.Mutex
	client net.Addr
	// toBMC sees client datagrams; returning false drops them.
	toBMC func(pkt []byte) bool
	// toClient sees BMC datagrams and returns what to deliver instead.
	toClient func(pkt []byte) [][]byte
}

func newMITM(t testing.TB, bmcAddr string) *mitm {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ra, err := net.ResolveUDPAddr("udp", bmcAddr)
	if err != nil {
		t.Fatal(err)
	}
	up, err := net.DialUDP("udp", nil, ra)
	if err != nil {
		t.Fatal(err)
	}
	m := &mitm{t: t, pc: pc, up: up, done: make(chan struct{})}
	go m.downstream()
	go m.upstream()
	t.Cleanup(m.close)
	return m
}

func (m *mitm) addr() string { return m.pc.LocalAddr().String() }

func (m *mitm) close() {
	select {
	case <-m.done:
		return
	default:
	}
	close(m.done)
	m.pc.Close()
	m.up.Close()
}

func (m *mitm) downstream() {
	buf := make([]byte, 65536)
	for {
		n, from, err := m.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		pkt := append([]byte(nil), buf[:n]...)
		m.mu.Lock()
		m.client = from
		hook := m.toBMC
		m.mu.Unlock()
		if hook == nil || hook(pkt) {
			_, _ = m.up.Write(pkt)
		}
	}
}

func (m *mitm) upstream() {
	buf := make([]byte, 65536)
	for {
		n, err := m.up.Read(buf)
		if err != nil {
			select {
			case <-m.done:
				return
			default:
				continue // ICMP errors while the BMC restarts
			}
		}
		pkt := append([]byte(nil), buf[:n]...)
		m.mu.Lock()
		client, hook := m.client, m.toClient
		m.mu.Unlock()
		out := [][]byte{pkt}
		if hook != nil {
			out = hook(pkt)
		}
		for _, p := range out {
			_, _ = m.pc.WriteTo(p, client)
		}
	}
}

// inject sends a datagram to the client as if from the BMC.
func (m *mitm) inject(pkt []byte) {
	m.mu.Lock()
	client := m.client
	m.mu.Unlock()
	if client != nil {
		_, _ = m.pc.WriteTo(pkt, client)
	}
}

func (m *mitm) setToBMC(f func([]byte) bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.toBMC = f
}

func (m *mitm) setToClient(f func([]byte) [][]byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.toClient = f
}

// within fails t unless d is at most limit.
func within(t testing.TB, what string, d, limit time.Duration) {
	t.Helper()
	if d > limit {
		t.Fatalf("%s took %v, want at most %v", what, d, limit)
	}
}
