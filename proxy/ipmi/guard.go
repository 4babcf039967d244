package ipmi

import (
	"context"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bmcgate/bmcgate/internal/rmcp"
)

// guardState follows the RMCP+ session establishment (IPMI 2.0 section 13.15).
type guardState int

const (
	gsPre       guardState = iota // before Open Session Request
	gsOpenSent                    // Open Session Request sent
	gsOpenRecv                    // Open Session Response accepted
	gsRAKP1Sent                   // RAKP 1 sent
	gsRAKP2Recv                   // RAKP 2 verified
	gsRAKP3Sent                   // RAKP 3 sent
	gsActive                      // RAKP 4 verified, K1 derived
)

// secret holds a password. It is always referenced through a pointer so
// that printing a struct holding it shows an address, never the value.
type secret struct{ s string }

func (*secret) String() string   { return redacted }
func (*secret) GoString() string { return redacted }

// readBufferSize bounds inbound datagrams. IPMI messages are far smaller,
// go-ipmi reads with a 4 KiB buffer itself (client.DefaultBufferSize), and
// a truncated datagram fails its integrity check.
const readBufferSize = 4096

// guardError is a fatal verdict of the guard.
type guardError struct {
	kind      Kind
	msg       string // safe for users
	detail    string // for logs
	malformed bool   // the BMC's answer could not be understood
}

// asError is the broker error of a guard verdict on bmc.
func (e *guardError) asError(bmc string) *Error {
	out := newError(bmc, e.kind, e.msg, e)
	out.malformed = e.malformed
	return out
}

func (e *guardError) Error() string {
	if e.detail != "" {
		return "session guard: " + e.msg + " (" + e.detail + ")"
	}
	return "session guard: " + e.msg
}

// guard is a net.Conn placed between the go-ipmi client and its UDP socket.
// It parses every datagram, enforces the requested algorithms, verifies the
// RAKP exchange with the password it holds and, once the session is active,
// delivers only inbound packets that are authenticated, encrypted, carry a
// valid integrity AuthCode and are not replays. Everything else is dropped
// (inbound) or refused (outbound).
type guard struct {
	want   algorithms
	suite  int
	priv   uint8 // the only privilege level RAKP 1 may request
	user   string
	pw     *secret
	onOpen func() // called once, when the first Open Session Request leaves

	conn net.Conn // the real socket, set once by dial

	// Reading (guard_read.go): the library's reads and the guard's own SOL
	// reads share the socket. Whoever holds turn reads it, and hands a
	// packet meant for the other side over through that side's box.
	readMu sync.Mutex    // serializes the library's reads; guards rbuf
	rbuf   []byte        // only for callers with a buffer under readBufferSize
	turn   chan struct{} // one token: the right to read the socket
	libBox chan []byte   // packets the SOL side read for the library
	solBox chan []byte   // SOL packets the library side read, once solOwned
	solOwn atomic.Bool   // SOLConn took over inbound SOL packets
	readDL atomic.Int64  // the library's read deadline (Unix ns; 0 none)

	mu          sync.Mutex
	state       guardState
	fail        *guardError
	refused     bool // the peer answered with ICMP port unreachable
	consoleID   uint32
	bmcID       uint32
	role        uint8
	consoleRand [16]byte
	bmcRand     [16]byte
	guid        [16]byte
	k1          []byte
	k2          []byte // AES-CBC-128 key: the first 16 bytes of K2
	block       cipher.Block
	mac         hash.Hash // HMAC keyed with K1
	macSum      [sha256.Size]byte
	outSeq      uint32 // last outbound session sequence number
	seqInit     bool
	seqMax      uint32
	seqSeen     uint64
	sent        uint64
	delivered   uint64
	dropped     uint64
	closed      bool

	// Retransmission (guard_retx.go).
	retxOn      bool
	pending     *pendingReq
	retxBuf     []byte
	retransmits uint64
}

func newGuard(ep Endpoint, onOpen func()) *guard {
	want, _ := suiteAlgorithms(ep.CipherSuite)
	g := &guard{
		want:   want,
		suite:  ep.CipherSuite,
		priv:   uint8(ep.Privilege.level()),
		user:   ep.Username,
		pw:     &secret{ep.Password},
		onOpen: onOpen,
		turn:   make(chan struct{}, 1),
		libBox: make(chan []byte, boxSize),
		solBox: make(chan []byte, boxSize),
		retxOn: true, // session setup changes nothing until it succeeds
	}
	g.turn <- struct{}{}
	return g
}

