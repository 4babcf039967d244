package sshd

import (
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestIdleTracker drives the tracker's decision with a fake clock; the
// timer itself is not started (check is what it would call).
func TestIdleTracker(t *testing.T) {
	clk := &fakeClock{t: time.Unix(0, 0)}
	expired := 0
	it := newIdleTracker(time.Minute, clk.now, func() { expired++ })
	it.timer = time.NewTimer(time.Hour) // check re-arms it
	defer it.timer.Stop()

	left := func() time.Duration {
		it.mu.Lock()
		defer it.mu.Unlock()
		return it.left()
	}
	clk.add(40 * time.Second)
	if l := left(); l != 20*time.Second {
		t.Fatalf("left %v", l)
	}
	it.touch()
	clk.add(59 * time.Second)
	it.check()
	if expired != 0 {
		t.Fatal("expired after 59s since the last input")
	}
	// A running command is never idle, however long it runs.
	leave := it.enter()
	clk.add(time.Hour)
	it.check()
	if expired != 0 {
		t.Fatal("expired while a command ran")
	}
	leave()
	leave() // idempotent
	clk.add(30 * time.Second)
	it.check()
	if expired != 0 {
		t.Fatal("expired 30s after the command ended")
	}
	clk.add(30 * time.Second)
	it.check()
	if expired != 1 {
		t.Fatalf("not expired after a minute without activity (%d)", expired)
	}
	it.check()
	if expired != 1 {
		t.Fatal("expired twice")
	}
	var none *idleTracker
	none.touch()
	none.enter()()
	none.stop()
}

func TestIdleTrackerTimer(t *testing.T) {
	done := make(chan struct{})
	it := newIdleTracker(10*time.Millisecond, time.Now, func() { close(done) })
	it.start()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("idle tracker never expired")
	}
	stopped := newIdleTracker(time.Millisecond, time.Now, func() { t.Error("a stopped tracker expired") })
	stopped.stop()
	stopped.start()
}
