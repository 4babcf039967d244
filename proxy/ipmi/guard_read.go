package ipmi

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/bmcgate/bmcgate/internal/rmcp"
)

// Two readers share a session's socket: the library (go-ipmi, through Read)
// and the guard's own SOL path (SOLConn). Only the holder of the turn token
// reads the socket; a verified packet meant for the other side goes into
// that side's box, which it watches while it waits for the turn. Either side
// therefore gets its packets however long the other one reads. A packet is
// handed over before the turn is given back, and a side that takes the
// turn looks into its box once more before it reads: so nothing handed to
// it can wait there while it blocks on the socket.

// boxSize bounds the packets waiting in a box. A packet beyond it is
// dropped: the BMC sends SOL data again until it is acknowledged, and the
// library retries a command that got no answer.
const boxSize = 8

// errStopped is returned by a SOL read whose stop channel closed.
var errStopped = errors.New("session guard: read stopped")

// Read returns the next datagram for the library that passes inspection.
// Rejected datagrams are dropped and reading continues until the read
// deadline. A caller's buffer of readBufferSize or more (go-ipmi's is) is
// read into directly; nothing in it is delivered unless it passed, and the
// guard keeps no reference to it. Once a SOLConn exists, SOL packets go to
// it instead.
func (g *guard) Read(b []byte) (int, error) {
	g.readMu.Lock()
	defer g.readMu.Unlock()
	buf, direct := b, len(b) >= readBufferSize
	if !direct {
		if g.rbuf == nil {
			g.rbuf = make([]byte, readBufferSize)
		}
		buf = g.rbuf
	}
	for {
		if err := g.verdict(); err != nil {
			return 0, err
		}
		var dl time.Time
		if ns := g.readDL.Load(); ns != 0 {
			dl = time.Unix(0, ns)
		}
		// Wake up when the pending request is due again (guard_retx.go).
		rdl := earlier(dl, g.retxDeadline())
		p, err := g.await(g.libBox, rdl, nil)
		if err != nil {
			if g.resend(err, dl) {
				continue
			}
			return 0, err
		}
		if p != nil {
			g.answered(p)
			return copy(b, p), nil
		}
		pkt, err := g.readTurn(buf, rdl)
		if pkt != nil && g.solOwn.Load() && isSOL(pkt) {
			g.handOver(g.solBox, pkt)
			clear(pkt)
			pkt = nil
		}
		g.turn <- struct{}{}
		if err != nil {
			if g.resend(err, dl) {
				continue
			}
			return 0, err
		}
		if pkt == nil {
			continue
		}
		g.answered(pkt)
		if direct {
			return len(pkt), nil
		}
		return copy(b, pkt), nil
	}
}

// resend handles a read that ended with err: when it was the pending
// request's retransmission time rather than the library's deadline dl, the
// request goes out again and the read goes on.
func (g *guard) resend(err error, dl time.Time) bool {
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	now := time.Now()
	if !dl.IsZero() && !now.Before(dl) {
		return false
	}
	g.retransmit(now)
	return true
}

// await waits until a packet is in box (returned), the turn to read the
// socket is free (taken; nil returned: the caller must give it back), the
// deadline passes or stop closes.
func (g *guard) await(box chan []byte, dl time.Time, stop <-chan struct{}) ([]byte, error) {
	select {
	case p := <-box:
		return p, nil
	default:
	}
	select {
	case p := <-box:
		return p, nil
	case <-g.turn:
		return g.boxOrTurn(box), nil
	default:
	}
	var timeout <-chan time.Time
	if !dl.IsZero() {
		d := time.Until(dl)
		if d <= 0 {
			return nil, os.ErrDeadlineExceeded
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case p := <-box:
		return p, nil
	case <-g.turn:
		return g.boxOrTurn(box), nil
	case <-timeout:
		return nil, os.ErrDeadlineExceeded
	case <-stop:
		return nil, errStopped
	}
}

// boxOrTurn is called with the turn just taken: a packet handed over
// before the turn came back is returned, and the turn given back.
func (g *guard) boxOrTurn(box chan []byte) []byte {
	select {
	case p := <-box:
		g.turn <- struct{}{}
		return p
	default:
		return nil
	}
}

// readTurn reads one datagram into buf with the turn held and inspects it:
// it returns the packet if it passed, nil if it was dropped (and wiped), or
// the error. The caller routes the packet, then gives the turn back.
func (g *guard) readTurn(buf []byte, dl time.Time) ([]byte, error) {
	err := g.conn.SetReadDeadline(dl)
	var n int
	if err == nil {
		n, err = g.conn.Read(buf)
	}
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			g.mu.Lock()
			g.refused = true
			g.mu.Unlock()
		}
		return nil, err
	}
	pkt := buf[:n]
	ok, ferr := g.inbound(pkt)
	if ferr != nil {
		clear(pkt)
		return nil, ferr
	}
	if !ok {
		clear(pkt) // a refused datagram is never left for the caller
		return nil, nil
	}
	return pkt, nil
}

