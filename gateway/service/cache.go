package service

import (
	"context"
	"sync"
	"time"

	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

// PowerEntry is the last known power state of one BMC.
type PowerEntry struct {
	State ipmi.PowerState `json:"state,omitempty"`
	// Health is "ok" when the BMC answered, "unreachable" when it did not.
	Health string    `json:"health"`
	Error  string    `json:"error,omitempty"` // user-facing message of the last failure
	At     time.Time `json:"at"`
}

// PowerCache holds the power state of every BMC in the inventory, refreshed
// by one fan-out at most every TTL, so that a dashboard view costs no IPMI
// call. The refresh is the gateway's own read, not a user's: it is logged,
// and the views that show its values are audited as listings.
type PowerCache struct {
	s       *Service
	ttl     time.Duration
	timeout time.Duration

	mu         sync.Mutex
	entries    map[string]PowerEntry
	fetched    time.Time
	refreshing chan struct{} // closed when the running refresh ends; nil when idle
}

// NewPowerCache returns an empty cache whose values may be ttl old.
func (s *Service) NewPowerCache(ttl time.Duration) *PowerCache {
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	return &PowerCache{s: s, ttl: ttl, timeout: 10 * time.Second, entries: map[string]PowerEntry{}}
}

// Snapshot returns the cached entries. When they are older than the TTL it
// starts a refresh in the background; when the cache was never filled it
// waits for that refresh up to wait (or until ctx is done).
func (pc *PowerCache) Snapshot(ctx context.Context, wait time.Duration) map[string]PowerEntry {
	pc.mu.Lock()
	stale := time.Since(pc.fetched) > pc.ttl
	empty := pc.fetched.IsZero()
	var done chan struct{}
	if stale {
		done = pc.startLocked()
	}
	pc.mu.Unlock()
	if empty && done != nil && wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
		case <-ctx.Done():
		}
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	out := make(map[string]PowerEntry, len(pc.entries))
	for k, v := range pc.entries {
		out[k] = v
	}
	return out
}

// Set records a known state (after a power action, or in tests).
func (pc *PowerCache) Set(name string, e PowerEntry) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	pc.entries[name] = e
}

// Invalidate makes the next Snapshot refresh.
func (pc *PowerCache) Invalidate() {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	pc.fetched = time.Time{}.Add(time.Nanosecond)
}

// MarkFresh marks the cache as just refreshed (tests and benchmarks that
// fill it with Set).
func (pc *PowerCache) MarkFresh() {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	pc.fetched = time.Now()
}

// startLocked starts a refresh unless one is running and returns the
// channel closed when it ends. pc.mu must be held.
func (pc *PowerCache) startLocked() chan struct{} {
	if pc.refreshing != nil {
		return pc.refreshing
	}
	done := make(chan struct{})
	pc.refreshing = done
	go pc.refresh(done)
	return done
}

// refresh reads the power state of every BMC with bounded fan-out.
func (pc *PowerCache) refresh(done chan struct{}) {
	st := pc.s.State()
	ctx, cancel := context.WithTimeout(context.Background(), pc.timeout)
	defer cancel()
	bmcs := st.Inventory.All()
	fresh := make(map[string]PowerEntry, len(bmcs))
	failed := 0
	Fanout(ctx, len(bmcs), st.Limits.FanoutConcurrency,
		func(ctx context.Context, i int) PowerEntry {
			ps, err := pc.s.transport(bmcs[i]).PowerStatus(ctx, bmcs[i])
			e := PowerEntry{At: time.Now(), Health: "ok", State: ps}
			if err != nil {
				e = PowerEntry{At: time.Now(), Health: "unreachable", Error: Message(err)}
			}
			return e
		},
		func(i int, e PowerEntry) {
			fresh[bmcs[i].Name] = e
			if e.Health != "ok" {
				failed++
			}
		})
	pc.s.log.Debug("power cache refreshed", "bmcs", len(bmcs), "unreachable", failed)
	pc.mu.Lock()
	pc.entries = fresh
	pc.fetched = time.Now()
	pc.refreshing = nil
	pc.mu.Unlock()
	close(done)
}
