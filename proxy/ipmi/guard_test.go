package ipmi

import (
	"bytes"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/rmcp"
	"github.com/bougou/go-ipmi/pkg/crypto"
	"github.com/bougou/go-ipmi/pkg/types"
)

const (
	testUser      = "operator1"
	testPassword  = "Zebra-Pa55-9f3e"
	testConsoleID = 0xa0a1a2a3
	testBMCID     = 0x11223344
	testRole      = 0x13 // name-only lookup, operator
)

// guardRig connects a guard to a crafted-packet "BMC" socket on loopback.
type guardRig struct {
	t    *testing.T
	g    *guard
	bmc  net.PacketConn
	peer net.Addr // the guard's socket
	keys sessionKeys

	consoleRand, bmcRand, guid [16]byte
}

func newGuardRig(t *testing.T, suite int) *guardRig {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	ep := Endpoint{Name: "rig", Username: testUser, Password: testPassword, CipherSuite: suite}
	g := newGuard(ep, nil)
	if _, err := (guardDialer{ctx: t.Context(), g: g}).Dial("udp", pc.LocalAddr().String()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	r := &guardRig{t: t, g: g, bmc: pc, peer: g.LocalAddr()}
	r.keys.a = g.want
	for i := range 16 {
		r.consoleRand[i], r.bmcRand[i], r.guid[i] = byte(i), byte(0x40+i), byte(0x80+i)
	}
	return r
}

// send writes a datagram from the crafted BMC to the guard.
func (r *guardRig) send(pkt []byte) {
	r.t.Helper()
	if _, err := r.bmc.WriteTo(pkt, r.peer); err != nil {
		r.t.Fatal(err)
	}
}

// clientWrite sends pkt through the guard and checks the BMC received it.
func (r *guardRig) clientWrite(pkt []byte) {
	r.t.Helper()
	if _, err := r.g.Write(pkt); err != nil {
		r.t.Fatalf("guard refused a valid packet: %v", err)
	}
	buf := make([]byte, 2048)
	_ = r.bmc.SetReadDeadline(time.Now().Add(time.Second))
	n, _, err := r.bmc.ReadFrom(buf)
	if err != nil || !bytes.Equal(buf[:n], pkt) {
		r.t.Fatalf("BMC side did not receive the packet: %v", err)
	}
}

// read returns the next datagram the guard delivers within d.
func (r *guardRig) read(d time.Duration) ([]byte, error) {
	_ = r.g.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 4096)
	n, err := r.g.Read(buf)
	return buf[:n], err
}

// expectDelivered checks that pkt comes out of the guard unchanged.
func (r *guardRig) expectDelivered(pkt []byte) {
	r.t.Helper()
	got, err := r.read(time.Second)
	if err != nil {
		r.t.Fatalf("expected delivery, got %v", err)
	}
	if !bytes.Equal(got, pkt) {
		r.t.Fatalf("delivered %x, want %x", got, pkt)
	}
}

func (r *guardRig) kuid() []byte { return crypto.PadPassword20([]byte(testPassword)) }

// open runs Open Session Request/Response.
func (r *guardRig) open() {
	r.clientWrite(openRequest(testConsoleID, r.keys.a))
	resp := openResponse(0, testConsoleID, testBMCID, r.keys.a)
	r.send(resp)
	r.expectDelivered(resp)
}

// rakp12 runs RAKP 1 and a correct RAKP 2.
func (r *guardRig) rakp12() {
	r.clientWrite(rakp1(testBMCID, r.consoleRand, testRole, testUser))
	r.send(r.rakp2(r.kuid()))
	r.read(time.Second)
}

func (r *guardRig) rakp2(kuid []byte) []byte {
	alg := types.AuthAlg(r.keys.a.auth)
	full, err := crypto.RAKP2AuthCode(alg, testConsoleID, testBMCID, r.consoleRand[:], r.bmcRand[:], r.guid[:], testRole, testUser, kuid)
	if err != nil {
		r.t.Fatal(err)
	}
	code, _ := crypto.TruncateRAKP2AuthCode(alg, full)
	return rakp2(0, testConsoleID, r.bmcRand, r.guid, code)
}

