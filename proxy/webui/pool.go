package webui

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Pool defaults.
const (
	DefaultMaxSessions = 4
	DefaultIdleTimeout = 10 * time.Minute
	logoutTimeout      = 10 * time.Second
	loginTimeout       = 30 * time.Second
)

// PoolConfig configures a Pool.
type PoolConfig struct {
	Profile     *Profile
	Credentials Credentials
	// MaxSessions caps the BMC-side sessions held at once (BMCs allow only
	// a few); default DefaultMaxSessions.
	MaxSessions int
	// IdleTimeout logs out a session no request has used for this long;
	// default DefaultIdleTimeout.
	IdleTimeout time.Duration
}

// Pool holds the BMC-side web sessions of one BMC, one per key (the
// gateway's user-session id), capped, and logged out when released, idle
// or closed. It is safe for concurrent use.
type Pool struct {
	p   *Proxy
	cfg PoolConfig

	// now is the clock Sweep measures idleness by (tests step it); the
	// sessions note their last use by time.Now.
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*poolEntry
	closed  bool
}

type poolEntry struct {
	ready chan struct{} // closed when the login finished
	s     *Session
	err   error
}

// wait blocks until e's login has finished, or returns ctx's error when
// ctx is done first.
func (e *poolEntry) wait(ctx context.Context) error {
	select {
	case <-e.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// NewPool returns a pool logging in to p's BMC with cfg.Profile.
func (p *Proxy) NewPool(cfg PoolConfig) (*Pool, error) {
	if cfg.Profile == nil {
		return nil, errors.New("web: a pool needs a login profile")
	}
	if err := cfg.Profile.Validate(); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	cfg.MaxSessions = or(cfg.MaxSessions, DefaultMaxSessions)
	cfg.IdleTimeout = or(cfg.IdleTimeout, DefaultIdleTimeout)
	return &Pool{p: p, cfg: cfg, now: time.Now, entries: map[string]*poolEntry{}}, nil
}

// Acquire returns the BMC-side session for key, logging in when there is
// none (or the BMC ended it). Concurrent calls for one key share one login.
func (pl *Pool) Acquire(ctx context.Context, key string) (*Session, error) {
	for {
		pl.mu.Lock()
		if pl.closed {
			pl.mu.Unlock()
			return nil, &Error{Msg: "the gateway is shutting down", Err: ErrClosed}
		}
		e, ok := pl.entries[key]
		if ok {
			pl.mu.Unlock()
			if err := e.wait(ctx); err != nil {
				return nil, fmt.Errorf("web: waiting for a BMC login: %w", err)
			}
			if e.err != nil {
				return nil, e.err
			}
			if e.s.isStale() {
				pl.drop(ctx, key, e)
				continue
			}
			e.s.touch()
			return e.s, nil
		}
		if len(pl.entries) >= pl.cfg.MaxSessions {
			pl.mu.Unlock()
			return nil, &Error{Msg: "the BMC has no free web session; try again later", Err: fmt.Errorf("%w: %d in use on %s", ErrPoolFull, pl.cfg.MaxSessions, pl.p.cfg.Name)}
		}
		e = &poolEntry{ready: make(chan struct{})}
		pl.entries[key] = e
		pl.mu.Unlock()

		// Other callers may wait on this login: it does not end with the
		// first caller's request, only with its own timeout.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loginTimeout)
		e.s, e.err = pl.p.Login(lctx, pl.cfg.Profile, pl.cfg.Credentials)
		cancel()
		if e.err != nil {
			pl.mu.Lock()
			if pl.entries[key] == e {
				delete(pl.entries, key)
			}
			pl.mu.Unlock()
		}
		close(e.ready)
		return e.s, e.err
	}
}

// drop removes e (if it is still key's entry) and logs it out.
func (pl *Pool) drop(ctx context.Context, key string, e *poolEntry) {
	pl.mu.Lock()
	mine := pl.entries[key] == e
	if mine {
		delete(pl.entries, key)
	}
	pl.mu.Unlock()
	if mine {
		pl.logout(ctx, e.s)
	}
}

// Release logs out key's session, if any: call it when the user's session
// ends.
func (pl *Pool) Release(ctx context.Context, key string) {
	pl.mu.Lock()
	e, ok := pl.entries[key]
	pl.mu.Unlock()
	if !ok {
		return
	}
	if e.wait(ctx) != nil {
		return
	}
	if e.err == nil {
		pl.drop(ctx, key, e)
	}
}

// Sweep logs out sessions idle for longer than the idle timeout and
// returns how many it ended.
func (pl *Pool) Sweep(ctx context.Context) int {
	cutoff := pl.now().Add(-pl.cfg.IdleTimeout)
	type victim struct {
		key string
		e   *poolEntry
	}
	var idle []victim
	pl.mu.Lock()
	for k, e := range pl.entries {
		select {
		case <-e.ready:
			if e.err == nil && (e.s.lastUse().Before(cutoff) || e.s.isStale()) {
				idle = append(idle, victim{k, e})
			}
		default:
		}
	}
	pl.mu.Unlock()
	for _, v := range idle {
		pl.drop(ctx, v.key, v.e)
	}
	return len(idle)
}

// Run sweeps idle sessions until ctx ends, then logs out every session.
func (pl *Pool) Run(ctx context.Context) {
	tick := time.NewTicker(max(pl.cfg.IdleTimeout/4, time.Second))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logoutTimeout)
			pl.Close(cctx)
			cancel()
			return
		case <-tick.C:
			pl.Sweep(ctx)
		}
	}
}

// Close logs out every session and refuses further Acquires.
func (pl *Pool) Close(ctx context.Context) {
	pl.mu.Lock()
	pl.closed = true
	entries := pl.entries
	pl.entries = map[string]*poolEntry{}
	pl.mu.Unlock()
	for _, e := range entries {
		if e.wait(ctx) != nil {
			return
		}
		if e.err == nil {
			pl.logout(ctx, e.s)
		}
	}
}

// Len returns the number of sessions held or being opened.
func (pl *Pool) Len() int {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return len(pl.entries)
}

func (pl *Pool) logout(ctx context.Context, s *Session) {
	ctx, cancel := context.WithTimeout(ctx, logoutTimeout)
	defer cancel()
	if err := pl.p.Logout(ctx, pl.cfg.Profile, s); err != nil {
		pl.p.log.Warn("BMC web logout failed; the BMC will time the session out", "err", err)
	}
}
