package ipmi

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// probeAfter is how long a warm session may sit idle before a write is
// preceded by a liveness check, so that a session the BMC has forgotten
// (restart, eviction) is replaced before the write is sent rather than
// turning the write's outcome unknown.
const probeAfter = time.Second

// Broker runs IPMI commands on BMCs over pooled warm sessions. It is safe
// for concurrent use.
type Broker struct {
	opts Options
	log  *slog.Logger
	key  []byte // keys endpoint fingerprints

	mu     sync.Mutex
	pools  map[string]*pool
	closed bool
	stop   chan struct{}
	wg     sync.WaitGroup // janitor, keep-alive pings, session closes

	handshakes atomic.Uint64
	warmHits   atomic.Uint64
	retries    atomic.Uint64
}

// Stats are cumulative broker counters.
type Stats struct {
	Handshakes uint64 // session establishments started
	WarmHits   uint64 // operations served by an already open session
	Retries    uint64 // operations repeated on a fresh session
	Idle       int    // idle warm sessions now
}

// NewBroker returns a broker; Close releases its sessions.
func NewBroker(opts Options) *Broker {
	opts = opts.withDefaults()
	b := &Broker{
		opts:  opts,
		log:   opts.Logger,
		key:   make([]byte, 32),
		pools: make(map[string]*pool),
		stop:  make(chan struct{}),
	}
	_, _ = rand.Read(b.key)
	hook := opts.onHandshake
	b.opts.onHandshake = func(name string) {
		b.handshakes.Add(1)
		if hook != nil {
			hook(name)
		}
	}
	b.wg.Add(1)
	go b.janitor()
	return b
}

// Stats returns the broker's counters.
func (b *Broker) Stats() Stats {
	st := Stats{Handshakes: b.handshakes.Load(), WarmHits: b.warmHits.Load(), Retries: b.retries.Load()}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.pools {
		st.Idle += p.idleCount()
	}
	return st
}

// Close closes every session (with a Close Session command to the BMC).
// Operations in flight finish; their sessions are closed afterwards.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	close(b.stop)
	pools := b.pools
	b.pools = map[string]*pool{}
	b.mu.Unlock()
	for _, p := range pools {
		b.closeAll(p.kill())
	}
	b.wg.Wait()
	return nil
}

// Forget drops the warm sessions of a BMC (for example after its
// configuration changed). Sessions in use are closed when their operation
// ends.
func (b *Broker) Forget(name string) {
	b.mu.Lock()
	p := b.pools[name]
	delete(b.pools, name)
	b.mu.Unlock()
	if p != nil {
		b.closeAll(p.kill())
	}
}

// pool returns the pool for ep, replacing one whose endpoint changed, and
// registers the caller's operation with b.wg.
func (b *Broker) pool(ep Endpoint) (*pool, error) {
	fp := ep.fingerprint(b.key)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, newError(ep.Name, KindClosed, msgClosed, nil)
	}
	b.wg.Add(1) // released by the caller (do) when the operation ends
	p := b.pools[ep.Name]
	if p != nil && p.fp == fp {
		return p, nil
	}
	if p != nil {
		old := p
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.closeAll(old.kill())
		}()
	}
	p = newPool(ep, fp, b.opts.SessionsPerBMC)
	b.pools[ep.Name] = p
	return p, nil
}

// closeAll closes sessions in the background; Close waits for them.
func (b *Broker) closeAll(ss []*Session) {
	for _, s := range ss {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			if err := s.Close(context.Background()); err != nil {
				b.log.Debug("ipmi session close", "bmc", s.bmc, "err", err)
			}
		}()
	}
}

// release returns a session to its pool or closes it.
func (b *Broker) release(p *pool, it *pooled, used bool) {
	now := time.Now()
	if used {
		it.lastUsed = now
	}
	if it.s.usable() {
		it.lastActive = now
	}
	if !p.put(it) {
		b.closeAll([]*Session{it.s})
	}
}

// dial opens a new session for pool p.
func (b *Broker) dial(ctx context.Context, p *pool) (*pooled, error) {
	s, err := dial(ctx, *p.ep, b.opts)
	if err != nil {
		b.log.Warn("ipmi session setup failed", "bmc", p.name, "err", err)
		return nil, err
	}
	b.log.Debug("ipmi session opened", "bmc", p.name)
	now := time.Now()
	return &pooled{s: s, lastUsed: now, lastActive: now}, nil
}

// do runs op on a warm session of ep's BMC, applying the retry policy:
// a read that failed on a warm session is repeated once on a fresh session;
// a write only when the failure proves it never reached the BMC.
//
// The whole operation (waiting for a slot, a session setup, the command and
// a repeat) ends by CallTimeout: the caller gets an answer by then.
func (b *Broker) do(ctx context.Context, ep Endpoint, write bool, op func(context.Context, *Session) error) error {
	ep = ep.named()
	if err := ep.check(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, b.opts.CallTimeout)
	defer cancel()
	p, err := b.pool(ep)
	if err != nil {
		return err
	}
	defer b.wg.Done()
	if err := p.acquire(ctx, b.opts.MaxPending, b.stop); err != nil {
		return err
	}
	defer p.release()

	it, drop := p.takeWait(ctx)
	b.closeAll(drop)
	warm := it != nil
	if warm && write && time.Since(it.lastActive) > probeAfter {
		if perr := it.s.ping(ctx); perr != nil {
			b.release(p, it, false)
			if !retrySafe(perr) {
				return perr
			}
			warm, it = false, nil
		}
	}
	if it == nil {
		if it, err = b.dial(ctx, p); err != nil {
			return err
		}
	} else {
		b.warmHits.Add(1)
	}
	err = op(ctx, it.s)
	b.release(p, it, true)
	if err == nil || !warm || !retrySafe(err) {
		return err
	}
	b.retries.Add(1)
	b.log.Info("ipmi retrying on a fresh session", "bmc", p.name, "err", err)
	if it, err = b.dial(ctx, p); err != nil {
		return err
	}
	err = op(ctx, it.s)
	b.release(p, it, true)
	return err
}

func retrySafe(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.retrySafe
}
