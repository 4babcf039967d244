package ipmi

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bougou/go-ipmi/pkg/client"
	"github.com/bougou/go-ipmi/pkg/types"

	"github.com/bmcgate/bmcgate/internal/rmcp"
	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
)

// rewriteOpenResponse returns a hook that replaces the algorithms of every
// successful Open Session Response.
func rewriteOpenResponse(a algorithms, rewrites *atomic.Int32) func([]byte) [][]byte {
	return func(p []byte) [][]byte {
		h, ok := parseV2(p)
		if ok && h.payloadType == rmcp.PayloadOpenResp && len(h.payload) >= 36 && h.payload[1] == 0 {
			q := append([]byte(nil), p...)
			q[rmcp.V2HeaderLen+16], q[rmcp.V2HeaderLen+24], q[rmcp.V2HeaderLen+32] = a.auth, a.integ, a.conf
			rewrites.Add(1)
			return [][]byte{q}
		}
		return [][]byte{p}
	}
}

func TestMITMDowngradeIsRefused(t *testing.T) {
	type target struct {
		name  string
		addr  func(t *testing.T) string
		power func() bool
	}
	var simPower func() bool
	targets := []target{
		{"bmcsim", func(t *testing.T) string {
			b := startBMC(t, bmcsim.Options{})
			simPower = b.Power
			return b.Addr()
		}, func() bool { return simPower() }},
		{"ipmi_sim", func(t *testing.T) string {
			s := ipmisim.StartT(t, ipmisim.Options{Users: ipmiSimUsers})
			simPower = func() bool { on, _ := s.Power(); return on }
			return s.Addr
		}, func() bool { return simPower() }},
	}
	downgrades := []struct {
		name string
		to   algorithms
		want string
	}{
		{"none/none/none", algorithms{}, "BMC negotiated none/none/none, requested RAKP-HMAC-SHA1/HMAC-SHA1-96/AES-CBC-128"},
		{"RC4", algorithms{authHMACSHA1, integHMACSHA1_96, confXRC4_128}, "negotiated RAKP-HMAC-SHA1/HMAC-SHA1-96/xRC4-128"},
		{"no integrity", algorithms{authHMACSHA1, integNone, confAESCBC128}, "negotiated RAKP-HMAC-SHA1/none/AES-CBC-128"},
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			addr := tg.addr(t)
			for _, d := range downgrades {
				t.Run(d.name, func(t *testing.T) {
					m := newMITM(t, addr)
					var n atomic.Int32
					m.setToClient(rewriteOpenResponse(d.to, &n))
					b, _ := newTestBroker(t, Options{})
					e := wantKind(t, b.Power(t.Context(), endpointFor("mitm", m.addr(), 3), PowerOn), ErrInsecure)
					if !strings.Contains(e.Msg, d.want) || n.Load() != 1 {
						t.Fatalf("message %q after %d rewrites, want %q", e.Msg, n.Load(), d.want)
					}
					if tg.power() {
						t.Fatal("the BMC was powered on through a downgraded session")
					}
				})
			}
		})
	}
}

// chassisStatusForgeries are unauthenticated Get Chassis Status answers
// claiming "power on", one per requester sequence number, plus copies
// flagged authenticated with a garbage AuthCode.
func chassisStatusForgeries() [][]byte {
	var out [][]byte
	for seq := range byte(64) {
		msg := ipmiResponse(0x00, 0x01, seq, 0x00, []byte{0x01, 0x00, 0x00, 0x00})
		out = append(out, v2Datagram(rmcp.PayloadIPMI, testConsoleID, 1000+uint32(seq), msg))
		fake := v2Datagram(rmcp.PayloadIPMI|rmcp.FlagAuthenticated, testConsoleID, 2000+uint32(seq), msg)
		fake = append(fake, 0xff, 0xff, 0x02, rmcp.NextHeaderIPMI)
		out = append(out, append(fake, make([]byte, 12)...))
	}
	return out
}

