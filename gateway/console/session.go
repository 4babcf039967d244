package console

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/gateway/service"
)

// serve runs one viewer's session until it ends.
func (c *console) serve(v *viewer, t Terminal) error {
	h := c.hub
	start := time.Now()
	if err := h.svc.Audit(v.ctx, c.record(v, audit.CodeConsoleAttach, audit.OutcomeOK, "attached")); err != nil {
		h.leave(c, v)
		return err
	}
	go v.pump(t.Out)
	c.welcome(v)
	c.readKeys(v, t)
	return c.finish(v, start)
}

// welcome tells v its mode and the escapes, replays the scrollback and the
// line's state, and makes v live.
func (c *console) welcome(v *viewer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.live == nil {
		c.live = map[*viewer]bool{}
	}
	mode := "read-only"
	if v.canWrite && c.writer == nil {
		c.writer = v
		mode = "read-write"
	} else if v.canWrite {
		mode = "read-only while " + audit.Sanitize(c.writer.caller.Name()) + " has write access"
	}
	esc := string(c.hub.cfg.EscapeChar)
	v.send([]byte(fmt.Sprintf("[bmcgate: console %s (%s), %s; %s? for help, %s. to detach]\r\n", c.bmc.Name, c.id, mode, esc, esc)))
	if sb := c.ring.Bytes(); len(sb) > 0 {
		v.send(sb)
	}
	switch c.status.State {
	case 0:
		v.notice("connecting to the console")
	case LineActive:
	default:
		v.notice("%s", c.status.Msg)
	}
	c.live[v] = true
}

// readKeys takes v's typing, breaks and idleness until v's session ends.
func (c *console) readKeys(v *viewer, t Terminal) {
	pending, keys, keysClosed := t.In.Keys()
	in := c.newInput()
	if len(pending) > 0 {
		c.typed(v, in, pending)
	}
	// One timer per viewer, due when the viewer would have been idle too
	// long; typing moves idleSince, so a timer that fires early is re-armed
	// for the time left rather than polling.
	idleAfter := c.hub.idleTimeout()
	idle := time.NewTimer(idleAfter - time.Since(v.idleSince()))
	defer idle.Stop()
	for v.ctx.Err() == nil {
		select {
		case <-v.ctx.Done():
		case p := <-keys:
			c.typed(v, in, p)
		case <-keysClosed:
			v.cancel(errTerminalGone)
		case <-t.Breaks:
			if c.current(v) {
				c.command(v, cmdBreak)
			}
		case <-idle.C:
			if left := idleAfter - time.Since(v.idleSince()); left > 0 {
				idle.Reset(left)
			} else {
				v.notice("%s", errIdle.Msg)
				v.cancel(errIdle)
			}
		}
	}
}

// finish removes v, audits why its session ended (since start) and
// returns the error its attach ends with: nil for a detach, a closed
// terminal or a cancellation.
func (c *console) finish(v *viewer, start time.Time) error {
	h := c.hub
	cause := context.Cause(v.ctx)
	h.leave(c, v)
	if v.input != nil && !v.input.Close() && !errors.Is(cause, errRecording) {
		cause = errRecording
	}
	reason := service.Message(cause)
	if errors.Is(cause, context.Canceled) {
		reason = "session ended"
	}
	ordinary := isUserDetach(cause) || errors.Is(cause, errTerminalGone) || errors.Is(cause, context.Canceled)
	rec := c.record(v, audit.CodeConsoleDetach, audit.OutcomeOK, reason)
	rec.Duration = time.Since(start)
	if !ordinary {
		rec.Outcome = audit.OutcomeError
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(v.ctx), 5*time.Second)
	aerr := h.svc.Audit(actx, rec)
	cancel()
	waitPump(v)
	if aerr != nil {
		return aerr
	}
	if ordinary {
		return nil
	}
	return cause
}

// waitPump lets the output pump deliver the parting message (bounded).
func waitPump(v *viewer) {
	select {
	case <-v.outDone:
	case <-time.After(2 * time.Second):
	}
}

