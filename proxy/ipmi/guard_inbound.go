package ipmi

import (
	"crypto/hmac"
	"encoding/binary"
	"fmt"

	"github.com/bmcgate/bmcgate/internal/rmcp"
	"github.com/bougou/go-ipmi/pkg/crypto"
	"github.com/bougou/go-ipmi/pkg/types"
)

// The methods in this file run with g.mu held.

// setupAnswer reports whether h is an unauthenticated session-setup answer
// for our console session, and its status code. Error answers may be cut
// short after the status byte (ipmi_sim sends only tag and status).
func (g *guard) setupAnswer(h v2Packet) (ok bool, status uint8) {
	p := h.payload
	if h.sessionID != 0 || h.authenticated || h.encrypted || len(p) < 2 {
		return false, 0
	}
	if len(p) >= 8 && binary.LittleEndian.Uint32(p[4:8]) != g.consoleID {
		return false, 0
	}
	if len(p) < 8 && p[1] == 0 {
		return false, 0
	}
	return true, p[1]
}

// inOpen checks the RMCP+ Open Session Response: status 0 and exactly the
// requested algorithms.
func (g *guard) inOpen(h v2Packet) (bool, error) {
	ok, status := g.setupAnswer(h)
	if g.state != gsOpenSent || !ok {
		return false, nil
	}
	if status != 0 {
		return false, g.statusFailure("Open Session", status)
	}
	p := h.payload
	if len(p) < 36 {
		return false, g.failMalformed("short Open Session Response")
	}
	bmcID := binary.LittleEndian.Uint32(p[8:12])
	got, ok := parseAlgPayloads(p[12:36])
	if !ok || bmcID == 0 {
		return false, g.failMalformed("malformed Open Session Response")
	}
	if got != g.want {
		return false, g.failWith(KindInsecure,
			fmt.Sprintf("BMC negotiated %s, requested %s", got, g.want), "")
	}
	g.bmcID = bmcID
	g.state = gsOpenRecv
	return true, nil
}

// inRAKP2 verifies the BMC's key exchange authentication code with the
// password, which proves the BMC knows it and fixes the random numbers the
// session keys derive from.
func (g *guard) inRAKP2(h v2Packet) (bool, error) {
	ok, status := g.setupAnswer(h)
	if g.state != gsRAKP1Sent || !ok {
		return false, nil
	}
	if status != 0 {
		return false, g.statusFailure("RAKP", status)
	}
	p := h.payload
	alg := types.AuthAlg(g.want.auth)
	n := crypto.RAKP2AuthCodeLen(alg)
	if len(p) < 40+n {
		return false, g.failMalformed("short RAKP message 2")
	}
	var bmcRand, guid [16]byte
	copy(bmcRand[:], p[8:24])
	copy(guid[:], p[24:40])
	full, err := crypto.RAKP2AuthCode(alg, g.consoleID, g.bmcID, g.consoleRand[:], bmcRand[:],
		guid[:], g.role, g.user, crypto.PadPassword20([]byte(g.pw.s)))
	if err != nil {
		return false, g.failWith(KindInsecure, "could not verify the BMC", err.Error())
	}
	want, err := crypto.TruncateRAKP2AuthCode(alg, full)
	if err != nil || !hmac.Equal(want, p[40:40+n]) {
		return false, g.failWith(KindAuth, msgBadLogin, "RAKP 2 key exchange code does not match")
	}
	g.bmcRand, g.guid = bmcRand, guid
	g.state = gsRAKP2Recv
	return true, nil
}

