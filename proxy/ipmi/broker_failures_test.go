package ipmi

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/rmcp"
	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
)

func TestBrokerReconnectsAfterBMCRestart(t *testing.T) {
	ctx := t.Context()
	sim, err := bmcsim.Start(ctx, "restarting", bmcsim.Options{Username: testUser, Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	addr := sim.Addr()
	ep := endpointFor("restarting", addr, 3)
	b, hs := newTestBroker(t, Options{CallTimeout: time.Second})
	if _, err := b.PowerStatus(ctx, ep); err != nil {
		t.Fatal(err)
	}
	restart := func() *bmcsim.BMC {
		t.Helper()
		sim.Close()
		s, err := bmcsim.Start(ctx, "restarting", bmcsim.Options{Addr: addr, Username: testUser, Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	sim = restart()
	// A read: the warm session is dead, the read is repeated on a new one.
	if st, err := b.PowerStatus(ctx, ep); err != nil || st != PowerStateOff {
		t.Fatalf("status after restart: %v, %v", st, err)
	}
	if hs.Load() != 2 || b.Stats().Retries != 1 {
		t.Fatalf("handshakes %d, stats %+v", hs.Load(), b.Stats())
	}
	// A write: the idle warm session is probed first, so the write goes out
	// once, on a fresh session.
	sim = restart()
	ageIdle(b.poolFor("restarting"), probeAfter+time.Millisecond) // idle past probeAfter, without waiting for it
	if err := b.Power(ctx, ep, PowerOn); err != nil || !sim.Power() {
		t.Fatalf("power on after restart: %v, power %v", err, sim.Power())
	}
	if hs.Load() != 3 {
		t.Fatalf("handshakes %d, want 3", hs.Load())
	}
}

func TestBrokerBusy(t *testing.T) {
	ctx := t.Context()
	sim := startBMC(t, bmcsim.Options{})
	m := newMITM(t, sim.Addr())
	release := make(chan struct{})
	var held atomic.Int32
	m.setToClient(func(p []byte) [][]byte {
		// Hold in-session answers until released.
		if h, ok := parseV2(p); ok && h.payloadType == rmcp.PayloadIPMI && h.authenticated {
			held.Add(1)
			<-release
		}
		return [][]byte{p}
	})
	ep := endpointFor("slow", m.addr(), 3)
	b, _ := newTestBroker(t, Options{SessionsPerBMC: 1, MaxPending: 1})
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 2 { // one runs, one waits
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := b.PowerStatus(ctx, ep)
			errs <- err
		}()
	}
	deadline := time.Now().Add(3 * time.Second)
	waiting := func() bool { p := b.poolFor(ep.Name); return p != nil && p.waiting.Load() > 0 }
	for (held.Load() == 0 || !waiting()) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	_, err := b.PowerStatus(ctx, ep)
	wantKind(t, err, ErrBusy)
	m.setToClient(nil)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("queued call failed: %v", err)
		}
	}
}

func TestBrokerWriteToVanishedBMC(t *testing.T) {
	ctx := t.Context()
	sim, err := bmcsim.Start(ctx, "vanishing", bmcsim.Options{Username: testUser, Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	ep := endpointFor("vanishing", sim.Addr(), 3)
	b, hs := newTestBroker(t, Options{})
	if _, err := b.PowerStatus(ctx, ep); err != nil {
		t.Fatal(err)
	}
	sim.Close()
	// The write's datagram is answered by "port unreachable": it provably
	// did not run, so it may be retried on a new session, which is refused.
	start := time.Now()
	e := wantKind(t, b.Power(ctx, ep, PowerOn), ErrUnreachable)
	within(t, "write to a closed port", time.Since(start), time.Second)
	if e.Msg != msgRefused || b.Stats().Retries != 1 || hs.Load() != 1 {
		t.Fatalf("message %q, stats %+v, handshakes %d", e.Msg, b.Stats(), hs.Load())
	}
}

func TestDialDefaultsAndCancel(t *testing.T) {
	sim := startBMC(t, bmcsim.Options{})
	ep := endpointFor("", sim.Addr(), 3)
	s, err := Dial(t.Context(), ep, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.BMC() != sim.Addr() || !strings.Contains(s.String(), "suite 3, operator") {
		t.Fatalf("BMC() = %q, String() = %q", s.BMC(), s.String())
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = Dial(ctx, ep, Options{})
	wantKind(t, err, ErrCanceled)
	_, err = s.PowerStatus(t.Context())
	wantKind(t, err, ErrClosed)
}

// ageIdle makes the idle sessions of p look d older since their last
// exchange, as if that time had passed.
func ageIdle(p *pool, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, it := range p.idle {
		it.lastActive = it.lastActive.Add(-d)
	}
}
