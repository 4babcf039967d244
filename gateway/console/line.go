package console

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/proxy/sol"
)

// Line is a console transport: one BMC's serial console, held open (and
// re-opened after a loss) by the transport while the hub shares it among
// viewers. Implementations: SOL over IPMI (proxy/sol, opened by OpenSOL),
// and a BMC's own SSH console service (proxy/bmcssh), which plugs in as
// another Opener with no door change.
//
// The transport reports through LineEvents: output in order, every state
// change, and input it took but could not deliver before the console was
// lost (never sent later).
type Line interface {
	// Write queues typed input. It refuses input (ErrNotConnected) while
	// the console is not connected, queues what fits and returns
	// ErrOverflow when its input buffer is full.
	Write(p []byte) (int, error)
	// Break sends a serial break.
	Break()
	// Takeover evicts a client outside bmcgate that holds the console,
	// where the transport can (SOL); a no-op elsewhere.
	Takeover()
	// State is where the line is now.
	State() LineState
	// Close ends the line; OnStatus then reports LineClosed.
	Close()
}

// Opener opens the console line of b, reporting to ev, and returns it with
// the size of its input buffer (what may be in flight to the BMC).
type Opener func(b *service.BMC, ev LineEvents) (Line, int)

// LineEvents are a line's callbacks. None may block or keep p.
type LineEvents struct {
	OnOutput    func(p []byte)
	OnStatus    func(LineStatus)
	OnInputLost func(p []byte, why string)
}

// LineState is where a line is in its life.
type LineState int

// States of a line.
const (
	LineConnecting LineState = iota + 1 // opening the console
	LineActive                          // output flows, input is accepted
	LineBusy                            // another client holds the BMC's console
	LineDropped                         // the console was lost; re-opening after a delay
	LineClosed                          // Close was called
	LineRefused                         // the BMC refused (host key, login); tried again later
)

var lineStateNames = map[LineState]string{
	LineConnecting: "connecting", LineActive: "active", LineBusy: "busy",
	LineDropped: "dropped", LineClosed: "closed", LineRefused: "refused",
}

func (s LineState) String() string {
	if n, ok := lineStateNames[s]; ok {
		return n
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// LineStatus is one state change of a line. Msg is plain text safe to show
// users; Holder names who holds the console when the line is busy ("" when
// unknown); Err is the cause, for logs (never carrying a credential).
type LineStatus struct {
	State  LineState
	Msg    string
	Holder string
	Err    error
}

// Errors of Line.Write.
var (
	ErrNotConnected = errors.New("console: not connected")
	ErrOverflow     = errors.New("console: input buffer full")
)

// OpenSOL is the Opener over IPMI Serial-over-LAN (proxy/sol) with options
// o (keep-alive, backoff, polling); the callbacks are the hub's.
func OpenSOL(o sol.Options, log *slog.Logger) Opener {
	return func(b *service.BMC, ev LineEvents) (Line, int) {
		o := o
		o.Logger = log
		o.OnOutput = ev.OnOutput
		o.OnInputLost = ev.OnInputLost
		o.OnStatus = func(s sol.Status) {
			if ev.OnStatus != nil {
				ev.OnStatus(LineStatus{State: solState(s.State), Msg: s.Msg, Holder: s.Holder.String(), Err: s.Err})
			}
		}
		buf := o.InputBuffer
		if buf <= 0 {
			buf = sol.DefaultInputBuffer
		}
		return solLine{sol.Open(b.Endpoint, o)}, buf
	}
}

// solLine is a proxy/sol line as a Line.
type solLine struct{ l *sol.Line }

func (s solLine) Write(p []byte) (int, error) {
	n, err := s.l.Write(p)
	switch {
	case errors.Is(err, sol.ErrNotConnected):
		err = fmt.Errorf("%w: %w", ErrNotConnected, err)
	case errors.Is(err, sol.ErrOverflow):
		err = fmt.Errorf("%w: %w", ErrOverflow, err)
	}
	return n, err
}
func (s solLine) Break()           { s.l.Break() }
func (s solLine) Takeover()        { s.l.Takeover() }
func (s solLine) State() LineState { return solState(s.l.State()) }
func (s solLine) Close()           { s.l.Close() }

// solState is a SOL line's state as a LineState.
func solState(s sol.State) LineState {
	switch s {
	case sol.StateConnecting:
		return LineConnecting
	case sol.StateActive:
		return LineActive
	case sol.StateBusy:
		return LineBusy
	case sol.StateDropped:
		return LineDropped
	case sol.StateClosed:
		return LineClosed
	}
	return 0
}