func (c *console) record(v *viewer, code, outcome, reason string) audit.Record {
	return audit.Record{Code: code, Actor: v.caller.Name(), Door: v.caller.Door, Source: v.caller.Source,
		Session: v.caller.Session, Target: c.bmc.Name, Outcome: outcome, Reason: reason,
		Fields: map[string]string{audit.FieldConsole: c.id}}
}

// inputState is what a viewer's keystrokes pass through: the escape
// parser and whether the read-only notice was shown.
type inputState struct {
	esc      *escaper
	warned   bool
	refusing bool // input is being refused: the console is not connected
}

func (c *console) newInput() *inputState {
	return &inputState{esc: newEscaper(c.hub.cfg.EscapeChar)}
}

// typed handles one chunk of keystrokes: escapes run as commands, the rest
// goes to the BMC when v has write access, recorded first (inputPipe).
func (c *console) typed(v *viewer, in *inputState, b []byte) {
	v.touch()
	if !c.current(v) {
		return
	}
	in.esc.feed(b, func(p []byte) {
		if !c.isWriter(v) {
			if !in.warned {
				v.notice("read-only: your typing is not sent (%sf takes write access)", string(c.hub.cfg.EscapeChar))
				in.warned = true
			}
			return
		}
		in.warned = false
		if st, msg := c.lineStatus(); st != LineActive {
			// Nothing is held for a console that is not there: refused
			// and recorded as such (the writer is told once per outage).
			c.notSent(v, inputRefused, "the console is not connected ("+msg+")", p, !in.refusing)
			in.refusing = true
			return
		}
		in.refusing = false
		if err := c.input(v).Write(p); err != nil {
			v.notice("%s", service.Message(err))
		}
	}, func(cmd byte) { c.command(v, cmd) })
}

// lineStatus returns the line's state and the last status message.
func (c *console) lineStatus() (LineState, string) {
	st := c.line.State()
	c.mu.Lock()
	defer c.mu.Unlock()
	msg := c.status.Msg
	if msg == "" {
		msg = "connecting"
	}
	return st, msg
}

func (c *console) isWriter(v *viewer) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writer == v
}

// input returns the viewer's input pipe, creating it on first use.
func (c *console) input(v *viewer) *inputPipe {
	if v.input == nil {
		base := c.record(v, audit.CodeConsoleInput, audit.OutcomeOK, "")
		v.input = newInputPipe(c.hub.svc.Audit, base, func(p []byte) { c.deliver(v, p) }, func(err error, n int) {
			c.hub.log.Error("console input could not be recorded; not sent", "bmc", c.bmc.Name, "console", c.id, "bytes", n, "err", err)
			v.notice("%d bytes of input not sent: they could not be recorded; %s", n, errRecording.Msg)
			v.cancel(errRecording)
		})
	}
	return v.input
}

// deliver hands recorded input to the line and notes whose it is, so that
// input the BMC never accepts can be told to its writer and recorded.
func (c *console) deliver(v *viewer, p []byte) {
	c.inMu.Lock()
	n, err := c.line.Write(p)
	c.trackLocked(v, n)
	c.inMu.Unlock()
	if err == nil {
		return
	}
	why := "the console closed"
	switch {
	case errors.Is(err, ErrNotConnected):
		why = "the console was lost before it could be sent"
	case errors.Is(err, ErrOverflow):
		why = "the console's input buffer is full"
	}
	c.notSent(v, inputUndelivered, why, p[n:], true)
}

// inflight is a stretch of input handed to the line by one writer.
type inflight struct {
	v *viewer
	n int
}

// trackLocked notes n bytes handed to the line by v, keeping no more than
// the line can hold unsent. c.inMu is held.
func (c *console) trackLocked(v *viewer, n int) {
	if n == 0 {
		return
	}
	if k := len(c.sent); k > 0 && c.sent[k-1].v == v {
		c.sent[k-1].n += n
	} else {
		c.sent = append(c.sent, inflight{v: v, n: n})
	}
	c.sentBytes += n
	for len(c.sent) > 1 && c.sentBytes-c.sent[0].n >= c.lineBuffer {
		c.sentBytes -= c.sent[0].n
		c.sent = c.sent[1:]
	}
}