// activate runs the whole handshake with correct cryptography.
func (r *guardRig) activate() {
	r.t.Helper()
	r.open()
	r.rakp12()
	r.clientWrite(rakp3(testBMCID, []byte("ignored-by-the-guard")))
	alg := types.AuthAlg(r.keys.a.auth)
	sik, _ := crypto.DeriveSIK(alg, r.consoleRand[:], r.bmcRand[:], testRole, testUser, r.kuid())
	icv, _ := crypto.RAKP4ICV(alg, r.consoleRand[:], testBMCID, r.guid[:], sik)
	r.keys.k1, _ = crypto.DeriveK1(alg, sik)
	r.keys.k2, _ = crypto.DeriveK2(alg, sik)
	resp := rakp4(testConsoleID, icv)
	r.send(resp)
	r.expectDelivered(resp)
	if st := r.g.snapshot().state; st != gsActive {
		r.t.Fatalf("guard state %d after handshake, want active", st)
	}
}

func wantVerdict(t *testing.T, err error, kind Kind, msgPart string) {
	t.Helper()
	var ge *guardError
	if !errors.As(err, &ge) {
		t.Fatalf("got %v, want a guard verdict", err)
	}
	if ge.kind != kind || !strings.Contains(ge.msg, msgPart) {
		t.Fatalf("verdict %v (%s), want kind %v containing %q", ge, ge.kind, kind, msgPart)
	}
}

func TestGuardOutboundOpenSessionProposals(t *testing.T) {
	suite3, _ := suiteAlgorithms(3)
	suite17, _ := suiteAlgorithms(17)
	cases := []struct {
		name string
		a    algorithms
	}{
		{"none/none/none", algorithms{authNone, integNone, confNone}},
		{"RC4", algorithms{authHMACSHA1, integHMACSHA1_96, confXRC4_128}},
		{"no encryption", algorithms{authHMACSHA1, integHMACSHA1_96, confNone}},
		{"MD5", algorithms{authHMACMD5, integMD5_128, confAESCBC128}},
		{"suite 17 while 3 is configured", suite17},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newGuardRig(t, 3)
			_, err := r.g.Write(openRequest(testConsoleID, c.a))
			wantVerdict(t, err, KindInsecure, "refused to propose")
			// Once refused, nothing else leaves either.
			if _, err := r.g.Write(openRequest(testConsoleID, suite3)); err == nil {
				t.Fatal("guard sent after a refusal")
			}
		})
	}
}

func TestGuardOpenSessionResponseChecks(t *testing.T) {
	cases := []struct {
		name string
		resp func(a algorithms) []byte
		kind Kind
		msg  string
	}{
		{"downgrade to none/none/none", func(algorithms) []byte {
			return openResponse(0, testConsoleID, testBMCID, algorithms{})
		}, KindInsecure, "BMC negotiated none/none/none, requested RAKP-HMAC-SHA1/HMAC-SHA1-96/AES-CBC-128"},
		{"downgrade to RC4", func(a algorithms) []byte {
			a.conf = confXRC4_128
			return openResponse(0, testConsoleID, testBMCID, a)
		}, KindInsecure, "negotiated RAKP-HMAC-SHA1/HMAC-SHA1-96/xRC4-128"},
		{"integrity none", func(a algorithms) []byte {
			a.integ = integNone
			return openResponse(0, testConsoleID, testBMCID, a)
		}, KindInsecure, "negotiated RAKP-HMAC-SHA1/none/AES-CBC-128"},
		{"no matching suite", func(algorithms) []byte {
			return v2Datagram(rmcp.PayloadOpenResp, 0, 0, []byte{0x00, 0x11})
		}, KindInsecure, "does not support cipher suite 3"},
		{"no free session", func(algorithms) []byte {
			return v2Datagram(rmcp.PayloadOpenResp, 0, 0, []byte{0x00, 0x01})
		}, KindBusy, "no free session"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newGuardRig(t, 3)
			r.clientWrite(openRequest(testConsoleID, r.keys.a))
			r.send(c.resp(r.keys.a))
			_, err := r.read(time.Second)
			wantVerdict(t, err, c.kind, c.msg)
		})
	}
}

