package webui

import (
	"errors"
	"fmt"

	"github.com/bmcgate/bmcgate/internal/usererr"
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

// Error is the error type of this package, internal/usererr's: Msg is
// plain, safe text for users (usererr.Message, usererr.MessageOr); Err is
// the cause, for logs and for errors.Is on the sentinels above. Neither
// ever holds a password or a session token.
type Error = usererr.Error

func newError(msg string, sentinel error, format string, args ...any) *Error {
	cause := fmt.Errorf(format, args...)
	if sentinel != nil {
		cause = fmt.Errorf("%w: %w", sentinel, cause)
	}
	return &Error{Msg: msg, Err: cause}
}
