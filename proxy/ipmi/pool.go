package ipmi

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// pool holds the warm sessions of one BMC. A session is either idle (in
// idle) or in use by the holder of a slot, so a BMC never has more than
// cap(slots) sessions.
type pool struct {
	name    string
	fp      string
	ep      *Endpoint // pointer: printing a pool never shows the password
	slots   chan struct{}
	waiting atomic.Int32
	sdr     sdrCache // the BMC's sensor definitions, shared by its sessions

	mu       sync.Mutex
	idle     []*pooled     // most recently used last
	dead     bool          // forgotten, replaced or broker closed
	pinging  int           // keep-alive pings in flight
	pingDone chan struct{} // closed (and replaced) when a ping ends
}

type pooled struct {
	s          *Session
	lastUsed   time.Time // last command for a caller (idle close)
	lastActive time.Time // last successful exchange (keep-alive)
}

func newPool(ep Endpoint, fp string, size int) *pool {
	return &pool{name: ep.Name, fp: fp, ep: &ep, slots: make(chan struct{}, size), pingDone: make(chan struct{})}
}

// acquire takes a slot, waiting if all are in use. At most maxPending
// callers wait; beyond that it fails with ErrBusy at once.
func (p *pool) acquire(ctx context.Context, maxPending int, stop <-chan struct{}) error {
	select {
	case p.slots <- struct{}{}:
		return nil
	default:
	}
	if int(p.waiting.Add(1)) > maxPending {
		p.waiting.Add(-1)
		return newError(p.name, KindBusy, msgBusyQueue, nil)
	}
	defer p.waiting.Add(-1)
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctxError(p.name, ctx.Err(), false)
	case <-stop:
		return newError(p.name, KindClosed, msgClosed, nil)
	}
}

// tryAcquire takes a slot only if one is free.
func (p *pool) tryAcquire() bool {
	select {
	case p.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (p *pool) release() { <-p.slots }

// take pops the most recently used idle session that is still usable.
// Unusable ones are returned in drop for closing.
func (p *pool) take() (it *pooled, drop []*Session) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.idle) > 0 {
		it = p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if it.s.usable() {
			return it, drop
		}
		drop = append(drop, it.s)
	}
	return nil, drop
}

// takeWait is take, but when no session is idle while a keep-alive ping is
// in flight it waits for the ping (a round trip) rather than starting a
// handshake.
func (p *pool) takeWait(ctx context.Context) (it *pooled, drop []*Session) {
	for {
		it, d := p.take()
		drop = append(drop, d...)
		if it != nil {
			return it, drop
		}
		p.mu.Lock()
		pinging, done := p.pinging, p.pingDone
		p.mu.Unlock()
		if pinging == 0 {
			return nil, drop
		}
		select {
		case <-done:
		case <-ctx.Done():
			return nil, drop
		}
	}
}

// pingStarted and pingEnded bracket a keep-alive ping.
func (p *pool) pingStarted() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pinging++
}

func (p *pool) pingEnded() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pinging--
	close(p.pingDone)
	p.pingDone = make(chan struct{})
}

// put returns a session to the idle list; it reports false (and keeps
// nothing) when the session must be closed instead.
func (p *pool) put(it *pooled) bool {
	if !it.s.usable() {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dead || len(p.idle) >= cap(p.slots) {
		return false
	}
	p.idle = append(p.idle, it)
	return true
}

// kill marks the pool dead and returns its idle sessions for closing.
func (p *pool) kill() []*Session {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dead = true
	out := make([]*Session, 0, len(p.idle))
	for _, it := range p.idle {
		out = append(out, it.s)
	}
	p.idle = nil
	return out
}

// sweep removes idle sessions that expired (idle longer than idleClose, or
// broken) and those due for a keep-alive ping.
func (p *pool) sweep(now time.Time, idleClose, keepAlive time.Duration) (expired []*Session, due []*pooled) {
	p.mu.Lock()
	defer p.mu.Unlock()
	keep := p.idle[:0]
	for _, it := range p.idle {
		switch {
		case !it.s.usable() || now.Sub(it.lastUsed) >= idleClose:
			expired = append(expired, it.s)
		case now.Sub(it.lastActive) >= keepAlive:
			due = append(due, it)
		default:
			keep = append(keep, it)
		}
	}
	clear(p.idle[len(keep):])
	p.idle = keep
	return expired, due
}

func (p *pool) idleCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}