// onInputLost is the line's callback for input the BMC did not accept
// before the payload was lost: the last len(p) bytes handed to the line.
// Each writer concerned is told and the loss recorded.
func (c *console) onInputLost(p []byte, why string) {
	type part struct {
		v *viewer
		p []byte
	}
	var parts []part
	c.inMu.Lock()
	rest := p
	for i := len(c.sent) - 1; i >= 0 && len(rest) > 0; i-- {
		k := min(c.sent[i].n, len(rest))
		parts = append(parts, part{c.sent[i].v, append([]byte(nil), rest[len(rest)-k:]...)})
		rest = rest[:len(rest)-k]
	}
	c.sent, c.sentBytes = nil, 0
	c.inMu.Unlock()
	for i := len(parts) - 1; i >= 0; i-- {
		c.notSent(parts[i].v, inputUndelivered, why, parts[i].p, true)
	}
}

// notSent records that p did not reach the BMC and, with tell, says so to
// v; a failure to record it ends v's session.
func (c *console) notSent(v *viewer, what, why string, p []byte, tell bool) {
	if len(p) == 0 {
		return
	}
	verb := "not delivered"
	if what == inputRefused {
		verb = "not sent (nor kept for later)"
	}
	if tell {
		v.notice("%d bytes of input %s: %s", len(p), verb, why)
	}
	r := notSentRecord(c.record(v, audit.CodeConsoleInput, audit.OutcomeError, ""), what, why, p, time.Now())
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.hub.svc.Audit(ctx, r); err != nil {
			v.cancel(errRecording)
		}
	}()
}

const helpText = "escapes at the start of a line:\r\n" +
	"  %[1]s.  detach\r\n  %[1]s?  this help\r\n  %[1]sw  who is attached\r\n" +
	"  %[1]sf  take write access (needs console.force when someone else has it)\r\n" +
	"  %[1]sB  send a serial break\r\n  %[1]s%[1]s  send a literal %[1]s"

// command runs one escape command for v.
func (c *console) command(v *viewer, cmd byte) {
	switch cmd {
	case cmdDetach:
		v.notice("detached from %s", c.bmc.Name)
		v.cancel(errDetached)
	case cmdHelp:
		v.notice(helpText, string(c.hub.cfg.EscapeChar))
	case cmdWho:
		v.notice("%s", c.who())
	case cmdBreak:
		if !c.isWriter(v) {
			v.notice("read-only: only the writer can send a break")
			return
		}
		c.line.Break()
		v.notice("serial break sent")
	case cmdForce:
		c.force(v)
	}
}

// force gives v write access: freely when nobody has it and v may write,
// from another writer only with console.force.
func (c *console) force(v *viewer) {
	ctx := v.ctx
	c.mu.Lock()
	cur, busy := c.writer, c.status.State == LineBusy
	canWrite, caller := v.canWrite, v.caller
	c.mu.Unlock()
	if cur == v && !busy {
		v.notice("you already have write access")
		return
	}
	if cur == nil && canWrite && !busy {
		c.setWriter(ctx, v, nil, "write access was free")
		return
	}
	d, err := c.hub.svc.Decide(ctx, caller, authz.ConsoleForce, c.bmc.Target())
	if err != nil {
		v.notice("%s", service.Message(err))
		v.cancel(err)
		return
	}
	if !d.Allowed {
		v.notice("write access refused: %s", d.Reason)
		return
	}
	if busy {
		c.takeover(v)
		if cur == v {
			return
		}
	}
	c.setWriter(ctx, v, cur, "forced with console.force")
}

// setWriter hands write access from prev (may be nil) to v and audits it.
func (c *console) setWriter(ctx context.Context, v, prev *viewer, reason string) {
	c.mu.Lock()
	if c.writer != prev || !c.live[v] {
		c.mu.Unlock()
		v.notice("write access changed meanwhile; try again")
		return
	}
	c.writer = v
	c.mu.Unlock()
	if prev != nil {
		prev.notice("%s took write access; you are read-only now", audit.Sanitize(v.caller.Name()))
	}
	v.notice("you have write access")
	c.auditHandoff(ctx, prev, v, reason)
}