// guardDialer is the proxy.Dialer handed to the go-ipmi client: it dials the
// real UDP socket and returns the guard wrapped around it.
type guardDialer struct {
	ctx context.Context
	g   *guard
}

func (d guardDialer) Dial(network, addr string) (net.Conn, error) {
	if network != "udp" {
		return nil, fmt.Errorf("session guard: unsupported network %q", network)
	}
	if d.g.conn != nil {
		// One socket per session: the client must not redial after Close.
		return nil, errors.New("session guard: session closed")
	}
	var nd net.Dialer
	c, err := nd.DialContext(d.ctx, "udp", addr)
	if err != nil {
		return nil, err
	}
	d.g.conn = c
	return d.g, nil
}

// Write sends b if it passes inspection.
func (g *guard) Write(b []byte) (int, error) {
	if err := g.outbound(b); err != nil {
		return 0, err
	}
	g.mu.Lock()
	g.rememberLocked(b)
	g.mu.Unlock()
	return g.send(b)
}

// errHandleKept is what Close always returns, on purpose. go-ipmi's
// UDPClient.Close forgets its socket (sets it to nil) only when the socket's
// Close succeeds, and the library's own keep-alive goroutine may still be
// about to write to that field; a nil socket there panics the process. With
// this error the client keeps the guard as its socket, and a late write
// gets an ordinary "closed" error instead. Session.Close ignores it.
var errHandleKept = errors.New("session guard: socket closed (handle kept)")

func (g *guard) Close() error {
	g.mu.Lock()
	already := g.closed
	g.closed = true
	g.mu.Unlock()
	if !already && g.conn != nil {
		_ = g.conn.Close()
	}
	return errHandleKept
}

// realCloseError drops errHandleKept from a go-ipmi Close error, leaving
// only real failures (nil when there are none).
func realCloseError(err error) error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var rest []error
		for _, e := range j.Unwrap() {
			if e != nil && !errors.Is(e, errHandleKept) {
				rest = append(rest, e)
			}
		}
		return errors.Join(rest...)
	}
	if errors.Is(err, errHandleKept) {
		return nil
	}
	return err
}

func (g *guard) LocalAddr() net.Addr                { return g.conn.LocalAddr() }
func (g *guard) RemoteAddr() net.Addr               { return g.conn.RemoteAddr() }
func (g *guard) SetWriteDeadline(t time.Time) error { return g.conn.SetWriteDeadline(t) }

// SetReadDeadline sets the deadline of the library's reads; the guard
// applies it to the socket when the library's turn to read comes.
func (g *guard) SetReadDeadline(t time.Time) error {
	var ns int64
	if !t.IsZero() {
		ns = t.UnixNano()
	}
	g.readDL.Store(ns)
	return nil
}

func (g *guard) SetDeadline(t time.Time) error {
	_ = g.SetReadDeadline(t)
	return g.conn.SetWriteDeadline(t)
}

// verdict returns the fatal verdict, if any.
func (g *guard) verdict() *guardError {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.fail
}

// failMalformed fails the session for an answer of the BMC that could not
// be understood.
func (g *guard) failMalformed(detail string) *guardError {
	return g.failFirst(&guardError{kind: KindBMC, msg: msgMalformed, detail: detail, malformed: true})
}

// failWith records the first fatal verdict and returns it.
func (g *guard) failWith(kind Kind, msg, detail string) *guardError {
	return g.failFirst(&guardError{kind: kind, msg: msg, detail: detail})
}

// failFirst records e as the session's failure unless one is recorded
// already, and returns the recorded one.
func (g *guard) failFirst(e *guardError) *guardError {
	if g.fail == nil {
		g.fail = e
	}
	return g.fail
}

// snapshot returns counters and flags for classification and tests.
type guardSnapshot struct {
	state                    guardState
	refused                  bool
	sent, delivered, dropped uint64
	retransmits              uint64
	guid                     [16]byte
}

func (g *guard) snapshot() guardSnapshot {
	g.mu.Lock()
	defer g.mu.Unlock()
	return guardSnapshot{state: g.state, refused: g.refused, sent: g.sent,
		delivered: g.delivered, dropped: g.dropped, retransmits: g.retransmits, guid: g.guid}
}

