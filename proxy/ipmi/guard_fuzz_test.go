package ipmi

import (
	"bytes"
	"crypto/hmac"
	"encoding/binary"
	"testing"

	"github.com/bmcgate/bmcgate/internal/rmcp"
	"github.com/bougou/go-ipmi/pkg/crypto"
	"github.com/bougou/go-ipmi/pkg/types"
)

// The fuzz targets here drive the session guard's packet checks directly
// (inbound, outbound, open), without sockets, from every state of the
// session setup. Each run starts from a fresh guard.

// fuzzStates are the states a guard waits for a datagram in.
var fuzzStates = []guardState{gsPre, gsOpenSent, gsRAKP1Sent, gsRAKP3Sent, gsActive}

// fuzzRig holds the values of the crafted session the guards are set up
// with, for one cipher suite.
type fuzzRig struct {
	suite                      int
	a                          algorithms
	consoleRand, bmcRand, guid [16]byte
	keys                       sessionKeys
	rakp2Code, rakp4ICV        []byte
}

func newFuzzRig(tb testing.TB, suite int) *fuzzRig {
	tb.Helper()
	a, _ := suiteAlgorithms(suite)
	r := &fuzzRig{suite: suite, a: a, keys: sessionKeys{a: a}}
	for i := range 16 {
		r.consoleRand[i], r.bmcRand[i], r.guid[i] = byte(i), byte(0x40+i), byte(0x80+i)
	}
	alg := types.AuthAlg(a.auth)
	kuid := crypto.PadPassword20([]byte(testPassword))
	full, err := crypto.RAKP2AuthCode(alg, testConsoleID, testBMCID, r.consoleRand[:], r.bmcRand[:], r.guid[:], testRole, testUser, kuid)
	if err != nil {
		tb.Fatal(err)
	}
	r.rakp2Code, _ = crypto.TruncateRAKP2AuthCode(alg, full)
	sik, _ := crypto.DeriveSIK(alg, r.consoleRand[:], r.bmcRand[:], testRole, testUser, kuid)
	r.rakp4ICV, _ = crypto.RAKP4ICV(alg, r.consoleRand[:], testBMCID, r.guid[:], sik)
	r.keys.k1, _ = crypto.DeriveK1(alg, sik)
	r.keys.k2, _ = crypto.DeriveK2(alg, sik)
	return r
}

// guardAt returns a guard that has reached st with the rig's values, as
// if the exchange before it had taken place.
func (r *fuzzRig) guardAt(st guardState) *guard {
	g := newGuard(Endpoint{Name: "fuzz", Username: testUser, Password: testPassword, CipherSuite: r.suite}, nil)
	g.state = st
	if st >= gsOpenSent {
		g.consoleID = testConsoleID
	}
	if st >= gsOpenRecv {
		g.bmcID = testBMCID
	}
	if st >= gsRAKP1Sent {
		g.consoleRand, g.role = r.consoleRand, testRole
	}
	if st >= gsRAKP2Recv {
		g.bmcRand, g.guid = r.bmcRand, r.guid
	}
	if st == gsActive {
		g.k1, g.k2 = r.keys.k1, r.keys.k2[:16]
	}
	return g
}

// validAuthCode checks an in-session packet's integrity AuthCode with
// go-ipmi's implementation.
func (r *fuzzRig) validAuthCode(pkt []byte) bool {
	n := authCodeLen(r.a.integ)
	if len(pkt) < rmcp.HeaderLen+n {
		return false
	}
	mac, err := crypto.SessionIntegrityAuthCode(types.IntegrityAlg(r.a.integ), pkt[rmcp.HeaderLen:len(pkt)-n], r.keys.k1, "")
	return err == nil && hmac.Equal(mac, pkt[len(pkt)-n:])
}

