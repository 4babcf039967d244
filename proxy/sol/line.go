package sol

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

// Errors returned by Line methods.
var (
	ErrClosed       = errors.New("sol: line closed")
	ErrOverflow     = errors.New("sol: input buffer full")
	ErrNotConnected = errors.New("sol: the console is not connected")
)

// Line is the SOL console of one BMC. It keeps trying to hold the payload
// until Close. Its methods are safe for concurrent use.
type Line struct {
	ep   ipmi.Endpoint
	opts Options

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	wake   chan struct{} // input, break or takeover waiting

	mu       sync.Mutex
	in       []byte // input not yet accepted by the BMC
	brk      bool   // a break is waiting
	takeover bool   // the next activation may deactivate another holder
	state    State
	owned    []owner // sessions of this line that held the payload, newest last
}

// owner identifies a session of this line that held the payload: the BMC's
// session ID and the local UDP port (BMCs reuse small session IDs).
type owner struct {
	id   uint32
	port int
}

// maxOwned bounds the sessions remembered as this line's own.
const maxOwned = 4

// Open starts a line for ep. It returns at once; the line connects in the
// background and reports through opts.OnStatus.
func Open(ep ipmi.Endpoint, opts Options) *Line {
	ctx, cancel := context.WithCancel(context.Background())
	l := &Line{ep: ep, opts: opts.withDefaults(), ctx: ctx, cancel: cancel,
		done: make(chan struct{}), wake: make(chan struct{}, 1)}
	go l.run()
	return l
}

// Write queues input for the console. It never blocks. Input is taken only
// while the payload is active (ErrNotConnected otherwise: nothing typed is
// held for a console that is not there); when the input buffer is full it
// queues what fits and returns ErrOverflow. Queued input that the BMC has
// not accepted when the payload is lost is handed to OnInputLost, never
// sent later.
func (l *Line) Write(p []byte) (int, error) {
	l.mu.Lock()
	switch l.state {
	case StateClosed:
		l.mu.Unlock()
		return 0, ErrClosed
	case StateActive:
	default:
		l.mu.Unlock()
		return 0, ErrNotConnected
	}
	n := min(len(p), l.opts.InputBuffer-len(l.in))
	l.in = append(l.in, p[:n]...)
	l.mu.Unlock()
	l.poke()
	if n < len(p) {
		return n, ErrOverflow
	}
	return n, nil
}

// Break asks for a serial break to be sent to the host.
func (l *Line) Break() {
	l.mu.Lock()
	l.brk = true
	l.mu.Unlock()
	l.poke()
}

// Takeover allows the line to deactivate a payload held by another console
// and activate its own. It applies to the next activation attempt, which it
// starts at once when the line is waiting for a busy payload.
func (l *Line) Takeover() {
	l.mu.Lock()
	l.takeover = true
	l.mu.Unlock()
	l.poke()
}

// State returns the line's current state.
func (l *Line) State() State {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state
}

// Close deactivates the payload, closes the session and waits for the line
// to stop (bounded by a few seconds).
func (l *Line) Close() {
	l.cancel()
	<-l.done
}

func (l *Line) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// loseInput ends input for the activation that just ended: from now on
// Write refuses input, and what the BMC did not accept is handed to
// OnInputLost.
func (l *Line) loseInput(why string) {
	l.mu.Lock()
	p := l.in
	l.in, l.brk = nil, false
	if l.state == StateActive {
		l.state = StateDropped
	}
	l.mu.Unlock()
	if len(p) > 0 {
		l.opts.OnInputLost(p, why)
	}
}

// own records s as a session of this line that holds the payload.
func (l *Line) own(o owner) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.owned = append(l.owned, o)
	if len(l.owned) > maxOwned {
		l.owned = l.owned[len(l.owned)-maxOwned:]
	}
}

// ownedBy reports whether h is a session this line opened: same BMC session
// ID and, when the BMC tells, the same remote port.
func (l *Line) ownedBy(h *Holder) bool {
	if h == nil || h.SessionID == 0 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, o := range l.owned {
		// The port's byte order in Get Session Info varies between BMCs.
		swapped := int(uint16(o.port)>>8 | uint16(o.port)<<8)
		if o.id == h.SessionID && (h.port == 0 || h.port == o.port || h.port == swapped) {
			return true
		}
	}
	return false
}

func (l *Line) setStatus(st Status) {
	l.mu.Lock()
	l.state = st.State
	l.mu.Unlock()
	l.opts.OnStatus(st)
}

// peekInput returns up to limit bytes of input (without consuming them: the
// caller commits what the BMC accepted) and the break flag.
func (l *Line) peekInput(limit int) ([]byte, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := min(len(l.in), limit)
	return append([]byte(nil), l.in[:n]...), l.brk
}

// commitInput drops n accepted bytes and clears the break flag if it went.
func (l *Line) commitInput(n int, brk bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.in = l.in[min(n, len(l.in)):]
	if len(l.in) == 0 {
		l.in = nil
	}
	if brk {
		l.brk = false
	}
}

func (l *Line) takeTakeover() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.takeover
	l.takeover = false
	return t
}

// run holds the payload until Close, re-activating with backoff.
func (l *Line) run() {
	defer close(l.done)
	defer l.setStatus(Status{State: StateClosed, Msg: "console closed"})
	delay := l.opts.ReconnectMin
	for l.ctx.Err() == nil {
		l.setStatus(Status{State: StateConnecting, Msg: "connecting to the console"})
		active, err := l.session(l.ctx)
		if l.ctx.Err() != nil {
			return
		}
		if active {
			delay = l.opts.ReconnectMin // it worked for a while: start over
		}
		var busy *busyError
		if errors.As(err, &busy) {
			msg := "the console is in use by another client (" + busy.holder.String() + ")"
			if busy.taken {
				msg = "another client took the console (" + busy.holder.String() + "); waiting for it to be released"
			}
			l.setStatus(Status{State: StateBusy, Msg: msg, Holder: busy.holder, Err: err})
		} else {
			l.setStatus(Status{State: StateDropped, Msg: "console connection lost: " + safeMsg(err) + "; reconnecting", Err: err})
		}
		l.opts.Logger.Info("sol line down", "bmc", l.ep.Name, "retry_in", delay, "err", err)
		if !l.sleep(delay, busy != nil) {
			return
		}
		delay = min(delay*2, l.opts.ReconnectMax)
	}
}

// sleep waits d; a takeover request cuts the wait short when busy is set.
func (l *Line) sleep(d time.Duration, busy bool) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-l.ctx.Done():
			return false
		case <-t.C:
			return true
		case <-l.wake:
			if busy {
				l.mu.Lock()
				tk := l.takeover
				l.mu.Unlock()
				if tk {
					return true
				}
			}
		}
	}
}

// safeMsg is a user-facing text for err.
func safeMsg(err error) string {
	var ie *ipmi.Error
	switch {
	case err == nil:
		return "closed"
	case errors.As(err, &ie):
		return ie.Msg
	case errors.Is(err, errDeactivated):
		return "the BMC ended the console session"
	case errors.Is(err, errNoAnswer):
		return "the BMC stopped answering"
	}
	return "console protocol error"
}