func TestGuardIgnoresAnswersForOtherSessions(t *testing.T) {
	r := newGuardRig(t, 17)
	r.clientWrite(openRequest(testConsoleID, r.keys.a))
	r.send(openResponse(0, testConsoleID+1, testBMCID, algorithms{})) // someone else's
	r.send(rakp2(0, testConsoleID, r.bmcRand, r.guid, nil))           // out of order
	good := openResponse(0, testConsoleID, testBMCID, r.keys.a)
	r.send(good)
	r.expectDelivered(good)
	if d := r.g.snapshot().dropped; d != 2 {
		t.Fatalf("dropped %d, want 2", d)
	}
}

func TestGuardRAKP(t *testing.T) {
	t.Run("wrong password in RAKP 2", func(t *testing.T) {
		r := newGuardRig(t, 3)
		r.open()
		r.clientWrite(rakp1(testBMCID, r.consoleRand, testRole, testUser))
		r.send(r.rakp2(crypto.PadPassword20([]byte("another-password"))))
		_, err := r.read(time.Second)
		wantVerdict(t, err, KindAuth, "user name or password")
	})
	t.Run("unknown user status", func(t *testing.T) {
		r := newGuardRig(t, 3)
		r.open()
		r.clientWrite(rakp1(testBMCID, r.consoleRand, testRole, testUser))
		r.send(v2Datagram(rmcp.PayloadRAKP2, 0, 0, []byte{0x00, 0x0d}))
		_, err := r.read(time.Second)
		wantVerdict(t, err, KindAuth, "user name or password")
	})
	t.Run("bad RAKP 4 check value", func(t *testing.T) {
		r := newGuardRig(t, 17)
		r.open()
		r.rakp12()
		r.clientWrite(rakp3(testBMCID, nil))
		r.send(rakp4(testConsoleID, bytes.Repeat([]byte{0x42}, 16)))
		_, err := r.read(time.Second)
		wantVerdict(t, err, KindInsecure, "did not prove the session key")
	})
	t.Run("RAKP 1 asking for another privilege is refused", func(t *testing.T) {
		r := newGuardRig(t, 3)
		r.open()
		_, err := r.g.Write(rakp1(testBMCID, r.consoleRand, 0x14, testUser)) // administrator
		wantVerdict(t, err, KindInsecure, "RAKP message 1")
	})
	t.Run("RAKP 1 for another user is refused", func(t *testing.T) {
		r := newGuardRig(t, 3)
		r.open()
		_, err := r.g.Write(rakp1(testBMCID, r.consoleRand, testRole, "root"))
		wantVerdict(t, err, KindInsecure, "RAKP message 1")
	})
}

