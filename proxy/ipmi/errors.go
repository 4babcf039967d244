package ipmi

import (
	"errors"
	"fmt"
)

// Kind classifies an [*Error].
type Kind int

// Error kinds. Each has a sentinel usable with errors.Is.
const (
	KindUnreachable    Kind = iota + 1 // no answer, timeout, connection refused
	KindAuth                           // wrong user or password, RAKP failure, privilege refused
	KindInsecure                       // algorithms other than requested, or an insecure suite requested
	KindBusy                           // too many callers waiting for this BMC, or the BMC has no free session
	KindBMC                            // the BMC answered with an error completion code or a malformed answer
	KindUnknownOutcome                 // a write was sent but its result cannot be known
	KindClosed                         // the broker is closed
	KindCanceled                       // the caller's context ended
)

// Sentinels for errors.Is. An [*Error] of a given Kind matches its sentinel.
var (
	ErrUnreachable    = errors.New("ipmi: BMC unreachable")
	ErrAuth           = errors.New("ipmi: authentication failed")
	ErrInsecure       = errors.New("ipmi: insecure session refused")
	ErrBusy           = errors.New("ipmi: BMC busy")
	ErrBMC            = errors.New("ipmi: BMC returned an error")
	ErrUnknownOutcome = errors.New("ipmi: outcome unknown")
	ErrClosed         = errors.New("ipmi: broker closed")
	ErrCanceled       = errors.New("ipmi: canceled")
)

func (k Kind) sentinel() error {
	switch k {
	case KindUnreachable:
		return ErrUnreachable
	case KindAuth:
		return ErrAuth
	case KindInsecure:
		return ErrInsecure
	case KindBusy:
		return ErrBusy
	case KindBMC:
		return ErrBMC
	case KindUnknownOutcome:
		return ErrUnknownOutcome
	case KindClosed:
		return ErrClosed
	case KindCanceled:
		return ErrCanceled
	}
	return nil
}

// String returns a short name of the kind.
func (k Kind) String() string {
	switch k {
	case KindUnreachable:
		return "unreachable"
	case KindAuth:
		return "auth"
	case KindInsecure:
		return "insecure"
	case KindBusy:
		return "busy"
	case KindBMC:
		return "bmc"
	case KindUnknownOutcome:
		return "unknown-outcome"
	case KindClosed:
		return "closed"
	case KindCanceled:
		return "canceled"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is the error type of this package. Msg is plain, safe text for
// users; Err is the cause, for logs. Neither ever holds a password.
type Error struct {
	BMC  string
	Kind Kind
	Msg  string
	Err  error

	notSent   bool // the failed command provably never reached the BMC
	retrySafe bool // repeating the whole operation on a fresh session cannot repeat a write
	malformed bool // the BMC's answer could not be understood (KindBMC)
	refused   bool // the BMC refused the connection: nothing listens (KindUnreachable)
}

// sessionFault reports whether e means the session itself failed (as
// opposed to a definite answer from the BMC or the caller giving up).
func (e *Error) sessionFault() bool {
	switch e.Kind {
	case KindUnreachable, KindUnknownOutcome, KindInsecure:
		return true
	case KindBMC:
		return e.malformed
	}
	return false
}

func newError(bmc string, k Kind, msg string, cause error) *Error {
	return &Error{BMC: bmc, Kind: k, Msg: msg, Err: cause}
}

// malformedError is an answer of the BMC that could not be understood.
func malformedError(bmc string, cause error) *Error {
	e := newError(bmc, KindBMC, msgMalformed, cause)
	e.malformed = true
	return e
}

// refusedError is a connection the BMC refused (ICMP port unreachable).
func refusedError(bmc string, cause error) *Error {
	e := newError(bmc, KindUnreachable, msgRefused, cause)
	e.refused = true
	return e
}

// Error returns "ipmi: <bmc>: <msg>", followed by the cause if any.
func (e *Error) Error() string {
	s := "ipmi: " + e.BMC + ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// UserMessage is the plain text for users (internal/usererr's rule): Msg,
// without the BMC's name or the cause.
func (e *Error) UserMessage() string { return e.Msg }

// Is reports whether target is the sentinel of e's Kind.
func (e *Error) Is(target error) bool {
	s := e.Kind.sentinel()
	return s != nil && target == s
}

// User-facing messages.
const (
	msgNoAnswer       = "no answer from the BMC (unreachable, or not an IPMI endpoint)"
	msgRefused        = "the BMC refused the connection (nothing listens on its IPMI port)"
	msgTimeout        = "the BMC did not answer in time"
	msgBadLogin       = "the BMC rejected the user name or password"
	msgBusyQueue      = "too many requests are waiting for this BMC; try again later"
	msgBusyBMC        = "the BMC has no free session; try again later"
	msgUnknownOutcome = "the command was sent but the BMC did not confirm it; its outcome is unknown, check the state before retrying"
	msgClosed         = "the gateway is shutting down"
	msgCanceled       = "canceled"
	msgMalformed      = "the BMC sent an answer that could not be understood"
)
