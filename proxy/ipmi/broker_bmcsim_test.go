package ipmi

import (
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
)

func newTestBroker(t testing.TB, o Options) (*Broker, *atomic.Int64) {
	t.Helper()
	var hs atomic.Int64
	o.onHandshake = func(string) { hs.Add(1) }
	b := NewBroker(o)
	t.Cleanup(func() { b.Close() })
	return b, &hs
}

// poolFor returns the pool of a BMC (nil if none), for tests.
func (b *Broker) poolFor(name string) *pool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pools[name]
}

func TestBrokerBMCSim(t *testing.T) {
	for _, suite := range []int{3, 17} {
		t.Run(map[int]string{3: "suite3", 17: "suite17"}[suite], func(t *testing.T) {
			ctx := t.Context()
			sim := startBMC(t, bmcsim.Options{Sensors: true, Privilege: "operator"})
			ep := endpointFor("node", sim.Addr(), suite)
			b, hs := newTestBroker(t, Options{})

			st, err := b.PowerStatus(ctx, ep)
			if err != nil || st != PowerStateOff {
				t.Fatalf("PowerStatus = %v, %v; want off", st, err)
			}
			if err := b.Power(ctx, ep, PowerOn); err != nil || !sim.Power() {
				t.Fatalf("power on: %v, sim power %v", err, sim.Power())
			}
			if st, _ := b.PowerStatus(ctx, ep); st != PowerStateOn {
				t.Fatalf("status after on = %v", st)
			}
			if err := b.Power(ctx, ep, PowerCycle); err != nil || sim.PowerCycles() != 1 {
				t.Fatalf("cycle: %v (cycles %d)", err, sim.PowerCycles())
			}
			if err := b.Power(ctx, ep, PowerReset); err != nil {
				t.Fatalf("reset: %v", err)
			}
			if err := b.Power(ctx, ep, PowerSoft); err != nil || sim.Power() {
				t.Fatalf("soft: %v, power %v", err, sim.Power())
			}
			e := wantKind(t, b.Power(ctx, ep, PowerCycle), ErrBMC)
			if !strings.Contains(e.Msg, "completion code 0xd5") || !strings.Contains(e.Msg, "present state") {
				t.Fatalf("cycle while off: message %q lacks the completion code", e.Msg)
			}
			if err := b.Power(ctx, ep, PowerOff); err != nil {
				t.Fatalf("off while off: %v", err)
			}

			info, err := b.DeviceInfo(ctx, ep)
			if err != nil || info.CipherSuite != suite || info.Privilege != "operator" ||
				info.ManufacturerID != 0xc0ffee || info.FirmwareVersion != "1.10" || info.IPMIVersion != "2.0" || len(info.GUID) != 36 {
				t.Fatalf("DeviceInfo = %+v, %v", info, err)
			}

			sensors, err := b.Sensors(ctx, ep)
			if err != nil || len(sensors) != 6 {
				t.Fatalf("Sensors = %v, %v", sensors, err)
			}
			want := Sensor{Name: "12V", Type: "Voltage", Value: "12.06", Unit: "Volts", Status: "ok", Health: "ok", Reading: f64(12.06), State: "enabled",
				Thresholds: Thresholds{UNC: f64(12.9), UCR: f64(13.2), LNC: f64(11.1), LCR: f64(10.8)}}
			if !reflect.DeepEqual(sensors[4], want) {
				t.Fatalf("sensor 5 = %s, want %s", sensorText(sensors[4]), sensorText(want))
			}
			sim.SetSensor(1, 92)
			sensors, _ = b.Sensors(ctx, ep)
			if sensors[0].Value != "92" || sensors[0].Status != "critical" {
				t.Fatalf("hot CPU = %+v", sensors[0])
			}

			sel, err := b.SEL(ctx, ep, 0)
			if err != nil || len(sel) != sim.SELCount() || len(sel) < 5 {
				t.Fatalf("SEL = %d entries (%v), BMC has %d", len(sel), err, sim.SELCount())
			}
			last, err := b.SEL(ctx, ep, 2)
			if err != nil || len(last) != 2 || last[1].ID != sel[len(sel)-1].ID || last[0].ID != sel[len(sel)-2].ID {
				t.Fatalf("SEL limit 2 = %+v, %v", last, err)
			}
			if sel[0].Event != "OEM System Boot Event" || sel[0].Direction != "asserted" || sel[0].Time.IsZero() {
				t.Fatalf("first SEL entry = %+v", sel[0])
			}
			if err := b.ClearSEL(ctx, ep); err != nil || sim.SELCount() != 0 {
				t.Fatalf("ClearSEL: %v, %d left", err, sim.SELCount())
			}
			if sel, err := b.SEL(ctx, ep, 0); err != nil || len(sel) != 0 {
				t.Fatalf("SEL after clear = %v, %v", sel, err)
			}
			if n := hs.Load(); n != 1 {
				t.Fatalf("%d handshakes for sequential calls, want 1 (warm session)", n)
			}
		})
	}
}