// isSOL reports whether a verified packet is an RMCP+ SOL payload.
func isSOL(pkt []byte) bool {
	return isV2(pkt) && len(pkt) > 5 && pkt[5]&rmcp.PayloadTypeMask == rmcp.PayloadSOL
}

// handOver puts a copy of a verified packet into the other side's box, or
// drops it when the box is full.
func (g *guard) handOver(box chan []byte, pkt []byte) {
	select {
	case box <- append([]byte(nil), pkt...):
	default:
		g.mu.Lock()
		g.dropped++
		g.mu.Unlock()
	}
}

// send writes one datagram that passed the outbound checks.
func (g *guard) send(b []byte) (int, error) {
	n, err := g.conn.Write(b)
	g.mu.Lock()
	if err == nil {
		g.sent++
	} else if errors.Is(err, syscall.ECONNREFUSED) {
		g.refused = true
	}
	g.mu.Unlock()
	return n, err
}

// SOLConn carries a session's Serial-over-LAN payload packets (IPMI 2.0
// section 15) without the library: the guard encrypts and signs them with
// the session keys and takes the BMC's SOL packets straight from the
// socket, each verified like any other datagram. This spares a goroutine,
// a 4 KiB buffer and a freshly seeded random source that every library
// exchange costs, which matters for consoles polled many times a second.
// A SOLConn is for one goroutine.
type SOLConn struct {
	g    *guard
	wbuf []byte
	rbuf []byte
}

// SOL returns the session's SOL packet path. From then on the BMC's SOL
// packets go to it rather than to Client. Activate the SOL payload, with
// encryption and authentication, first.
func (s *Session) SOL() *SOLConn {
	s.g.solOwn.Store(true)
	return &SOLConn{g: s.g}
}

// Send sends one SOL payload: the 4-byte SOL header and character data.
func (c *SOLConn) Send(payload []byte) error {
	g := c.g
	g.mu.Lock()
	if g.fail != nil {
		err := g.fail
		g.mu.Unlock()
		return err
	}
	if g.closed {
		g.mu.Unlock()
		return net.ErrClosed
	}
	b, err := g.seal(c.wbuf, rmcp.PayloadSOL, payload)
	g.mu.Unlock()
	if err != nil {
		return fmt.Errorf("session guard: SOL packet: %w", err)
	}
	c.wbuf = b
	_, err = g.send(b)
	return err
}

// Receive waits until deadline, or until stop closes, for the next SOL
// packet of the session and returns its payload (SOL header and character
// data). The slice is valid until the next call. A timeout is an error
// for which errors.Is(err, os.ErrDeadlineExceeded) holds.
func (c *SOLConn) Receive(deadline time.Time, stop <-chan struct{}) ([]byte, error) {
	g := c.g
	if c.rbuf == nil {
		c.rbuf = make([]byte, readBufferSize)
	}
	for {
		if err := g.verdict(); err != nil {
			return nil, err
		}
		pkt, err := g.await(g.solBox, deadline, stop)
		if err != nil {
			return nil, err
		}
		if pkt == nil {
			pkt, err = g.readTurn(c.rbuf, deadline)
			if pkt != nil && !isSOL(pkt) {
				g.handOver(g.libBox, pkt)
				pkt = nil
			}
			g.turn <- struct{}{}
			if err != nil {
				return nil, err
			}
			if pkt == nil {
				continue
			}
		}
		p, err := g.open(pkt)
		if err != nil {
			// Signed by the session key yet malformed: drop it.
			g.mu.Lock()
			g.dropped++
			g.mu.Unlock()
			continue
		}
		return p, nil
	}
}
