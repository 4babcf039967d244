package bmcssh

import (
	"errors"
	"fmt"
)

// State is where a line is in its life. The values shared with proxy/sol
// (connecting, active, busy, dropped, closed) mean the same there.
type State int

// States of a line.
const (
	StateConnecting State = iota + 1 // connecting, logging in, running the profile's steps
	StateActive                      // the console is attached; output flows
	StateBusy                        // the BMC says another client holds its console
	StateDropped                     // the connection or the console was lost; connecting again after a delay
	StateClosed                      // Close was called
	StateRefused                     // the BMC's host key, the login or the target was refused; tried again after Options.RefusedRetry
)

func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateActive:
		return "active"
	case StateBusy:
		return "busy"
	case StateDropped:
		return "dropped"
	case StateClosed:
		return "closed"
	case StateRefused:
		return "refused"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// Status is one state change of a line. Msg is plain text safe to show to
// users; Kind says what went wrong (0 for connecting, active and closed);
// Err is the cause, for logs (never carrying a credential).
type Status struct {
	State State
	Msg   string
	Kind  Kind
	Err   error
}

// Kind classifies what went wrong, for audit records and status messages.
type Kind int

// Kinds of failure.
const (
	KindConnect   Kind = iota + 1 // no TCP connection, or the SSH handshake broke off
	KindHostKey                   // no key pinned, or the BMC presented another one
	KindAuth                      // the BMC refused the credentials
	KindAlgorithm                 // no algorithm in common (the BMC offers only weak ones)
	KindSession                   // the BMC refused the PTY, shell or command
	KindStep                      // a profile step failed: no expected text within its timeout or output bound
	KindBusy                      // the BMC says another client holds the console
	KindLost                      // the connection dropped or stopped answering keep-alives
	KindEnded                     // the BMC ended the console (its command line came back, or the session closed)
	KindTarget                    // the target is not usable (bad address or profile, no credentials)
)

func (k Kind) String() string {
	switch k {
	case KindConnect:
		return "connect"
	case KindHostKey:
		return "host-key"
	case KindAuth:
		return "auth"
	case KindAlgorithm:
		return "algorithm"
	case KindSession:
		return "session"
	case KindStep:
		return "step"
	case KindBusy:
		return "busy"
	case KindLost:
		return "lost"
	case KindEnded:
		return "ended"
	case KindTarget:
		return "target"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// refusal reports whether k is a refusal that retrying soon does not mend.
func (k Kind) refusal() bool {
	return k == KindHostKey || k == KindAuth || k == KindAlgorithm || k == KindTarget
}

// Error is a failure of a line or of FetchHostKey. Msg is safe to show to
// users; Err is the underlying cause. Neither carries a credential.
type Error struct {
	Kind Kind
	BMC  string // the target's name
	Msg  string
	// Fingerprint is, for KindHostKey, the SHA256 fingerprint of the key
	// the BMC presented ("" when it presented none).
	Fingerprint string
	Err         error
}

func (e *Error) Error() string {
	s := "bmcssh"
	if e.BMC != "" {
		s += " " + e.BMC
	}
	s += ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of err (0 when it is not an *Error).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// Errors returned by Line methods.
var (
	ErrClosed       = errors.New("bmcssh: line closed")
	ErrOverflow     = errors.New("bmcssh: input buffer full")
	ErrNotConnected = errors.New("bmcssh: the console is not connected")
	// ErrDetachSequence: the input would have completed the profile's
	// detach sequence, which is never passed on; the bytes from the one
	// that would complete it were refused.
	ErrDetachSequence = errors.New("bmcssh: input holds the BMC's console detach sequence, which bmcgate does not pass on")
)
