// Package usererr is bmcgate's one rule for errors that reach a user.
//
// An error has two texts. Its user message is plain, one line, free of
// secrets and of raw BMC output: what a door shows (SSH stderr, the web
// page, the API's "message"). Error() is for logs and audit reasons: the
// message followed by the cause. Doors show Message(err), never
// err.Error(); code decides with errors.Is and errors.As on the sentinels
// below, never by reading either text.
//
// Any error type may carry a user message by implementing UserMessage
// (the brokers' own error types do, with fields of their own); Error is
// the type for everything else.
package usererr

import "errors"

// Error is a failure with a message for users and a cause for logs.
type Error struct {
	Msg string // for users: plain, one line, nothing secret, no raw BMC output
	Err error  // the cause: for errors.Is/As and logs, never shown to users
}

// New returns an error with user message msg and cause err (which may be
// a sentinel, or nil).
func New(msg string, err error) *Error { return &Error{Msg: msg, Err: err} }

// Error is the message followed by the cause, for logs.
func (e *Error) Error() string {
	if e.Err == nil || e.Err.Error() == "" {
		return e.Msg
	}
	return e.Msg + ": " + e.Err.Error()
}

// UserMessage is the message for users.
func (e *Error) UserMessage() string { return e.Msg }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Messenger is an error that carries a message for users.
type Messenger interface {
	error
	UserMessage() string
}

// Message returns the user message of the first error in err's chain that
// carries one, and whether there was one.
func Message(err error) (string, bool) {
	var m Messenger
	if errors.As(err, &m) {
		return m.UserMessage(), true
	}
	return "", false
}

// MessageOr returns the user message of err (as Message), or fallback when
// err carries none or an empty one.
func MessageOr(err error, fallback string) string {
	if m, ok := Message(err); ok && m != "" {
		return m
	}
	return fallback
}

// Sentinels that doors and the service layer decide on with errors.Is.
var (
	// ErrUnknownBMC: the BMC does not exist, or the caller may not see it
	// (the two are told apart nowhere a user can see).
	ErrUnknownBMC = errors.New("unknown BMC")
	// ErrDenied: policy denied the action.
	ErrDenied = errors.New("denied")
)