// inboundSeeds are valid and nearly valid datagrams from the BMC for
// every state.
func (r *fuzzRig) inboundSeeds() map[guardState][][]byte {
	v15 := []byte{0x06, 0x00, 0xff, 0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, 0x81, 0x1c, 0x63}
	short := rakp2(0, testConsoleID, r.bmcRand, r.guid, r.rakp2Code)
	short = short[:len(short)-1]
	return map[guardState][][]byte{
		gsPre:       {v15, {0x06, 0x00, 0xff, 0x06, 0x00, 0x00, 0x11, 0xbe, 0x40, 0x01, 0x00, 0x10}, nil},
		gsOpenSent:  {openResponse(0, testConsoleID, testBMCID, r.a), openResponse(0x01, testConsoleID, testBMCID, r.a), openResponse(0, testConsoleID, testBMCID, algorithms{})},
		gsRAKP1Sent: {rakp2(0, testConsoleID, r.bmcRand, r.guid, r.rakp2Code), rakp2(0x0d, testConsoleID, r.bmcRand, r.guid, nil), short},
		gsRAKP3Sent: {rakp4(testConsoleID, r.rakp4ICV), rakp4(testConsoleID, r.rakp4ICV[1:])},
		gsActive: {
			r.keys.sessionPacket(rmcp.PayloadIPMI, testConsoleID, 7, []byte("chassis status answer"), true, true),
			r.keys.sessionPacket(rmcp.PayloadSOL, testConsoleID, 8, []byte{1, 0, 0, 0, 'o', 'k'}, true, true),
			r.keys.sessionPacket(rmcp.PayloadIPMI, testConsoleID, 9, []byte("x"), false, true),
			r.keys.sessionPacket(rmcp.PayloadIPMI, testConsoleID, 10, []byte("x"), false, false),
		},
	}
}

// FuzzGuardInbound feeds arbitrary datagrams to a guard in each state of
// the session setup and checks what it lets through: before any exchange
// only a session-less IPMI 1.5 answer; during the setup only the expected
// answer with the requested algorithms and correct key exchange codes; in
// the active session only authenticated, encrypted packets of the session
// whose AuthCode go-ipmi's implementation verifies. No datagram is fatal
// to an active session, the guard never changes a datagram, and open never
// panics on what it accepted.
func FuzzGuardInbound(f *testing.F) {
	rigs := map[int]*fuzzRig{3: newFuzzRig(f, 3), 17: newFuzzRig(f, 17)}
	for i, st := range fuzzStates {
		for _, pkt := range rigs[3].inboundSeeds()[st] {
			f.Add(pkt, byte(i), false)
		}
		for _, pkt := range rigs[17].inboundSeeds()[st] {
			f.Add(pkt, byte(i), true)
		}
	}
	f.Fuzz(func(t *testing.T, pkt []byte, sti byte, suite17 bool) {
		r := rigs[3]
		if suite17 {
			r = rigs[17]
		}
		st := fuzzStates[int(sti)%len(fuzzStates)]
		g := r.guardAt(st)
		in := bytes.Clone(pkt)
		deliver, err := g.inbound(in)
		if !bytes.Equal(in, pkt) {
			t.Fatal("inbound changed the datagram")
		}
		if err != nil && st == gsActive {
			t.Fatalf("datagram %x ended an active session: %v", pkt, err)
		}
		if err != nil && deliver {
			t.Fatal("delivered with a fatal verdict")
		}
		if !deliver {
			if g.state != st && err == nil {
				t.Fatalf("state moved from %d to %d on a dropped datagram", st, g.state)
			}
			return
		}
		h, v2 := parseV2(pkt)
		switch st {
		case gsPre:
			if isV2(pkt) || len(pkt) < 14 || pkt[4] != 0 || binary.LittleEndian.Uint32(pkt[9:13]) != 0 {
				t.Fatalf("delivered %x before the session setup", pkt)
			}
		case gsOpenSent:
			if !v2 || h.payloadType != rmcp.PayloadOpenResp || g.state != gsOpenRecv || g.bmcID == 0 {
				t.Fatalf("delivered %x as an Open Session Response (state %d)", pkt, g.state)
			}
			if got, ok := parseAlgPayloads(h.payload[12:]); !ok || got != r.a {
				t.Fatalf("accepted algorithms %v, want %v", got, r.a)
			}
		case gsRAKP1Sent:
			if !v2 || h.payloadType != rmcp.PayloadRAKP2 || g.state != gsRAKP2Recv || !bytes.Equal(h.payload[40:40+len(r.rakp2Code)], r.rakp2Code) {
				t.Fatalf("delivered %x as RAKP 2 (state %d)", pkt, g.state)
			}
		case gsRAKP3Sent:
			if !v2 || h.payloadType != rmcp.PayloadRAKP4 || g.state != gsActive || !bytes.Equal(h.payload[8:8+len(r.rakp4ICV)], r.rakp4ICV) {
				t.Fatalf("delivered %x as RAKP 4 (state %d)", pkt, g.state)
			}
		case gsActive:
			if !v2 || !h.authenticated || !h.encrypted || h.sessionID != testConsoleID ||
				(h.payloadType != rmcp.PayloadIPMI && h.payloadType != rmcp.PayloadSOL) || !r.validAuthCode(pkt) {
				t.Fatalf("delivered %x in the active session", pkt)
			}
			if again, _ := g.inbound(bytes.Clone(pkt)); again {
				t.Fatalf("delivered %x twice (replay)", pkt)
			}
			_, _ = g.open(in)
		}
	})
}

