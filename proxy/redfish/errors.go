package redfish

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
)

// Kind classifies an [*Error].
type Kind int

// Error kinds. Each has a sentinel usable with errors.Is.
const (
	KindConfig         Kind = iota + 1 // the endpoint is not usable as configured
	KindUnreachable                    // no connection, no answer in time
	KindInsecure                       // the BMC's certificate failed verification
	KindAuth                           // login refused (user name or password)
	KindBusy                           // too many callers waiting for this BMC, or the BMC said 503
	KindBMC                            // the BMC answered with an error or with something unreadable
	KindUnsupported                    // the BMC lacks the resource, action or value asked for
	KindUnknownOutcome                 // a write was sent but its result cannot be known
	KindClosed                         // the broker is closed
	KindCanceled                       // the caller's context ended
)

// Sentinels for errors.Is. An [*Error] of a given Kind matches its sentinel.
var (
	ErrConfig         = errors.New("redfish: endpoint misconfigured")
	ErrUnreachable    = errors.New("redfish: BMC unreachable")
	ErrInsecure       = errors.New("redfish: BMC certificate not trusted")
	ErrAuth           = errors.New("redfish: authentication failed")
	ErrBusy           = errors.New("redfish: BMC busy")
	ErrBMC            = errors.New("redfish: BMC returned an error")
	ErrUnsupported    = errors.New("redfish: not supported by the BMC")
	ErrUnknownOutcome = errors.New("redfish: outcome unknown")
	ErrClosed         = errors.New("redfish: broker closed")
	ErrCanceled       = errors.New("redfish: canceled")
)

var sentinels = map[Kind]error{
	KindConfig: ErrConfig, KindUnreachable: ErrUnreachable, KindInsecure: ErrInsecure,
	KindAuth: ErrAuth, KindBusy: ErrBusy, KindBMC: ErrBMC, KindUnsupported: ErrUnsupported,
	KindUnknownOutcome: ErrUnknownOutcome, KindClosed: ErrClosed, KindCanceled: ErrCanceled,
}

var kindNames = map[Kind]string{
	KindConfig: "config", KindUnreachable: "unreachable", KindInsecure: "insecure",
	KindAuth: "auth", KindBusy: "busy", KindBMC: "bmc", KindUnsupported: "unsupported",
	KindUnknownOutcome: "unknown-outcome", KindClosed: "closed", KindCanceled: "canceled",
}

// String returns a short name of the kind.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is the error type of this package. Msg is plain, safe text for
// users; Err is the cause, for logs. Neither ever holds a password, a
// session token or a virtual media URL's query.
type Error struct {
	BMC  string
	Kind Kind
	Msg  string
	Err  error
}

// Error returns "redfish: <bmc>: <msg>", followed by the cause if any.
func (e *Error) Error() string {
	s := "redfish: " + e.BMC + ": " + e.Msg
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
	s := sentinels[e.Kind]
	return s != nil && target == s
}

func newError(bmc string, k Kind, msg string, cause error) *Error {
	return &Error{BMC: bmc, Kind: k, Msg: msg, Err: cause}
}

// KindOf returns the Kind of err, or 0 when err is not an [*Error].
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// User-facing messages.
const (
	msgRefused        = "the BMC refused the connection (nothing listens on its Redfish port)"
	msgNoAnswer       = "no answer from the BMC"
	msgTimeout        = "the BMC did not answer in time"
	msgBadLogin       = "the BMC rejected the user name or password"
	msgBusyQueue      = "too many requests are waiting for this BMC; try again later"
	msgBusyBMC        = "the BMC is busy (503); try again later"
	msgUnknownOutcome = "the command was sent but the BMC did not confirm it; its outcome is unknown, check the state before retrying"
	msgClosed         = "the gateway is shutting down"
	msgCanceled       = "canceled"
	msgMalformed      = "the BMC sent an answer that could not be understood"
	msgTooLarge       = "the BMC's answer is larger than the limit"
	msgCertificate    = "the BMC's TLS certificate did not pass verification"
	msgTokenRefused   = "the BMC refused the gateway's session; nothing was done, try again"
)

// scrubbed is an error whose text had secrets removed; it keeps the
// original for errors.Is/As on types that hold no text of their own.
type scrubbed struct {
	msg   string
	cause error
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.cause }

// scrub returns err with every occurrence of the secrets replaced.
func scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	changed := false
	for _, s := range secrets {
		if len(s) >= 4 && strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, redacted)
			changed = true
		}
	}
	if !changed {
		return err
	}
	return &scrubbed{msg: msg, cause: errors.Unwrap(err)}
}

// errCallTimeout is the cause of a call's own deadline.
var errCallTimeout = errors.New("call timeout")

// transportError classifies an error from the HTTP client. sent reports
// whether the request was written (httptrace), write whether it changes
// state: a write that was sent and not answered has an unknown outcome.
func transportError(bmc string, ctx context.Context, err error, write, sent bool) *Error {
	var cve *tls.CertificateVerificationError
	var uae x509.UnknownAuthorityError
	var hne x509.HostnameError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &cve), errors.As(err, &uae), errors.As(err, &hne), errors.As(err, &ci),
		strings.Contains(err.Error(), "does not match the pinned fingerprint"):
		return newError(bmc, KindInsecure, msgCertificate, err)
	}
	if sent && write {
		return newError(bmc, KindUnknownOutcome, msgUnknownOutcome, err)
	}
	if ctx.Err() != nil {
		if errors.Is(context.Cause(ctx), context.Canceled) {
			return newError(bmc, KindCanceled, msgCanceled, err)
		}
		return newError(bmc, KindUnreachable, msgTimeout, err)
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" && strings.Contains(err.Error(), "connection refused") {
		return newError(bmc, KindUnreachable, msgRefused, err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return newError(bmc, KindUnreachable, msgTimeout, err)
	}
	return newError(bmc, KindUnreachable, msgNoAnswer, err)
}
