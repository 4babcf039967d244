package sol

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/bougou/go-ipmi/pkg/client"
	"github.com/bougou/go-ipmi/pkg/command/transport"
	"github.com/bougou/go-ipmi/pkg/types"

	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

// SOL packet status bits from the BMC (IPMI v2.0 Table 15-2).
const (
	bmcNACK         = 1 << 6
	bmcOverrun      = 1 << 3
	bmcDeactivating = 1 << 4
	bmcUnavailable  = 1 << 5
	consoleBreak    = 1 << 4 // console-to-BMC operation: generate BREAK
	sendAttempts    = 4      // a data packet is sent up to this many times
	exchangeTimeout = 500 * time.Millisecond
)

// stream runs the SOL packet exchange of one activation. Only its
// goroutine uses it.
type stream struct {
	l     *Line
	c     *client.Client // keep-alive commands
	sol   *ipmi.SOLConn  // SOL packets
	chunk int            // character data per packet to the BMC
	out   []byte         // packet being sent

	id       uint32 // the BMC's ID of this session, which holds the payload
	seq      uint8  // our last data sequence number
	remote   uint8  // last BMC sequence number received
	accepted uint8  // characters accepted of the remote packet
	checked  time.Time
	noInfo   bool // the BMC does not answer Get Payload Instance Info
	gotData  bool // the last packet carried new output
	overrun  bool // the BMC reported lost output
	unavail  bool
}

func newStream(l *Line, c *client.Client, sol *ipmi.SOLConn, chunk int, id uint32) *stream {
	return &stream{l: l, c: c, sol: sol, chunk: chunk, id: id, checked: time.Now(), out: make([]byte, 0, 4+chunk)}
}

// solPacket is one SOL payload (IPMI v2.0 Table 15-2).
type solPacket struct {
	seq, ack, accepted, status uint8
	data                       []byte
}

func parseSOL(p []byte) (solPacket, bool) {
	if len(p) < 4 {
		return solPacket{}, false
	}
	return solPacket{seq: p[0] & 0x0f, ack: p[1] & 0x0f, accepted: p[2], status: p[3], data: p[4:]}, true
}

// packet builds a packet to the BMC: our sequence number (0 for none),
// the acknowledgement of the BMC's last packet, an operation and data.
func (s *stream) packet(seq, op uint8, data []byte) []byte {
	s.out = append(s.out[:0], seq, s.remote, s.accepted, op)
	return append(s.out, data...)
}

func nextSeq(s uint8) uint8 {
	s = (s + 1) & 0x0f
	if s == 0 {
		return 1
	}
	return s
}

// run exchanges packets until ctx ends or the payload drops.
func (s *stream) run(ctx context.Context) error {
	o := s.l.opts
	interval := o.PollActive
	for {
		if err := ctx.Err(); err != nil {
			return nil
		}
		in, brk := s.l.peekInput(s.chunk)
		if len(in) > 0 || brk {
			if err := s.send(ctx, in, brk); err != nil {
				return err
			}
			interval = o.PollActive // an echo is likely on its way
			continue
		}
		start := time.Now()
		s.gotData = false
		if err := s.poll(ctx, interval); err != nil {
			return err
		}
		if time.Since(s.checked) >= o.PayloadCheck {
			if err := s.checkPayload(ctx); err != nil {
				return err
			}
		}
		wait := interval - time.Since(start)
		// Poll quickly while output flows; back off towards the idle
		// interval with every empty poll.
		if s.gotData {
			interval = o.PollActive
		} else {
			interval = min(interval*2, o.PollIdle)
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
			case <-t.C:
			case <-s.l.wake:
			}
			t.Stop()
		}
	}
}