func TestBrokerPrivilegeLimits(t *testing.T) {
	ctx := t.Context()
	sim := startBMC(t, bmcsim.Options{Privilege: "operator"})
	b, _ := newTestBroker(t, Options{})

	user := endpointFor("node", sim.Addr(), 3)
	user.Privilege = PrivUser
	if _, err := b.PowerStatus(ctx, user); err != nil {
		t.Fatalf("user-level status: %v", err)
	}
	e := wantKind(t, b.Power(ctx, user, PowerOn), ErrBMC)
	if !strings.Contains(e.Msg, "0xd4") || sim.Power() {
		t.Fatalf("user-level power on: %q, power %v", e.Msg, sim.Power())
	}
	// A clear needs operator too.
	wantKind(t, b.ClearSEL(ctx, user), ErrBMC)

	admin := endpointFor("node-admin", sim.Addr(), 3)
	admin.Privilege = PrivAdministrator
	e = wantKind(t, b.Power(ctx, admin, PowerOn), ErrAuth)
	if !strings.Contains(e.Msg, "privilege") {
		t.Fatalf("admin on an operator account: %q", e.Msg)
	}
}

func TestBrokerRefusesWeakBMC(t *testing.T) {
	ctx := t.Context()
	cases := []struct {
		name   string
		offers []int
		suite  int
		want   string
	}{
		{"BMC offers only suite 0", []int{0}, 3, "does not support cipher suite 3"},
		{"BMC offers only suites 1 and 2", []int{1, 2}, 17, "does not support cipher suite 17"},
		{"BMC offers only suite 17", []int{17}, 3, "does not support cipher suite 3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim := startBMC(t, bmcsim.Options{CipherSuites: c.offers})
			b, hs := newTestBroker(t, Options{})
			start := time.Now()
			e := wantKind(t, b.Power(ctx, endpointFor("weak", sim.Addr(), c.suite), PowerOn), ErrInsecure)
			if !strings.Contains(e.Msg, c.want) || sim.Power() {
				t.Fatalf("message %q, power %v", e.Msg, sim.Power())
			}
			within(t, "refusal", time.Since(start), time.Second)
			if hs.Load() != 1 {
				t.Fatalf("%d handshakes, want exactly 1 (no fallback)", hs.Load())
			}
		})
	}
	t.Run("insecure suite requested", func(t *testing.T) {
		sim := startBMC(t, bmcsim.Options{CipherSuites: []int{0, 3}})
		b, hs := newTestBroker(t, Options{})
		for _, s := range []int{0, 1, 2} {
			wantKind(t, b.Power(ctx, endpointFor("weak", sim.Addr(), s), PowerOn), ErrInsecure)
		}
		if hs.Load() != 0 || sim.Power() {
			t.Fatal("a packet was sent for an insecure suite")
		}
	})
}

