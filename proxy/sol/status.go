package sol

import "fmt"

// State is where a line is in its life.
type State int

// States of a line.
const (
	StateConnecting State = iota + 1 // opening a session and activating the payload
	StateActive                      // the payload is active; output flows
	StateBusy                        // another console holds the payload
	StateDropped                     // the payload or session was lost; re-activating after a delay
	StateClosed                      // Close was called
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
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// Status is one state change of a line. Msg is plain text safe to show to
// users; Err is the cause, for logs.
type Status struct {
	State  State
	Msg    string
	Holder *Holder // set for StateBusy when the BMC told who holds the payload
	Err    error
}

// Holder describes the session holding a SOL payload, as far as the BMC
// tells.
type Holder struct {
	SessionID uint32 // BMC session ID of the holder (0 if unknown)
	UserID    uint8  // BMC user ID (0 if unknown)
	Privilege string // the holder's operating privilege ("" if unknown)
	Remote    string // remote console address ("" if unknown)

	port int // remote console port, 0 if unknown
}

// String describes the holder in one line.
func (h *Holder) String() string {
	if h == nil {
		return "unknown console"
	}
	s := fmt.Sprintf("BMC session %#x", h.SessionID)
	if h.UserID != 0 {
		s += fmt.Sprintf(", user id %d", h.UserID)
	}
	if h.Privilege != "" {
		s += ", " + h.Privilege
	}
	if h.Remote != "" {
		s += ", from " + h.Remote
	}
	return s
}