// outbound inspects a datagram about to be sent.
func (g *guard) outbound(b []byte) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fail != nil {
		return g.fail
	}
	if !isV2(b) {
		h, ok := parseV15(b)
		if ok && g.state == gsPre && h.authType == 0 && h.sessionID == 0 && isGetChannelAuthCaps(h.msg) {
			return nil
		}
		return g.failWith(KindInsecure, "refused to send a packet outside RMCP+", "")
	}
	h, ok := parseV2(b)
	if !ok {
		return g.failWith(KindInsecure, "refused to send a malformed packet", "")
	}
	setup := h.sessionID == 0 && !h.authenticated && !h.encrypted
	switch h.payloadType {
	case rmcp.PayloadOpenReq:
		return g.outOpen(h, setup)
	case rmcp.PayloadRAKP1:
		return g.outRAKP1(h, setup)
	case rmcp.PayloadRAKP3:
		if !setup || (g.state != gsRAKP2Recv && g.state != gsRAKP3Sent) {
			return g.failWith(KindInsecure, "refused to send an unexpected RAKP message 3", "")
		}
		g.state = gsRAKP3Sent
		return nil
	case rmcp.PayloadIPMI, rmcp.PayloadSOL:
		return g.outSession(b, h)
	}
	return g.failWith(KindInsecure, "refused to send an unsupported payload type",
		fmt.Sprintf("payload type 0x%02x", h.payloadType))
}

// outRAKP1 lets RAKP message 1 pass only for the session just opened, with
// the privilege and user name the guard was set up for.
func (g *guard) outRAKP1(h v2Packet, setup bool) error {
	p := h.payload
	if !setup || (g.state != gsOpenRecv && g.state != gsRAKP1Sent) || len(p) < 28 ||
		binary.LittleEndian.Uint32(p[4:8]) != g.bmcID || p[24]&0x0f != g.priv ||
		len(p) < 28+int(p[27]) || string(p[28:28+int(p[27])]) != g.user {
		return g.failWith(KindInsecure, "refused to send an unexpected RAKP message 1", "")
	}
	copy(g.consoleRand[:], p[8:24])
	g.role = p[24]
	g.state = gsRAKP1Sent
	return nil
}

// outSession lets a command or SOL packet pass only inside the active,
// authenticated and encrypted session, re-encrypted with a fresh IV.
func (g *guard) outSession(b []byte, h v2Packet) error {
	if g.state != gsActive || !h.authenticated || !h.encrypted || h.sessionID != g.bmcID {
		return g.failWith(KindInsecure, "refused to send a command outside an authenticated, encrypted session", "")
	}
	if err := g.freshIV(b, h); err != nil {
		return g.failWith(KindInsecure, "refused to send a packet it could not re-encrypt", err.Error())
	}
	return nil
}

func (g *guard) outOpen(h v2Packet, setup bool) error {
	p := h.payload
	if !setup || (g.state != gsPre && g.state != gsOpenSent) || len(p) < 32 {
		return g.failWith(KindInsecure, "refused to send an unexpected Open Session Request", "")
	}
	got, ok := parseAlgPayloads(p[8:32])
	if !ok || got.weak() || got != g.want {
		return g.failWith(KindInsecure,
			fmt.Sprintf("refused to propose %s (only %s is allowed for this BMC)", got, g.want), "")
	}
	g.consoleID = binary.LittleEndian.Uint32(p[4:8])
	if g.state == gsPre && g.onOpen != nil {
		g.onOpen()
	}
	g.state = gsOpenSent
	return nil
}

// inbound inspects a received datagram: deliver reports whether it may reach
// the client; err is a fatal verdict that ends the session setup.
func (g *guard) inbound(pkt []byte) (deliver bool, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	defer func() {
		if deliver {
			g.delivered++
		} else if err == nil {
			g.dropped++
		}
	}()
	if g.fail != nil {
		return false, g.fail
	}
	if !isV2(pkt) {
		h, ok := parseV15(pkt)
		// Only the session-less answer to Get Channel Authentication
		// Capabilities, before any RMCP+ exchange, is expected in 1.5 form.
		return ok && g.state == gsPre && h.authType == 0 && h.sessionID == 0, nil
	}
	h, ok := parseV2(pkt)
	if !ok {
		return false, nil
	}
	switch h.payloadType {
	case rmcp.PayloadOpenResp:
		return g.inOpen(h)
	case rmcp.PayloadRAKP2:
		return g.inRAKP2(h)
	case rmcp.PayloadRAKP4:
		return g.inRAKP4(h)
	case rmcp.PayloadIPMI, rmcp.PayloadSOL:
		return g.inSession(pkt, h), nil
	}
	return false, nil
}
