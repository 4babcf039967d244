package scan

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/bmcgate/bmcgate/internal/rmcp"
)

// errNoAnswer means the BMC did not answer a probe in time.
var errNoAnswer = errors.New("no answer")

// wire is one UDP socket to one BMC with paced sends. It is used by one
// goroutine at a time.
type wire struct {
	conn     net.Conn
	interval time.Duration
	timeout  time.Duration
	last     time.Time
	sent     int
	held     int // sessions (half-open or open) this scan holds on the BMC now
	peak     int // the most it ever held at once
}

// hold records a session opened (+1) or given up (-1).
func (w *wire) hold(delta int) {
	w.held += delta
	w.peak = max(w.peak, w.held)
}

func dialWire(ctx context.Context, addr string, interval, timeout time.Duration) (*wire, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return &wire{conn: c, interval: interval, timeout: timeout}, nil
}

func (w *wire) Close() error { return w.conn.Close() }

// pace waits until the per-BMC interval since the previous probe has passed.
func (w *wire) pace(ctx context.Context) error {
	if w.last.IsZero() || w.interval <= 0 {
		return ctx.Err()
	}
	wait := time.Until(w.last.Add(w.interval))
	if wait <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// exchange sends one datagram and returns the first answer that accept
// takes; other datagrams (late answers to earlier probes) are skipped.
func (w *wire) exchange(ctx context.Context, pkt []byte, accept func([]byte) bool) ([]byte, error) {
	if err := w.pace(ctx); err != nil {
		return nil, err
	}
	w.last = time.Now()
	w.sent++
	deadline := time.Now().Add(w.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := w.conn.SetDeadline(deadline); err != nil {
		return nil, fmt.Errorf("set deadline: %w", err)
	}
	if _, err := w.conn.Write(pkt); err != nil {
		return nil, fmt.Errorf("send: %w", err)
	}
	// A canceled scan (its user's session ended) stops waiting at once
	// rather than at the probe's timeout.
	stop := context.AfterFunc(ctx, func() { _ = w.conn.SetReadDeadline(time.Now()) })
	defer stop()
	buf := make([]byte, 1024)
	for {
		n, err := w.conn.Read(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, errNoAnswer
			}
			return nil, fmt.Errorf("receive: %w", err)
		}
		if accept(buf[:n]) {
			return append([]byte(nil), buf[:n]...), nil
		}
	}
}

// send transmits one datagram without waiting for an answer.
func (w *wire) send(ctx context.Context, pkt []byte) error {
	if err := w.pace(ctx); err != nil {
		return err
	}
	w.last = time.Now()
	w.sent++
	if _, err := w.conn.Write(pkt); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
}

// checksum is the IPMI 2's-complement checksum of b.
func checksum(b []byte) byte {
	var s byte
	for _, x := range b {
		s += x
	}
	return -s
}

// v15Request frames a sessionless IPMI 1.5 request (authentication type
// none, session ID 0), as used for Get Channel Authentication Capabilities.
func v15Request(netFn, cmd, seq byte, data []byte) []byte {
	msg := []byte{rmcp.BMCAddr, netFn << 2}
	msg = append(msg, checksum(msg))
	body := append([]byte{rmcp.ConsoleAddr, seq << 2, cmd}, data...)
	msg = append(msg, body...)
	msg = append(msg, checksum(body))
	pkt := rmcp.Header()
	pkt = append(pkt, rmcp.AuthTypeNone, 0, 0, 0, 0, 0, 0, 0, 0, byte(len(msg)))
	return append(pkt, msg...)
}

// v15Response parses a sessionless IPMI 1.5 response to cmd and returns its
// completion code and data.
func v15Response(pkt []byte, cmd byte) (cc byte, data []byte, ok bool) {
	if len(pkt) < 4+10 || pkt[0] != rmcp.Version || pkt[3]&0x1f != rmcp.ClassIPMI {
		return 0, nil, false
	}
	off := 4
	if pkt[off] != rmcp.AuthTypeNone {
		off += 16 // an auth code follows the session ID
	}
	off += 9
	if len(pkt) <= off {
		return 0, nil, false
	}
	n := int(pkt[off])
	msg := pkt[off+1:]
	if n < 8 || len(msg) < n {
		return 0, nil, false
	}
	msg = msg[:n]
	if msg[1]>>2 != rmcp.NetFnApp+1 || msg[5] != cmd {
		return 0, nil, false
	}
	return msg[6], msg[7 : n-1], true
}

// rmcppPacket frames an unauthenticated RMCP+ session-setup payload.
func rmcppPacket(payloadType byte, payload []byte) []byte {
	pkt := rmcp.Header()
	pkt = append(pkt, rmcp.AuthTypeRMCPPlus, payloadType, 0, 0, 0, 0, 0, 0, 0, 0,
		byte(len(payload)), byte(len(payload)>>8))
	return append(pkt, payload...)
}

// rmcppPayload returns the payload of an RMCP+ session-setup packet of the
// given payload type.
func rmcppPayload(pkt []byte, payloadType byte) ([]byte, bool) {
	const hdr = 4 + 12
	if len(pkt) < hdr || pkt[0] != rmcp.Version || pkt[4] != rmcp.AuthTypeRMCPPlus || pkt[5]&0x3f != payloadType {
		return nil, false
	}
	n := int(pkt[14]) | int(pkt[15])<<8
	if len(pkt) < hdr+n {
		return nil, false
	}
	return pkt[hdr : hdr+n], true
}
