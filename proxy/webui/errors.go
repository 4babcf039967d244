package webui

import (
	"errors"
	"fmt"
)

// Sentinels for errors.Is.
var (
	// ErrPoolFull: the BMC has no free web session for another user.
	ErrPoolFull = errors.New("web: BMC web session limit reached")
	// ErrLogin: the BMC refused the gateway's login or answered unexpectedly.
	ErrLogin = errors.New("web: BMC login failed")
	// ErrBadRequest: the request cannot be forwarded safely.
	ErrBadRequest = errors.New("web: request refused")
	// ErrOwnAccount: the request would change the gateway's own BMC account.
	ErrOwnAccount = errors.New("web: the gateway's own BMC account is protected")
	// ErrClosed: the pool or proxy is closed.
	ErrClosed = errors.New("web: closed")
)

// Error is the error type of this package. Msg is plain, safe text for
// users; Err is the cause, for logs. Neither ever holds a password or a
// session token.
type Error struct {
	Msg string
	Err error
}

// Error returns the message and the cause.
func (e *Error) Error() string {
	if e.Err == nil {
		return e.Msg
	}
	return fmt.Sprintf("%s: %v", e.Msg, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// UserMessage returns the text a user may see.
func (e *Error) UserMessage() string { return e.Msg }

// UserMessage returns the text a user may see for err: the non-empty
// message of the first error in its chain that offers one (a UserMessage
// method, as *Error has), else fallback.
func UserMessage(err error, fallback string) string {
	var um interface{ UserMessage() string }
	if errors.As(err, &um) && um.UserMessage() != "" {
		return um.UserMessage()
	}
	return fallback
}

func newError(msg string, sentinel error, format string, args ...any) *Error {
	cause := fmt.Errorf(format, args...)
	if sentinel != nil {
		cause = fmt.Errorf("%w: %w", sentinel, cause)
	}
	return &Error{Msg: msg, Err: cause}
}
