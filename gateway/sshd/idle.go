package sshd

import (
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// idleTracker closes an authenticated connection that shows no activity
// for the idle timeout. Activity is what a person at the client does:
//
//   - data the client sends on a session channel (keystrokes, piped
//     commands, console input);
//   - a session request (pty-req, window-change, shell, exec, break, ...)
//     and a new session channel;
//   - a command running: from its start to its end the connection is busy,
//     so a long fan-out or an attached console is never idle here. An
//     attached console viewer has its own idle timeout in the console hub
//     (console.idle_timeout), which counts only keystrokes: output being
//     watched keeps neither alive.
//
// Not activity: keepalive@openssh.com requests (ServerAliveInterval),
// other global requests, refused requests, and transport traffic (rekeys,
// ignore messages, window adjustments). So a client's keep-alives cannot
// hold an idle shell open until the absolute session lifetime.
type idleTracker struct {
	timeout time.Duration
	now     func() time.Time
	expire  func() // called once, when idle for timeout

	mu      sync.Mutex
	last    time.Time
	busy    int
	timer   *time.Timer
	stopped bool
}

func newIdleTracker(timeout time.Duration, now func() time.Time, expire func()) *idleTracker {
	return &idleTracker{timeout: timeout, now: now, expire: expire, last: now()}
}

// start arms the timer.
func (it *idleTracker) start() {
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.stopped || it.timer != nil {
		return
	}
	it.timer = time.AfterFunc(it.timeout, it.check)
}

// check runs when the timer fires: it re-arms for the time left, or
// expires the connection.
func (it *idleTracker) check() {
	it.mu.Lock()
	if it.stopped {
		it.mu.Unlock()
		return
	}
	left := it.left()
	if left > 0 {
		it.timer.Reset(left)
		it.mu.Unlock()
		return
	}
	it.stopped = true
	it.mu.Unlock()
	it.expire()
}

// left is how long until the connection counts as idle (<= 0: it is);
// it.mu is held.
func (it *idleTracker) left() time.Duration {
	if it.busy > 0 {
		return it.timeout
	}
	return it.timeout - it.now().Sub(it.last)
}

// touch records activity.
func (it *idleTracker) touch() {
	if it == nil {
		return
	}
	it.mu.Lock()
	it.last = it.now()
	it.mu.Unlock()
}

// enter marks the connection busy until the returned function is called.
func (it *idleTracker) enter() (leave func()) {
	if it == nil {
		return func() {}
	}
	it.mu.Lock()
	it.busy++
	it.last = it.now()
	it.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			it.mu.Lock()
			it.busy--
			it.last = it.now()
			it.mu.Unlock()
		})
	}
}

// stop disarms the tracker for good.
func (it *idleTracker) stop() {
	if it == nil {
		return
	}
	it.mu.Lock()
	defer it.mu.Unlock()
	it.stopped = true
	if it.timer != nil {
		it.timer.Stop()
	}
}

// activeChannel is a session channel whose incoming data counts as
// activity.
type activeChannel struct {
	gossh.Channel
	idle *idleTracker
}

func (c activeChannel) Read(p []byte) (int, error) {
	n, err := c.Channel.Read(p)
	if n > 0 {
		c.idle.touch()
	}
	return n, err
}
