package service

import (
	"context"
	"errors"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

// UserError is an error whose message is written for the user: plain, one
// line, free of secrets and of raw BMC output. The cause, if any, is for logs.
type UserError struct {
	Msg string
	Err error
}

func (e *UserError) Error() string { return e.Msg }
func (e *UserError) Unwrap() error { return e.Err }

// ErrAuditUnavailable means an audit record could not be written, so the
// action it would have recorded was refused.
var ErrAuditUnavailable = &UserError{Msg: "refused: the audit log is unavailable, so no action is taken"}

// ErrDenied marks a policy denial.
var ErrDenied = errors.New("denied")

// Message returns the text a user may see for err.
func Message(err error) string {
	var ue *UserError
	if errors.As(err, &ue) {
		return ue.Msg
	}
	var ie *ipmi.Error
	if errors.As(err, &ie) && ie.Msg != "" {
		return safe(ie.Msg)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	if errors.Is(err, context.Canceled) {
		return "canceled"
	}
	return "internal error"
}

// quote shows user-typed or BMC-supplied text in a message: escaped once
// (safe) between double quotes. Never put safe text through %q, which
// escapes its backslashes a second time.
func quote(s string) string { return `"` + safe(s) + `"` }

// safe makes user-typed or BMC-supplied text safe to echo into a terminal
// or a message.
func safe(s string) string {
	if len(s) > 256 {
		s = s[:256] + "…"
	}
	return audit.Sanitize(s)
}