// inRAKP4 verifies the integrity check value, derives SIK and K1 and
// activates the session.
func (g *guard) inRAKP4(h v2Packet) (bool, error) {
	ok, status := g.setupAnswer(h)
	if g.state != gsRAKP3Sent || !ok {
		return false, nil
	}
	if status != 0 {
		return false, g.statusFailure("RAKP", status)
	}
	p := h.payload
	alg := types.AuthAlg(g.want.auth)
	sik, err := crypto.DeriveSIK(alg, g.consoleRand[:], g.bmcRand[:], g.role, g.user,
		crypto.PadPassword20([]byte(g.pw.s)))
	if err != nil {
		return false, g.failWith(KindInsecure, "could not derive the session key", err.Error())
	}
	icv, err := crypto.RAKP4ICV(alg, g.consoleRand[:], g.bmcID, g.guid[:], sik)
	if err != nil || len(icv) == 0 || len(p) < 8+len(icv) || !hmac.Equal(icv, p[8:8+len(icv)]) {
		return false, g.failWith(KindInsecure, "the BMC did not prove the session key", "RAKP 4 integrity check value does not match")
	}
	k1, err := crypto.DeriveK1(alg, sik)
	if err != nil {
		return false, g.failWith(KindInsecure, "could not derive the session key", err.Error())
	}
	k2, err := crypto.DeriveK2(alg, sik)
	if err != nil || len(k2) < 16 {
		return false, g.failWith(KindInsecure, "could not derive the session key", "K2")
	}
	g.k1 = k1
	g.k2 = k2[:16]
	g.state = gsActive
	return true, nil
}

// inSession accepts an IPMI or SOL packet of the active session only if it
// is authenticated and encrypted, carries a valid AuthCode and is no replay.
func (g *guard) inSession(pkt []byte, h v2Packet) bool {
	if g.state != gsActive || !h.authenticated || !h.encrypted || h.sessionID != g.consoleID {
		return false
	}
	n := authCodeLen(g.want.integ)
	t := h.trailer
	if n == 0 || len(t) < n+2 {
		return false
	}
	pad := len(t) - n - 2
	if int(t[pad]) != pad || t[pad+1] != rmcp.NextHeaderIPMI {
		return false
	}
	// AES-CBC-128: 16-byte IV plus at least one whole block.
	if len(h.payload) < 32 || len(h.payload)%16 != 0 {
		return false
	}
	_, mac, _, err := g.sessionCrypto()
	if err != nil || !hmac.Equal(g.authCode(mac, pkt[rmcp.HeaderLen:len(pkt)-n], n), pkt[len(pkt)-n:]) {
		return false
	}
	return g.acceptSeq(h.seq)
}

// acceptSeq implements a 64-packet sliding replay window over the BMC's
// session sequence numbers.
func (g *guard) acceptSeq(seq uint32) bool {
	if !g.seqInit {
		g.seqInit, g.seqMax, g.seqSeen = true, seq, 1
		return true
	}
	if seq > g.seqMax {
		if d := seq - g.seqMax; d >= 64 {
			g.seqSeen = 1
		} else {
			g.seqSeen = g.seqSeen<<d | 1
		}
		g.seqMax = seq
		return true
	}
	d := g.seqMax - seq
	if d >= 64 || g.seqSeen&(1<<d) != 0 {
		return false
	}
	g.seqSeen |= 1 << d
	return true
}

// statusFailure maps a non-zero RMCP+ status code (IPMI 2.0 table 13-15) of
// a session setup answer to a verdict.
func (g *guard) statusFailure(stage string, status uint8) *guardError {
	detail := fmt.Sprintf("%s status 0x%02x: %s", stage, status, types.RmcpStatusCode(status))
	switch status {
	case 0x01, 0x0b:
		return g.failWith(KindBusy, msgBusyBMC, detail)
	case 0x04, 0x05, 0x06, 0x07, 0x10, 0x11:
		return g.failWith(KindInsecure,
			fmt.Sprintf("the BMC does not support cipher suite %d (%s)", g.suite, g.want), detail)
	case 0x09, 0x0a:
		return g.failWith(KindAuth, "the BMC refused the requested privilege level", detail)
	case 0x0c, 0x0d, 0x0e, 0x0f:
		return g.failWith(KindAuth, msgBadLogin, detail)
	}
	return g.failWith(KindBMC, "the BMC refused the session", detail)
}
