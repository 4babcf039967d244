package ipmi

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/bougou/go-ipmi/pkg/types"
)

func TestClassifyCall(t *testing.T) {
	timeout := fmt.Errorf("IPMI LAN: no matching IPMI response: %w", os.ErrDeadlineExceeded)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name      string
		err       error
		write     bool
		sent      bool
		delivered bool
		refused   bool
		verdict   *guardError
		ctx       context.Context
		want      error
		notSent   bool
	}{
		{name: "completion code", err: types.NewResponseError(0xd5, "x"), sent: true, delivered: true, want: ErrBMC},
		{name: "completion code on write", err: types.NewResponseError(0xd4, "x"), write: true, sent: true, delivered: true, want: ErrBMC},
		{name: "garbled answer to a read", err: types.NewResponseError(0, "unpack"), sent: true, delivered: true, want: ErrBMC},
		{name: "garbled answer to a write", err: types.NewResponseError(0, "unpack"), write: true, sent: true, delivered: true, want: ErrUnknownOutcome},
		{name: "read timed out", err: timeout, sent: true, want: ErrUnreachable},
		{name: "read timed out after partial answers", err: timeout, sent: true, delivered: true, want: ErrUnreachable},
		{name: "write timed out after sending", err: timeout, write: true, sent: true, want: ErrUnknownOutcome},
		{name: "write never sent", err: errors.New("write failed"), write: true, want: ErrUnreachable, notSent: true},
		{name: "write refused by ICMP", err: errors.New("connection refused"), write: true, sent: true, refused: true, want: ErrUnreachable, notSent: true},
		{name: "caller canceled before sending", err: context.Canceled, ctx: canceled, want: ErrCanceled, notSent: true},
		{name: "caller canceled after sending a write", err: context.Canceled, ctx: canceled, write: true, sent: true, want: ErrUnknownOutcome},
		{name: "guard refused to send", err: errors.New("x"), write: true, verdict: &guardError{kind: KindInsecure, msg: "refused"}, want: ErrInsecure, notSent: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := &guard{fail: c.verdict}
			before := g.snapshot()
			if c.sent {
				g.sent++
			}
			if c.delivered {
				g.delivered++
			}
			g.refused = c.refused
			ctx := c.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			e := classifyCall("n", ctx, g, before, c.err, c.write)
			if !errors.Is(e, c.want) || e.notSent != c.notSent {
				t.Fatalf("got %v (notSent %v), want %v (notSent %v)", e, e.notSent, c.want, c.notSent)
			}
		})
	}
}