// auditHandoff records a change of writer; failing to record it ends the
// new writer's session.
func (c *console) auditHandoff(ctx context.Context, prev, next *viewer, reason string) {
	r := c.record(next, audit.CodeConsoleHandoff, audit.OutcomeOK, reason)
	if prev != nil {
		r.Fields["from"] = prev.caller.Name()
		r.Fields["from_session"] = prev.caller.Session
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := c.hub.svc.Audit(actx, r); err != nil {
		next.cancel(err)
	}
}

// takeover evicts a client outside bmcgate holding the BMC's payload, when
// the config allows it (the caller checked console.force).
func (c *console) takeover(v *viewer) {
	if !c.hub.cfg.AllowTakeover {
		v.notice("the console is held outside bmcgate and takeovers are off in the gateway config (console.allow_takeover)")
		return
	}
	c.mu.Lock()
	holder := c.status.Holder
	c.mu.Unlock()
	r := c.record(v, audit.CodeConsoleTakeover, audit.OutcomeOK, "takeover of a console held outside bmcgate")
	r.Fields["holder"] = holder
	actx, cancel := context.WithTimeout(context.WithoutCancel(v.ctx), 5*time.Second)
	defer cancel()
	if err := c.hub.svc.Audit(actx, r); err != nil {
		v.cancel(err)
		return
	}
	msg := fmt.Sprintf("%s takes the console over from %s", audit.Sanitize(v.caller.Name()), holder)
	c.tell("%s", msg)
	c.mu.Lock()
	live := c.live[v]
	c.mu.Unlock()
	if !live {
		v.notice("%s", msg) // attaching with --takeover: not among the viewers yet
	}
	c.line.Takeover()
}

// recheck applies the current state to every attached viewer.
func (c *console) recheck(ctx context.Context) {
	c.mu.Lock()
	vs := append([]*viewer(nil), c.viewers...)
	c.mu.Unlock()
	for _, v := range vs {
		c.recheckViewer(ctx, v)
	}
}

// current re-checks v when the state changed since v was last decided
// (a reload) and reports whether v is still attached. Every keystroke and
// break passes here, so input is decided under the state it arrives in.
func (c *console) current(v *viewer) bool {
	st := c.hub.svc.State()
	c.mu.Lock()
	stale := v.checked != st
	c.mu.Unlock()
	if stale {
		c.recheckViewer(v.ctx, v)
	}
	return v.ctx.Err() == nil
}

// recheckViewer decides v's console.attach and console.write again under
// the current state: a viewer the config no longer lets act, or who lost
// console.attach, is detached with the reason; a writer who lost
// console.write becomes read-only. The decisions are recorded.
func (c *console) recheckViewer(ctx context.Context, v *viewer) {
	st := c.hub.svc.State()
	t := c.bmc.Target()
	d, err := c.hub.svc.Decide(ctx, v.caller, authz.ConsoleAttach, t)
	switch {
	case errors.Is(err, service.ErrRevoked):
		c.detach(v, service.Message(err))
		return
	case err != nil || !d.Allowed:
		c.detach(v, "no longer allowed: "+d.Reason)
		return
	}
	wd, err := c.hub.svc.Decide(ctx, v.caller, authz.ConsoleWrite, t)
	write := err == nil && wd.Allowed
	c.mu.Lock()
	v.canWrite, v.checked = write, st
	var next *viewer
	if c.writer == v && !write {
		c.writer = nil
		v.notice("write access withdrawn by a policy change; you are read-only now")
		next = c.promoteLocked()
	}
	c.mu.Unlock()
	if next != nil {
		c.auditHandoff(ctx, v, next, "previous writer lost console.write")
	}
}

func (c *console) detach(v *viewer, why string) {
	err := &service.UserError{Msg: "detached: " + why}
	v.notice("%s", err.Msg)
	v.cancel(err)
}