func TestMITMForgedAnswersNeverReachTheClient(t *testing.T) {
	sim := startBMC(t, bmcsim.Options{}) // powered off
	m := newMITM(t, sim.Addr())
	var forged atomic.Int32
	forge := func(p []byte) bool {
		if h, ok := parseV2(p); ok && h.payloadType == rmcp.PayloadIPMI && h.sessionID != 0 {
			for _, f := range chassisStatusForgeries() {
				m.inject(f)
				forged.Add(1)
			}
		}
		return true
	}

	t.Run("control: an unguarded client believes the forgery", func(t *testing.T) {
		ep := endpointFor("mitm", m.addr(), 3)
		c, err := client.NewClient(ep.Host, ep.Port, ep.Username, ep.Password)
		if err != nil {
			t.Fatal(err)
		}
		c.WithCipherSuiteID(types.CipherSuiteID3).WithMaxPrivilegeLevel(types.PrivilegeLevelOperator)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		if err := c.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		m.setToBMC(forge)
		defer m.setToBMC(nil)
		r, err := c.GetChassisStatus(ctx)
		if err != nil || !r.PowerIsOn {
			t.Fatalf("forgery not effective (power on = %v, %v); the test would prove nothing", r != nil && r.PowerIsOn, err)
		}
	})

	t.Run("the guarded session drops every forgery", func(t *testing.T) {
		ctx := t.Context()
		s, err := Dial(ctx, endpointFor("mitm", m.addr(), 3), Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(ctx)
		m.setToBMC(forge)
		defer m.setToBMC(nil)
		before := s.g.snapshot().dropped
		forged.Store(0)
		for range 3 {
			st, err := s.PowerStatus(ctx)
			if err != nil || st != PowerStateOff {
				t.Fatalf("PowerStatus = %v, %v; the forgery got through", st, err)
			}
		}
		dropped := s.g.snapshot().dropped - before
		if forged.Load() == 0 || dropped < uint64(forged.Load()) {
			t.Fatalf("forged %d, dropped %d", forged.Load(), dropped)
		}
	})
}

func TestMITMLostAnswers(t *testing.T) {
	ctx := t.Context()
	sim := startBMC(t, bmcsim.Options{PowerOn: true})
	m := newMITM(t, sim.Addr())
	ep := endpointFor("lossy", m.addr(), 3)
	b, hs := newTestBroker(t, Options{CallTimeout: 400 * time.Millisecond})
	if _, err := b.PowerStatus(ctx, ep); err != nil {
		t.Fatal(err)
	}
	var requests atomic.Int32
	m.setToBMC(func(p []byte) bool {
		if h, ok := parseV2(p); ok && h.payloadType == rmcp.PayloadIPMI {
			requests.Add(1)
		}
		return true
	})
	m.setToClient(func(p []byte) [][]byte {
		if h, ok := parseV2(p); ok && h.payloadType == rmcp.PayloadIPMI {
			return nil // the BMC's answers are lost
		}
		return [][]byte{p}
	})

	start := time.Now()
	e := wantKind(t, b.Power(ctx, ep, PowerCycle), ErrUnknownOutcome)
	within(t, "lost answer", time.Since(start), time.Second)
	if requests.Load() != 1 {
		t.Fatalf("the command was sent %d times, want 1", requests.Load())
	}
	if e.Msg != msgUnknownOutcome {
		t.Fatalf("message %q", e.Msg)
	}
	// The command ran exactly once: it was neither retransmitted nor
	// retried on a new session.
	if sim.PowerCycles() != 1 || hs.Load() != 1 {
		t.Fatalf("cycles %d, handshakes %d; want 1 and 1", sim.PowerCycles(), hs.Load())
	}
	_, err := b.PowerStatus(ctx, ep)
	e = wantKind(t, err, ErrUnreachable)
	if !strings.Contains(e.Msg, "did not answer") {
		t.Fatalf("message %q", e.Msg)
	}
}

// TestMITMRetransmitsLostReads: a read whose request or answer is lost is
// sent again on the same session (same request, so the library takes the
// answer; a new session sequence number each time) and succeeds; the BMC
// sees each copy.
func TestMITMRetransmitsLostReads(t *testing.T) {
	ctx := t.Context()
	sim := startBMC(t, bmcsim.Options{PowerOn: true})
	m := newMITM(t, sim.Addr())
	ep := endpointFor("lossy", m.addr(), 3)
	b, hs := newTestBroker(t, Options{CallTimeout: 4 * time.Second})
	if _, err := b.PowerStatus(ctx, ep); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seqs []uint32
	m.setToBMC(func(p []byte) bool {
		h, ok := parseV2(p)
		if !ok || h.payloadType != rmcp.PayloadIPMI {
			return true
		}
		mu.Lock()
		defer mu.Unlock()
		seqs = append(seqs, h.seq)
		return len(seqs) != 1 // the first request is lost
	})
	answers := 0
	m.setToClient(func(p []byte) [][]byte {
		if h, ok := parseV2(p); ok && h.payloadType == rmcp.PayloadIPMI {
			answers++
			if answers == 1 {
				return nil // so is the answer to the second
			}
		}
		return [][]byte{p}
	})
	st, err := b.PowerStatus(ctx, ep)
	if err != nil || st != PowerStateOn {
		t.Fatalf("power status over a lossy link: %v, %v", st, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seqs) != 3 || seqs[0] == seqs[1] || seqs[1] == seqs[2] {
		t.Fatalf("session sequence numbers of the copies: %v, want 3 distinct", seqs)
	}
	if hs.Load() != 1 || b.Stats().Retries != 0 {
		t.Fatalf("handshakes %d, stats %+v: the read was repeated on a new session", hs.Load(), b.Stats())
	}
}

// TestMITMCallDeadline: when every answer is lost, a read returns by the
// call timeout, a fresh session and its handshake included.
func TestMITMCallDeadline(t *testing.T) {
	ctx := t.Context()
	sim := startBMC(t, bmcsim.Options{})
	m := newMITM(t, sim.Addr())
	ep := endpointFor("lossy", m.addr(), 3)
	const timeout = 800 * time.Millisecond
	b, _ := newTestBroker(t, Options{CallTimeout: timeout, ConnectTimeout: time.Second})
	if _, err := b.PowerStatus(ctx, ep); err != nil {
		t.Fatal(err)
	}
	m.setToClient(func(p []byte) [][]byte {
		if h, ok := parseV2(p); ok && h.payloadType == rmcp.PayloadIPMI {
			return nil
		}
		return [][]byte{p}
	})
	start := time.Now()
	_, err := b.PowerStatus(ctx, ep)
	wantKind(t, err, ErrUnreachable)
	within(t, "a read whose answers are all lost", time.Since(start), timeout+150*time.Millisecond)
}
