package console

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/proxy/bmcssh"
	"github.com/bmcgate/bmcgate/proxy/sol"
)

// OpenSSH is the Opener over a BMC's own SSH console service
// (proxy/bmcssh), for inventory entries with an SSHConsole, with the SOL
// line options' keep-alive, backoff and input buffer.
func OpenSSH(o sol.Options, log *slog.Logger) Opener {
	return func(b *service.BMC, ev LineEvents) (Line, int) {
		so := bmcssh.Options{
			KeepAlive:    o.KeepAlive,
			ReconnectMin: o.ReconnectMin,
			ReconnectMax: o.ReconnectMax,
			InputBuffer:  o.InputBuffer,
			Logger:       log,
			OnOutput:     ev.OnOutput,
			OnInputLost:  ev.OnInputLost,
			OnStatus: func(s bmcssh.Status) {
				if ev.OnStatus != nil {
					ev.OnStatus(LineStatus{State: sshState(s.State), Msg: s.Msg, Err: s.Err})
				}
			},
		}
		buf := so.InputBuffer
		if buf <= 0 {
			buf = bmcssh.DefaultInputBuffer
		}
		return sshLine{bmcssh.Open(*b.SSHConsole, so)}, buf
	}
}

// withSSH opens SSH console lines for the BMCs that have one and leaves
// the others to next.
func withSSH(next Opener, o sol.Options, log *slog.Logger) Opener {
	ssh := OpenSSH(o, log)
	return func(b *service.BMC, ev LineEvents) (Line, int) {
		if b.SSHConsole != nil {
			return ssh(b, ev)
		}
		return next(b, ev)
	}
}

// sshLine is a proxy/bmcssh line as a Line.
type sshLine struct{ l *bmcssh.Line }

func (s sshLine) Write(p []byte) (int, error) {
	n, err := s.l.Write(p)
	switch {
	case errors.Is(err, bmcssh.ErrNotConnected):
		err = fmt.Errorf("%w: %w", ErrNotConnected, err)
	case errors.Is(err, bmcssh.ErrOverflow):
		err = fmt.Errorf("%w: %w", ErrOverflow, err)
	}
	return n, err
}
func (s sshLine) Break()           { s.l.Break() }
func (s sshLine) Takeover()        { s.l.Takeover() }
func (s sshLine) State() LineState { return sshState(s.l.State()) }
func (s sshLine) Close()           { s.l.Close() }

// sshState is an SSH console line's state as a LineState.
func sshState(s bmcssh.State) LineState {
	switch s {
	case bmcssh.StateConnecting:
		return LineConnecting
	case bmcssh.StateActive:
		return LineActive
	case bmcssh.StateBusy:
		return LineBusy
	case bmcssh.StateDropped:
		return LineDropped
	case bmcssh.StateClosed:
		return LineClosed
	case bmcssh.StateRefused:
		return LineRefused
	}
	return 0
}
