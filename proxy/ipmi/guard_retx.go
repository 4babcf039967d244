package ipmi

import (
	"crypto/cipher"
	"time"

	"github.com/bmcgate/bmcgate/internal/rmcp"
)

// Retransmission. go-ipmi sends each request once and waits; on a lossy link
// one lost datagram fails the call. The guard, which sees every datagram,
// sends the library's last request again while the library waits for its
// answer, but only while retransmission is armed: during session setup and
// during calls that change nothing on the BMC (Session.call with write
// false). A request whose answer was lost is never repeated for a write: its
// outcome stays unknown.
//
// A repeated IPMI request is the same message, with the same requester
// sequence number (rqSeq), so the BMC and the library treat either answer as
// the answer; the guard seals it again under a fresh IV and the next session
// sequence number, as RMCP+ requires of every packet. Session setup messages
// (Get Channel Authentication Capabilities, Open Session, RAKP 1 and 3) are
// repeated as they are. The library matches answers by rqSeq and command
// and drops the duplicates a retransmission may bring.

// Retransmission schedule: the first resend after retxFirst without an
// answer, then doubling up to retxMax, until the library's read deadline.
const (
	retxFirst = 250 * time.Millisecond
	retxMax   = 2 * time.Second
)

// pendingReq is the library's last request, while retransmission is armed
// and its answer has not come.
type pendingReq struct {
	pkt    []byte // as last sent
	answer uint8  // payload type of the answer
	ipmi   bool   // an IPMI request (re-sealed, matched by key)
	key    ipmiKey
	next   time.Time
	wait   time.Duration
}

// ipmiKey identifies an IPMI request and its response: the response's
// network function is the request's plus one.
type ipmiKey struct{ netFn, seq, cmd uint8 }

// setRetransmit arms or disarms retransmission (and forgets the pending
// request when disarmed).
func (g *guard) setRetransmit(on bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.retxOn = on
	if !on {
		g.pending = nil
	}
}

// remember notes a request the library just sent, when retransmission is
// armed. g.mu is held; b passed outbound.
func (g *guard) rememberLocked(b []byte) {
	g.pending = nil
	if !g.retxOn {
		return
	}
	p := &pendingReq{wait: retxFirst}
	switch {
	case !isV2(b):
		p.answer = 0xff // the IPMI 1.5 answer to Get Channel Authentication Capabilities
	default:
		h, ok := parseV2(b)
		if !ok {
			return
		}
		switch h.payloadType {
		case rmcp.PayloadOpenReq:
			p.answer = rmcp.PayloadOpenResp
		case rmcp.PayloadRAKP1:
			p.answer = rmcp.PayloadRAKP2
		case rmcp.PayloadRAKP3:
			p.answer = rmcp.PayloadRAKP4
		case rmcp.PayloadIPMI:
			k, ok := g.peekKey(h, false)
			if !ok {
				return
			}
			p.ipmi, p.key, p.answer = true, k, rmcp.PayloadIPMI
		default:
			return
		}
	}
	p.pkt = append(g.retxBuf[:0], b...)
	g.retxBuf = p.pkt
	p.next = time.Now().Add(p.wait)
	g.pending = p
}

// peekKey decrypts the first block of an IPMI payload (a copy) and reads
// the message's network function, rqSeq and command. response selects the
// layout of an answer (rqAddr first) rather than a request (rsAddr first);
// both keep those fields at the same offsets. g.mu is held.
func (g *guard) peekKey(h v2Packet, response bool) (ipmiKey, bool) {
	blk, _, _, err := g.sessionCrypto()
	if err != nil || len(h.payload) < 32 {
		return ipmiKey{}, false
	}
	var first [16]byte
	cipher.NewCBCDecrypter(blk, h.payload[:16]).CryptBlocks(first[:], h.payload[16:32])
	k := ipmiKey{netFn: first[1] >> 2, seq: first[4] >> 2, cmd: first[5]}
	if response {
		k.netFn-- // match the request's
	}
	clear(first[:])
	return k, true
}

// answered reports whether a packet that passed inbound answers the pending
// request, and forgets the request if so.
func (g *guard) answered(pkt []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	p := g.pending
	if p == nil {
		return
	}
	if !isV2(pkt) {
		if p.answer == 0xff {
			g.pending = nil
		}
		return
	}
	h, ok := parseV2(pkt)
	if !ok || h.payloadType != p.answer {
		return
	}
	if p.ipmi {
		if k, ok := g.peekKey(h, true); !ok || k != p.key {
			return // an answer to an earlier request (a duplicate)
		}
	}
	g.pending = nil
}

// retxDeadline returns when the pending request is due again, or the zero
// time when nothing is pending.
func (g *guard) retxDeadline() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pending == nil {
		return time.Time{}
	}
	return g.pending.next
}

// retransmit sends the pending request again if it is due (an IPMI request
// under a fresh IV and session sequence number) and schedules the next
// resend. It reports whether it sent.
func (g *guard) retransmit(now time.Time) bool {
	g.mu.Lock()
	p := g.pending
	if p == nil || now.Before(p.next) || g.fail != nil || g.closed {
		g.mu.Unlock()
		return false
	}
	if p.ipmi {
		h, ok := parseV2(p.pkt)
		if !ok || g.freshIV(p.pkt, h) != nil {
			g.pending = nil
			g.mu.Unlock()
			return false
		}
	}
	p.wait = min(2*p.wait, retxMax)
	p.next = now.Add(p.wait)
	g.retransmits++
	b := p.pkt
	g.mu.Unlock()
	// b is the guard's own buffer; the library never sees it. A concurrent
	// rememberLocked replaces pending but reuses the buffer only after this
	// send (both run under the library's socket lock).
	_, _ = g.send(b)
	return true
}

// earlier returns the earlier of two deadlines, the zero time being none.
func earlier(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}