// FuzzGuardTamper: an authenticated packet of the active session changed
// anywhere the AuthCode covers, or cut short, is never delivered; the
// original is delivered once and opens to what was sealed.
func FuzzGuardTamper(f *testing.F) {
	rigs := map[int]*fuzzRig{3: newFuzzRig(f, 3), 17: newFuzzRig(f, 17)}
	f.Add([]byte("chassis status answer"), uint16(20), byte(0x80), uint16(0xffff), false, false)
	f.Add([]byte{1, 0, 0, 0, 'o', 'k'}, uint16(0), byte(0), uint16(30), true, true)
	f.Add([]byte{}, uint16(5), byte(0x40), uint16(0xffff), false, true)
	f.Add(bytes.Repeat([]byte{0xaa}, 300), uint16(2), byte(1), uint16(0xffff), true, false)
	f.Fuzz(func(t *testing.T, plain []byte, pos uint16, xor byte, cut uint16, sol, suite17 bool) {
		if len(plain) > 1024 {
			return
		}
		r := rigs[3]
		if suite17 {
			r = rigs[17]
		}
		ptype := byte(rmcp.PayloadIPMI)
		if sol {
			ptype = rmcp.PayloadSOL
		}
		pkt := r.keys.sessionPacket(ptype, testConsoleID, 77, plain, true, true)
		bad := bytes.Clone(pkt)
		bad[int(pos)%len(bad)] ^= xor
		if int(cut) < len(bad) {
			bad = bad[:cut]
		}
		g := r.guardAt(gsActive)
		deliver, err := g.inbound(bad)
		if err != nil {
			t.Fatalf("fatal verdict in the active session: %v", err)
		}
		same := len(bad) == len(pkt) && bytes.Equal(bad[rmcp.HeaderLen:], pkt[rmcp.HeaderLen:])
		if deliver && !same {
			t.Fatalf("delivered a forged or truncated packet %x (sealed %x)", bad, pkt)
		}
		if !same {
			return
		}
		// Only the RMCP header, which the AuthCode does not cover, changed.
		if valid := bad[0] == rmcp.Version && bad[3]&0x1f == rmcp.ClassIPMI; deliver != valid {
			t.Fatalf("RMCP header %x: delivered %v", bad[:4], deliver)
		}
		if !deliver {
			return
		}
		if again, _ := g.inbound(bytes.Clone(bad)); again {
			t.Fatal("replay delivered")
		}
		got, err := g.open(bad)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("opened to %x, %v; sealed %x", got, err, plain)
		}
	})
}

