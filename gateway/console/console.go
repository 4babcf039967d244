package console

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/service"
)

// console is one BMC's shared console.
type console struct {
	hub     *Hub
	bmc     *service.BMC
	id      string
	line    Line
	output  *recorder
	started time.Time

	mu      sync.Mutex
	ring    *ring
	viewers []*viewer // in attach order
	live    map[*viewer]bool
	writer  *viewer
	status  LineStatus
	once    sync.Once

	// Input handed to the line, by writer (input.go).
	inMu       sync.Mutex
	sent       []inflight
	sentBytes  int
	lineBuffer int // the line's input buffer
}

// tell sends a notice to every attached viewer.
func (c *console) tell(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for v := range c.live {
		v.notice(format, args...)
	}
}

// add reserves a place for v.
func (c *console) add(v *viewer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.viewers) >= c.hub.cfg.MaxViewers {
		return errTooManyViewer
	}
	c.viewers = append(c.viewers, v)
	return nil
}

// remove drops v, hands write access on, and reports whether v was the
// last viewer.
func (c *console) remove(v *viewer) bool {
	c.mu.Lock()
	for i, x := range c.viewers {
		if x == v {
			c.viewers = append(c.viewers[:i], c.viewers[i+1:]...)
			break
		}
	}
	delete(c.live, v)
	var next *viewer
	if c.writer == v {
		c.writer = nil
		next = c.promoteLocked()
	}
	last := len(c.viewers) == 0
	c.mu.Unlock()
	if next != nil {
		go c.auditHandoff(context.Background(), v, next, "previous writer detached")
	}
	return last
}

func (c *console) empty() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.viewers) == 0
}

func (c *console) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.viewers)
}

// promoteLocked gives write access to the longest-attached live viewer
// allowed to write, if any.
func (c *console) promoteLocked() *viewer {
	for _, x := range c.viewers {
		if c.live[x] && x.canWrite {
			c.writer = x
			x.notice("you now have write access")
			return x
		}
	}
	return nil
}

// onOutput is the line's output callback: scrollback, recording, viewers.
func (c *console) onOutput(p []byte) {
	c.output.Write(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ring.Write(p)
	for v := range c.live {
		v.send(p)
	}
}

// onStatus is the line's status callback.
func (c *console) onStatus(s LineStatus) {
	if s.State == LineConnecting || s.State == LineClosed {
		return // transient: viewers see the outcome
	}
	c.mu.Lock()
	prev := c.status
	c.status = s
	if s.Msg != prev.Msg && !(prev.State == 0 && s.State == LineActive) {
		msg := s.Msg
		if s.State == LineBusy {
			msg += c.takeoverHint()
		}
		for v := range c.live {
			v.notice("%s", msg)
		}
	}
	c.mu.Unlock()
	if s.State == prev.State {
		return
	}
	r := audit.Record{Code: audit.CodeConsoleStatus, Door: audit.DoorSystem, Target: c.bmc.Name, Outcome: audit.OutcomeOK,
		Reason: s.Msg, Fields: map[string]string{audit.FieldConsole: c.id, "state": s.State.String()}}
	if s.State != LineActive {
		r.Outcome = audit.OutcomeError
	}
	if s.Err != nil {
		c.hub.log.Info("console status", "bmc", c.bmc.Name, "state", s.State.String(), "err", s.Err)
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.hub.svc.Audit(ctx, r); err != nil {
			c.recordingFailed(err)
		}
	}()
}

// takeoverHint says what a busy console's viewers can do.
func (c *console) takeoverHint() string {
	if c.hub.cfg.AllowTakeover {
		return "; " + string(c.hub.cfg.EscapeChar) + "f takes it over (needs console.force)"
	}
	return "; takeovers are off in the gateway config (console.allow_takeover), so bmcgate waits and re-checks"
}

// recordingFailed ends every viewer: the console is no longer recorded.
func (c *console) recordingFailed(err error) {
	c.hub.log.Error("console recording failed; ending its sessions", "bmc", c.bmc.Name, "console", c.id, "err", err)
	c.endAll(errRecording)
}

func (c *console) endAll(cause error) {
	c.mu.Lock()
	vs := append([]*viewer(nil), c.viewers...)
	c.mu.Unlock()
	for _, v := range vs {
		v.notice("%s", service.Message(cause))
		v.cancel(cause)
	}
}

// close stops the line and the output recording (once).
func (c *console) close() {
	c.once.Do(func() {
		c.line.Close()
		c.output.Close()
	})
}

// who lists the attached viewers.
func (c *console) who() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "%d attached to %s (console %s, %s):", len(c.live), c.bmc.Name, c.id, c.status.State)
	for _, v := range c.viewers {
		if !c.live[v] {
			continue
		}
		role := "read-only"
		if v == c.writer {
			role = "writer"
		}
		fmt.Fprintf(&b, "\r\n  %s from %s, session %s, since %s, %s", audit.Sanitize(v.caller.Name()),
			audit.Sanitize(v.caller.Source), v.caller.Session, v.since.UTC().Format("15:04:05"), role)
	}
	return b.String()
}
