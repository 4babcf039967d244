package bmcssh

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Line is the SSH console of one BMC. It keeps trying to hold it until
// Close. Its methods are safe for concurrent use.
type Line struct {
	t    Target
	prof *compiled
	perr error // the target is unusable: reported, never dialled
	opts Options

	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}
	wake    chan struct{} // input waiting
	brkWake chan struct{} // a break waiting

	mu     sync.Mutex
	in     []byte // input not yet written to the BMC
	brk    bool   // a break is waiting
	state  State
	filter detachFilter
}

// Open starts a line for t. It returns at once; the line connects in the
// background and reports through opts.OnStatus. A target that fails
// Validate is reported as StateRefused (KindTarget) and never dialled.
func Open(t Target, opts Options) *Line {
	ctx, cancel := context.WithCancel(context.Background())
	l := &Line{t: t, opts: opts.withDefaults(), ctx: ctx, cancel: cancel,
		done: make(chan struct{}), wake: make(chan struct{}, 1), brkWake: make(chan struct{}, 1)}
	if err := t.Validate(); err != nil {
		l.perr = &Error{Kind: KindTarget, BMC: t.Name, Msg: "the SSH console target is not usable", Err: err}
	} else {
		l.prof, _ = t.Profile.compile()
		l.filter.seq = []byte(t.Profile.Detach)
	}
	go l.run()
	return l
}

// Write queues input for the console. It never blocks. Input is taken only
// while the console is attached (ErrNotConnected otherwise: nothing typed
// is held for a console that is not there); when the input buffer is full
// it queues what fits and returns ErrOverflow. Input that would complete
// the profile's detach sequence is cut before the byte that completes it
// (ErrDetachSequence, with the count of bytes taken). Queued input not yet
// written when the connection is lost is handed to OnInputLost, never sent
// later.
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
	room := min(len(p), l.opts.InputBuffer-len(l.in))
	n := l.filter.allow(p[:room])
	l.in = append(l.in, p[:n]...)
	l.mu.Unlock()
	l.poke(l.wake)
	switch {
	case n < room:
		return n, ErrDetachSequence
	case n < len(p):
		return n, ErrOverflow
	}
	return n, nil
}

// Break asks for a serial break to be sent to the host (an SSH "break"
// request). A break asked for while the console is not attached is
// dropped.
func (l *Line) Break() {
	l.mu.Lock()
	if l.state == StateActive {
		l.brk = true
	}
	l.mu.Unlock()
	l.poke(l.brkWake)
}

// Takeover does nothing: a BMC's SSH console service has no standard way to
// evict another client. It is here so that a hub treats SOL and SSH lines
// alike; a busy console is retried with backoff.
func (l *Line) Takeover() {}

// State returns the line's current state.
func (l *Line) State() State {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state
}

// Target returns the target the line was opened for.
func (l *Line) Target() Target { return l.t }

// Close sends the profile's detach sequence, closes the connection and
// waits for the line's goroutines to end (bounded by a few seconds).
func (l *Line) Close() {
	l.cancel()
	<-l.done
}

func (l *Line) poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (l *Line) setStatus(st Status) {
	l.mu.Lock()
	l.state = st.State
	if st.State == StateActive {
		l.filter.reset()
	}
	l.mu.Unlock()
	l.opts.OnStatus(st)
}

// peekInput copies up to len(buf) bytes of queued input into buf, without
// consuming them (commitInput does, once written).
func (l *Line) peekInput(buf []byte) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return copy(buf, l.in)
}

func (l *Line) commitInput(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.in = l.in[min(n, len(l.in)):]
	if len(l.in) == 0 {
		l.in = nil
	}
}

func (l *Line) takeBreak() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.brk
	l.brk = false
	return b
}

// loseInput ends input for the attachment that just ended: Write refuses
// input from now on, and what was not written goes to OnInputLost.
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

// run holds the console until Close, connecting again with backoff.
func (l *Line) run() {
	defer close(l.done)
	defer l.setStatus(Status{State: StateClosed, Msg: "console closed"})
	if l.perr != nil {
		l.setStatus(Status{State: StateRefused, Kind: KindTarget, Msg: "refused: " + safeMsg(l.perr), Err: l.perr})
		l.opts.Logger.Warn("bmcssh: target not usable", "bmc", l.t.Name, "err", l.perr)
		<-l.ctx.Done()
		return
	}
	delay := l.opts.ReconnectMin
	for l.ctx.Err() == nil {
		l.setStatus(Status{State: StateConnecting, Msg: "connecting to the console over SSH"})
		active, err := l.session(l.ctx)
		if l.ctx.Err() != nil {
			return
		}
		if active {
			delay = l.opts.ReconnectMin // it worked for a while: start over
		}
		wait := delay
		st := Status{Kind: KindOf(err), Err: err}
		switch {
		case st.Kind == KindBusy:
			st.State, st.Msg = StateBusy, "the console is in use by another client of the BMC; bmcgate waits and re-checks"
		case st.Kind.refusal():
			st.State, st.Msg = StateRefused, "refused: "+safeMsg(err)
			wait = max(wait, l.opts.RefusedRetry)
		case active:
			st.State, st.Msg = StateDropped, "console connection lost: "+safeMsg(err)+"; reconnecting"
		default:
			st.State, st.Msg = StateDropped, "console not reachable: "+safeMsg(err)+"; retrying"
		}
		l.setStatus(st)
		if st.State == StateRefused {
			l.opts.Logger.Warn("bmcssh line refused", "bmc", l.t.Name, "kind", st.Kind.String(), "retry_in", wait, "err", err)
		} else {
			l.opts.Logger.Info("bmcssh line down", "bmc", l.t.Name, "kind", st.Kind.String(), "retry_in", wait, "err", err)
		}
		if !l.sleep(wait) {
			return
		}
		delay = min(delay*2, l.opts.ReconnectMax)
	}
}

func (l *Line) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-l.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// safeMsg is a user-facing text for err.
func safeMsg(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Msg
	}
	if err == nil {
		return "closed"
	}
	return "SSH console error"
}