func TestGuardActiveSessionFiltering(t *testing.T) {
	for _, suite := range []int{3, 17} {
		t.Run("suite "+map[int]string{3: "3", 17: "17"}[suite], func(t *testing.T) {
			r := newGuardRig(t, suite)
			r.activate()
			seq := uint32(1)
			valid := func() []byte {
				seq++
				return r.keys.sessionPacket(rmcp.PayloadIPMI, testConsoleID, seq, []byte("chassis status answer"), true, true)
			}
			first := valid()
			r.send(first)
			r.expectDelivered(first)

			tampered := valid()
			tampered[len(tampered)-1] ^= 0x01
			badPayload := valid()
			badPayload[rmcp.V2HeaderLen+20] ^= 0x80
			wrongKey := sessionKeys{a: r.keys.a, k1: bytes.Repeat([]byte{1}, 32), k2: r.keys.k2}
			v15 := []byte{0x06, 0x00, 0xff, 0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, 0x81, 0x1c, 0x63}
			junk := []struct {
				name string
				pkt  []byte
			}{
				{"bad AuthCode", tampered},
				{"payload altered after signing", badPayload},
				{"signed with another key", wrongKey.sessionPacket(rmcp.PayloadIPMI, testConsoleID, 90, []byte("x"), true, true)},
				{"unauthenticated, unencrypted", r.keys.sessionPacket(rmcp.PayloadIPMI, testConsoleID, 91, []byte("power is on"), false, false)},
				{"encrypted, unauthenticated", r.keys.sessionPacket(rmcp.PayloadIPMI, testConsoleID, 92, []byte("power is on"), true, false)},
				{"authenticated, unencrypted", r.keys.sessionPacket(rmcp.PayloadIPMI, testConsoleID, 93, []byte("power is on"), false, true)},
				{"other session id", r.keys.sessionPacket(rmcp.PayloadIPMI, testConsoleID+1, 94, []byte("x"), true, true)},
				{"session id zero", r.keys.sessionPacket(rmcp.PayloadIPMI, 0, 95, []byte("x"), true, true)},
				{"unauthenticated SOL", r.keys.sessionPacket(rmcp.PayloadSOL, testConsoleID, 96, []byte("x"), false, false)},
				{"replay", first},
				{"late Open Session Response", openResponse(0, testConsoleID, testBMCID, algorithms{})},
				{"IPMI 1.5", v15},
				{"ASF pong", []byte{0x06, 0x00, 0xff, 0x06, 0x00, 0x00, 0x11, 0xbe, 0x40, 0x01, 0x00, 0x10}},
				{"truncated", first[:20]},
				{"empty", nil},
			}
			for _, j := range junk {
				before := r.g.snapshot().dropped
				r.send(j.pkt)
				next := valid()
				r.send(next)
				r.expectDelivered(next) // the junk was skipped, not delivered
				if d := r.g.snapshot().dropped - before; d != 1 {
					t.Errorf("%s: dropped %d, want 1", j.name, d)
				}
			}
			// Reading with only junk arriving times out instead of delivering,
			// and leaves nothing of the junk in the caller's buffer (the guard
			// reads into a buffer of readBufferSize directly).
			r.send(tampered)
			buf := make([]byte, readBufferSize)
			_ = r.g.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			if _, err := r.g.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("junk alone: got %v, want deadline exceeded", err)
			}
			if !bytes.Equal(buf, make([]byte, readBufferSize)) {
				t.Fatal("a refused datagram was left in the caller's buffer")
			}
			// A small buffer gets a copy of what passed, cut to its size.
			last := valid()
			r.send(last)
			small := make([]byte, 16)
			_ = r.g.SetReadDeadline(time.Now().Add(time.Second))
			if n, err := r.g.Read(small); err != nil || n != len(small) || !bytes.Equal(small, last[:len(small)]) {
				t.Fatalf("small buffer: %d, %v, %x", n, err, small)
			}
		})
	}
}

func TestGuardOutboundInSession(t *testing.T) {
	r := newGuardRig(t, 3)
	if _, err := r.g.Write(r.keys.sessionPacket(rmcp.PayloadIPMI, testBMCID, 1, []byte("x"), false, false)); err == nil {
		t.Fatal("a command was sent before the session was active")
	}
	r = newGuardRig(t, 3)
	r.activate()
	r.clientWrite(r.keys.sessionPacket(rmcp.PayloadIPMI, testBMCID, 1, []byte("get chassis status"), true, true))
	cases := map[string][]byte{
		"unauthenticated": r.keys.sessionPacket(rmcp.PayloadIPMI, testBMCID, 2, []byte("x"), false, false),
		"unencrypted":     r.keys.sessionPacket(rmcp.PayloadIPMI, testBMCID, 3, []byte("x"), false, true),
		"wrong session":   r.keys.sessionPacket(rmcp.PayloadIPMI, testBMCID+1, 4, []byte("x"), true, true),
		"IPMI 1.5":        {0x06, 0x00, 0xff, 0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, 0x20, 0x18, 0xc8},
	}
	for name, pkt := range cases {
		t.Run(name, func(t *testing.T) {
			rr := newGuardRig(t, 3)
			rr.activate()
			_, err := rr.g.Write(pkt)
			wantVerdict(t, err, KindInsecure, "refused to send")
		})
	}
}

func TestGuardReplayWindow(t *testing.T) {
	g := &guard{}
	steps := []struct {
		seq  uint32
		want bool
	}{
		{10, true}, {10, false}, {12, true}, {11, true}, {11, false}, {9, true},
		{200, true}, {137, true}, {136, false}, {12, false}, {201, true}, {201, false},
	}
	for i, s := range steps {
		if got := g.acceptSeq(s.seq); got != s.want {
			t.Fatalf("step %d: acceptSeq(%d) = %v, want %v", i, s.seq, got, s.want)
		}
	}
}