// send transmits one chunk of input (and a break) and commits what the BMC
// accepted. A packet without an acknowledgement is resent with the same
// sequence number, which the BMC recognises as a retry; output arriving
// meanwhile is taken as it comes.
func (s *stream) send(ctx context.Context, data []byte, brk bool) error {
	seq := nextSeq(s.seq)
	var op uint8
	if brk {
		op |= consoleBreak
	}
	for range sendAttempts {
		if err := s.sol.Send(s.packet(seq, op, data)); err != nil {
			return fmt.Errorf("%w: %w", errNoAnswer, err)
		}
		deadline := time.Now().Add(exchangeTimeout)
		for {
			res, err := s.next(ctx, deadline)
			if err != nil || ctx.Err() != nil {
				return err
			}
			if res == nil {
				break // no acknowledgement in time: send again
			}
			if res.ack != seq {
				if err := s.receive(res); err != nil {
					return err
				}
				continue
			}
			s.seq = seq
			n := min(int(res.accepted), len(data))
			if res.status&bmcNACK != 0 && n == 0 && !brk {
				// The BMC cannot take data now; keep it and try again shortly.
				time.Sleep(s.l.opts.PollActive)
			}
			s.l.commitInput(n, brk)
			return s.receive(res)
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return errNoAnswer
}

// next returns the next SOL packet from the BMC, or nil when none came by
// the deadline or ctx ended.
func (s *stream) next(ctx context.Context, deadline time.Time) (*solPacket, error) {
	for {
		p, err := s.sol.Receive(deadline, ctx.Done())
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) || ctx.Err() != nil {
				return nil, nil
			}
			return nil, fmt.Errorf("%w: %w", errNoAnswer, err)
		}
		if res, ok := parseSOL(p); ok {
			return &res, nil
		}
	}
}

// poll sends an acknowledgement-only packet and takes the first SOL packet
// that arrives within d as new output. No answer within d is not an error:
// a BMC that pushes output by itself need not answer an empty packet.
func (s *stream) poll(ctx context.Context, d time.Duration) error {
	if err := s.sol.Send(s.packet(0, 0, nil)); err != nil {
		return fmt.Errorf("%w: %w", errNoAnswer, err)
	}
	res, err := s.next(ctx, time.Now().Add(d))
	if err != nil || res == nil {
		return err
	}
	return s.receive(res)
}

// checkPayload asks the BMC which session holds the payload, between
// inputs: a BMC need not tell a console that another client deactivated or
// took its payload, and it answers other commands (and may ignore SOL
// packets) all the same. It also keeps the session alive. A BMC that
// cannot answer the question is asked for its device ID instead.
func (s *stream) checkPayload(ctx context.Context) error {
	for range 2 {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		var err error
		var holder uint32
		if s.noInfo {
			_, err = s.c.GetDeviceID(cctx)
			holder = s.id
		} else {
			var info *transport.GetPayloadInstanceInfoResponse
			if info, err = s.c.GetPayloadInstanceInfo(cctx, types.PayloadTypeSOL, solInstance); err == nil {
				holder = info.SessionID
			}
		}
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && isResponseError(err) && !s.noInfo {
			s.noInfo = true // the BMC answered, but cannot tell
			err, holder = nil, s.id
		}
		if err != nil {
			continue
		}
		s.checked = time.Now()
		switch holder {
		case s.id:
			return nil
		case 0:
			return errDeactivated
		}
		return &busyError{holder: s.l.holder(ctx, s.c, holder), taken: true}
	}
	return errNoAnswer
}

// receive handles one packet from the BMC: status bits, then new output.
func (s *stream) receive(res *solPacket) error {
	if res.status&bmcDeactivating != 0 {
		return errDeactivated
	}
	if res.status&bmcOverrun != 0 && !s.overrun {
		s.overrun = true // reported once per activation
		s.l.opts.Logger.Warn("sol: the BMC dropped console output", "bmc", s.l.ep.Name)
		s.l.setStatus(Status{State: StateActive, Msg: "the BMC dropped console output it could not deliver in time"})
	}
	unavail := res.status&bmcUnavailable != 0
	if unavail != s.unavail {
		s.unavail = unavail
		if unavail {
			s.l.setStatus(Status{State: StateActive, Msg: "the host's serial port is not available (BMC reports it unavailable)"})
		} else {
			s.l.setStatus(Status{State: StateActive, Msg: "console connected"})
		}
	}
	seq, data := res.seq, res.data
	if seq == 0 {
		return nil // acknowledgement only
	}
	if len(data) > 255 {
		return errors.New("sol: oversized packet from the BMC")
	}
	off, taken := 0, len(data)
	switch {
	case seq == s.remote:
		// A retransmission; it may carry more than we took before, or,
		// overtaken by a later copy, less.
		off = min(int(s.accepted), len(data))
		taken = max(int(s.accepted), len(data))
	case s.remote != 0 && seqDistance(seq, s.remote) > 7:
		return nil // a stale duplicate
	}
	s.remote = seq
	s.accepted = uint8(taken)
	if off < len(data) {
		s.gotData = true
		s.l.opts.OnOutput(data[off:])
	}
	return nil
}

// seqDistance counts forward steps from prev to seq in the 1..15 cycle.
func seqDistance(seq, prev uint8) uint8 {
	return uint8((int(seq) - int(prev) + 15) % 15)
}