func TestBrokerWarmSessions(t *testing.T) {
	ctx := t.Context()
	sim := startBMC(t, bmcsim.Options{})
	ep := endpointFor("node", sim.Addr(), 17)

	t.Run("N calls, 1 handshake", func(t *testing.T) {
		b, hs := newTestBroker(t, Options{})
		for range 20 {
			if _, err := b.PowerStatus(ctx, ep); err != nil {
				t.Fatal(err)
			}
		}
		if hs.Load() != 1 || b.Stats().WarmHits != 19 {
			t.Fatalf("handshakes %d, stats %+v", hs.Load(), b.Stats())
		}
	})
	t.Run("concurrency is bounded by SessionsPerBMC", func(t *testing.T) {
		b, hs := newTestBroker(t, Options{SessionsPerBMC: 2})
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := b.PowerStatus(ctx, ep); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if n := hs.Load(); n < 1 || n > 2 {
			t.Fatalf("%d handshakes, want 1 or 2", n)
		}
		if st := b.Stats(); st.Idle > 2 {
			t.Fatalf("%d idle sessions, want at most 2", st.Idle)
		}
	})
	t.Run("keep-alive", func(t *testing.T) {
		// The janitor pings the idle session every KeepAlive; IdleClose is
		// far away, so the session stays and is reused however slowly the
		// pings come.
		b, hs := newTestBroker(t, Options{KeepAlive: 20 * time.Millisecond, IdleClose: time.Hour})
		if _, err := b.PowerStatus(ctx, ep); err != nil {
			t.Fatal(err)
		}
		p := b.poolFor(ep.Name)
		p.mu.Lock()
		g := p.idle[0].s.g
		p.mu.Unlock()
		sent := g.snapshot().sent
		deadline := time.NewTimer(60 * time.Second)
		defer deadline.Stop()
		for {
			p.mu.Lock()
			done := p.pingDone // closed when the next ping ends
			p.mu.Unlock()
			if g.snapshot().sent-sent >= 2 {
				break
			}
			select {
			case <-done:
			case <-deadline.C:
				t.Fatalf("%d keep-alive packets, want 2, with KeepAlive 20ms", g.snapshot().sent-sent)
			}
		}
		if _, err := b.PowerStatus(ctx, ep); err != nil || hs.Load() != 1 {
			t.Fatalf("kept-alive session not reused: %v, %d handshakes", err, hs.Load())
		}
	})
	t.Run("idle close", func(t *testing.T) {
		// A sweep at a time IdleClose after the last use closes the idle
		// session; the next call sets up a new one. The janitor's own
		// sweeps (real time, an hour from either limit) do nothing here.
		b, hs := newTestBroker(t, Options{KeepAlive: time.Hour, IdleClose: time.Hour})
		if _, err := b.PowerStatus(ctx, ep); err != nil {
			t.Fatal(err)
		}
		p := b.poolFor(ep.Name)
		b.sweep(time.Now().Add(time.Hour - time.Minute))
		if n := p.idleCount(); n != 1 {
			t.Fatalf("%d idle sessions before IdleClose, want 1", n)
		}
		b.sweep(time.Now().Add(time.Hour))
		if n := p.idleCount(); n != 0 {
			t.Fatalf("%d idle sessions after IdleClose, want 0", n)
		}
		if _, err := b.PowerStatus(ctx, ep); err != nil || hs.Load() != 2 {
			t.Fatalf("after idle close: %v, %d handshakes, want 2", err, hs.Load())
		}
	})
	t.Run("Forget and endpoint changes", func(t *testing.T) {
		b, hs := newTestBroker(t, Options{})
		b.PowerStatus(ctx, ep)
		b.Forget(ep.Name)
		b.PowerStatus(ctx, ep)
		if hs.Load() != 2 {
			t.Fatalf("Forget: %d handshakes, want 2", hs.Load())
		}
		changed := ep
		changed.CipherSuite = 3
		if _, err := b.PowerStatus(ctx, changed); err != nil || hs.Load() != 3 {
			t.Fatalf("changed suite: %v, %d handshakes, want 3", err, hs.Load())
		}
		wrong := ep
		wrong.Password = "rotated-elsewhere"
		wantKind(t, func() error { _, err := b.PowerStatus(ctx, wrong); return err }(), ErrAuth)
	})
	t.Run("closed broker", func(t *testing.T) {
		b, _ := newTestBroker(t, Options{})
		b.PowerStatus(ctx, ep)
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		_, err := b.PowerStatus(ctx, ep)
		wantKind(t, err, ErrClosed)
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	})
}
