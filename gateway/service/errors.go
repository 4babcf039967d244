package service

import (
	"context"
	"errors"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/internal/usererr"
)

// UserError is an error whose message is written for the user: plain, one
// line, free of secrets and of raw BMC output (package usererr's rule:
// doors show Message(err); Error() adds the cause, for logs).
type UserError = usererr.Error

// ErrAuditUnavailable means an audit record could not be written, so the
// action it would have recorded was refused.
var ErrAuditUnavailable = &UserError{Msg: "refused: the audit log is unavailable, so no action is taken"}

// ErrDenied marks a policy denial.
var ErrDenied = usererr.ErrDenied

// ErrUnknownBMC marks a BMC that does not exist or that the caller may not
// see: doors tell it apart with errors.Is, never by its text.
var ErrUnknownBMC = usererr.ErrUnknownBMC

// Message returns the text a user may see for err: a *UserError's message;
// else the message of a transport's error that carries one (UserMessage,
// made safe); else a word for the context's end; else "internal error".
func Message(err error) string {
	var ue *UserError
	if errors.As(err, &ue) {
		return ue.Msg
	}
	if m, ok := usererr.Message(err); ok && m != "" {
		return safe(m) // a transport's own error type (proxy/ipmi, proxy/redfish)
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