// FuzzGuardOutbound: from each state, the guard sends only what the
// protocol allows there, never proposes anything but the requested
// algorithms (never cipher suite 0 or RC4), and re-signs every session
// packet it lets out so that go-ipmi's implementation verifies it.
func FuzzGuardOutbound(f *testing.F) {
	rigs := map[int]*fuzzRig{3: newFuzzRig(f, 3), 17: newFuzzRig(f, 17)}
	caps := []byte{0x06, 0x00, 0xff, 0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x09, 0x20, 0x18, 0xc8, 0x81, 0x04, 0x38, 0x8e, 0x04, 0xb1}
	for _, suite17 := range []bool{false, true} {
		r := rigs[3]
		if suite17 {
			r = rigs[17]
		}
		f.Add(caps, byte(0), suite17)
		f.Add(openRequest(testConsoleID, r.a), byte(0), suite17)
		f.Add(openRequest(testConsoleID, algorithms{}), byte(0), suite17)
		f.Add(rakp1(testBMCID, r.consoleRand, testRole, testUser), byte(2), suite17)
		f.Add(rakp3(testBMCID, []byte("code")), byte(3), suite17)
		f.Add(r.keys.sessionPacket(rmcp.PayloadIPMI, testBMCID, 3, []byte("get chassis status"), true, true), byte(4), suite17)
		f.Add(r.keys.sessionPacket(rmcp.PayloadSOL, testBMCID, 4, []byte{1, 0, 0, 0, 'l', 's'}, true, true), byte(4), suite17)
		f.Add(r.keys.sessionPacket(rmcp.PayloadIPMI, testBMCID, 5, []byte("x"), false, false), byte(4), suite17)
	}
	f.Fuzz(func(t *testing.T, pkt []byte, sti byte, suite17 bool) {
		r := rigs[3]
		if suite17 {
			r = rigs[17]
		}
		// A guard that sent RAKP 1 waits for RAKP 2; the states a client
		// sends from are these.
		st := []guardState{gsPre, gsOpenSent, gsOpenRecv, gsRAKP2Recv, gsActive}[int(sti)%5]
		g := r.guardAt(st)
		out := bytes.Clone(pkt)
		if err := g.outbound(out); err != nil {
			if g.verdict() == nil {
				t.Fatalf("refusal %v without a verdict", err)
			}
			return
		}
		if !isV2(pkt) {
			h, ok := parseV15(pkt)
			if st != gsPre || !ok || h.authType != 0 || h.sessionID != 0 || !isGetChannelAuthCaps(h.msg) {
				t.Fatalf("sent %x outside RMCP+ in state %d", pkt, st)
			}
			return
		}
		h, ok := parseV2(out)
		if !ok {
			t.Fatalf("sent a malformed packet %x", pkt)
		}
		switch h.payloadType {
		case rmcp.PayloadOpenReq:
			if got, ok := parseAlgPayloads(h.payload[8:]); !ok || got != r.a || got.weak() {
				t.Fatalf("proposed %v in %x", got, pkt)
			}
		case rmcp.PayloadRAKP1, rmcp.PayloadRAKP3:
			if h.sessionID != 0 || h.authenticated || h.encrypted {
				t.Fatalf("sent session-setup packet %x inside a session", pkt)
			}
		case rmcp.PayloadIPMI, rmcp.PayloadSOL:
			if st != gsActive || !h.authenticated || !h.encrypted || h.sessionID != testBMCID || !r.validAuthCode(out) {
				t.Fatalf("sent %x as %x in state %d", pkt, out, st)
			}
			if !bytes.Equal(out[:rmcp.HeaderLen+2+4], pkt[:rmcp.HeaderLen+2+4]) || len(out) != len(pkt) {
				t.Fatalf("re-encryption changed the header or the length: %x -> %x", pkt, out)
			}
		default:
			t.Fatalf("sent payload type %#x", h.payloadType)
		}
	})
}
