package ipmi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/bougou/go-ipmi/pkg/types"
)

var errSessionBroken = errors.New("session broken by an earlier failure")

// ctxError reports the end of the caller's context. A write that was
// already sent has an unknown outcome.
func ctxError(bmc string, err error, sentWrite bool) *Error {
	if sentWrite {
		return newError(bmc, KindUnknownOutcome, msgUnknownOutcome, err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return newError(bmc, KindUnreachable, msgTimeout, err)
	}
	return newError(bmc, KindCanceled, msgCanceled, err)
}

// completionError converts a completion-code error.
func completionError(bmc string, re *types.ResponseError) *Error {
	cc := re.CompletionCode()
	if cc == 0 {
		return malformedError(bmc, re)
	}
	return newError(bmc, KindBMC,
		fmt.Sprintf("the BMC refused the command: %s (completion code 0x%02x)", cc.String(), uint8(cc)), re)
}

// classifyConnect turns a failed session establishment into an *Error,
// trusting the guard's view of what happened on the wire over the
// library's flattened error text.
func classifyConnect(bmc string, callerCtx context.Context, g *guard, err error) *Error {
	snap := g.snapshot()
	if v := g.verdict(); v != nil {
		return v.asError(bmc)
	}
	if snap.refused {
		return notSentError(refusedError(bmc, err))
	}
	if re, ok := types.IsResponseError(err); ok {
		if snap.state == gsActive && re.CompletionCode() != 0 {
			return notSentError(newError(bmc, KindAuth, "the BMC refused the requested privilege level", re))
		}
		return notSentError(completionError(bmc, re))
	}
	if cerr := callerCtx.Err(); cerr != nil {
		return notSentError(ctxError(bmc, cerr, false))
	}
	if snap.delivered == 0 {
		return notSentError(newError(bmc, KindUnreachable, msgNoAnswer, err))
	}
	if snap.state != gsActive || isTimeout(err) {
		return notSentError(newError(bmc, KindUnreachable, msgTimeout, err))
	}
	return notSentError(newError(bmc, KindBMC, "the BMC session could not be set up", err))
}

// isTimeout reports whether err says an exchange got no (matching) answer
// in time. The library flattens some causes into text, hence the string
// checks.
func isTimeout(err error) bool {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "no datagram matched") || strings.Contains(s, "i/o timeout")
}

// classifyCall turns a failed command into an *Error. before is the guard
// snapshot taken just before the command.
func classifyCall(bmc string, callerCtx context.Context, g *guard, before guardSnapshot, err error, write bool) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	after := g.snapshot()
	sent := after.sent > before.sent
	if v := g.verdict(); v != nil {
		out := v.asError(bmc)
		if !sent {
			out.notSent = true
		}
		return out
	}
	if re, ok := types.IsResponseError(err); ok {
		if re.CompletionCode() != 0 {
			// The BMC answered and refused: a definite answer, not a
			// session failure, so it is never retried.
			return completionError(bmc, re)
		}
		if write {
			return newError(bmc, KindUnknownOutcome, msgUnknownOutcome, err)
		}
		return malformedError(bmc, err)
	}
	if after.refused && !before.refused {
		return notSentError(refusedError(bmc, err))
	}
	if !sent {
		if cerr := callerCtx.Err(); cerr != nil {
			return notSentError(ctxError(bmc, cerr, false))
		}
		return notSentError(newError(bmc, KindUnreachable, msgTimeout, err))
	}
	if write {
		return newError(bmc, KindUnknownOutcome, msgUnknownOutcome, err)
	}
	if cerr := callerCtx.Err(); cerr != nil {
		return ctxError(bmc, cerr, false)
	}
	if !isTimeout(err) && after.delivered > before.delivered {
		return malformedError(bmc, err)
	}
	return newError(bmc, KindUnreachable, msgTimeout, err)
}

func notSentError(e *Error) *Error {
	e.notSent = true
	return e
}
