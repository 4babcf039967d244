package redfish

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"log/slog"
	"sync"
	"time"
)

// Broker runs Redfish operations on BMCs over one warm session per BMC. It
// is safe for concurrent use.
type Broker struct {
	opts Options
	log  *slog.Logger
	key  []byte // keys endpoint fingerprints
	st   counters

	mu     sync.Mutex
	bmcs   map[string]*bmc
	closed bool
	stop   chan struct{}
	wg     sync.WaitGroup // operations and the janitor
	bg     sync.WaitGroup // logouts in the background
}

// Stats are cumulative broker counters.
type Stats struct {
	Logins   uint64 // session logins attempted
	Logouts  uint64 // session logouts sent
	Relogins uint64 // sessions the BMC refused or forgot, replaced by a new login
	WarmHits uint64 // requests served by an already open session
	Requests uint64 // HTTP requests sent
	Sessions int    // sessions open now
}

// NewBroker returns a broker; Close logs out of every BMC.
func NewBroker(opts Options) *Broker {
	opts = opts.withDefaults()
	b := &Broker{
		opts: opts,
		log:  opts.Logger,
		key:  make([]byte, 32),
		bmcs: map[string]*bmc{},
		stop: make(chan struct{}),
	}
	_, _ = rand.Read(b.key)
	b.wg.Add(1)
	go b.janitor()
	return b
}

// Stats returns the broker's counters.
func (b *Broker) Stats() Stats {
	st := Stats{
		Logins: b.st.logins.Load(), Logouts: b.st.logouts.Load(), Relogins: b.st.relogins.Load(),
		WarmHits: b.st.warm.Load(), Requests: b.st.requests.Load(),
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.bmcs {
		m.mu.Lock()
		if m.sess != nil {
			st.Sessions++
		}
		m.mu.Unlock()
	}
	return st
}

// Close logs out of every BMC and waits for operations in flight.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	close(b.stop)
	all := b.bmcs
	b.bmcs = map[string]*bmc{}
	b.mu.Unlock()
	b.wg.Wait()
	for _, m := range all {
		b.retire(m)
	}
	b.bg.Wait()
	return nil
}

// Forget logs out of a BMC and drops what is known about it (after its
// configuration changed or it was removed). An operation in flight
// finishes first.
func (b *Broker) Forget(name string) {
	b.mu.Lock()
	m := b.bmcs[name]
	delete(b.bmcs, name)
	b.mu.Unlock()
	if m != nil {
		b.retire(m)
	}
}

// retire marks m dead and logs out once no operation uses it.
func (b *Broker) retire(m *bmc) {
	m.mu.Lock()
	m.dead = true
	idle := m.active == 0
	m.mu.Unlock()
	if idle {
		b.logoutAsync(m)
	}
}

func (b *Broker) logoutAsync(m *bmc) {
	b.bg.Add(1)
	go func() {
		defer b.bg.Done()
		m.logout(context.Background())
		m.tr.CloseIdleConnections()
	}()
}

// bmcFor returns the state for ep, replacing it when the endpoint changed,
// and counts the caller's operation as active.
func (b *Broker) bmcFor(ep Endpoint) (*bmc, error) {
	t, err := ep.check()
	if err != nil {
		return nil, err
	}
	fp := ep.fingerprint(b.key)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, newError(ep.Name, KindClosed, msgClosed, nil)
	}
	m := b.bmcs[ep.Name]
	if m == nil || m.fp != fp {
		if m != nil {
			b.retire(m)
		}
		m = newBMC(ep, t, fp, &b.opts, &b.st)
		b.bmcs[ep.Name] = m
	}
	m.mu.Lock()
	m.active++
	m.mu.Unlock()
	b.wg.Add(1)
	return m, nil
}

// done ends an operation on m; the last one on a retired m logs out.
func (b *Broker) done(m *bmc) {
	m.mu.Lock()
	m.active--
	m.lastUsed = time.Now()
	last := m.dead && m.active == 0
	m.mu.Unlock()
	if last {
		b.logoutAsync(m)
	}
	b.wg.Done()
}

// do runs op against ep's BMC within the operation timeout and the
// per-BMC bound on concurrent operations.
func (b *Broker) do(ctx context.Context, ep Endpoint, op func(context.Context, *bmc) error) error {
	m, err := b.bmcFor(ep)
	if err != nil {
		return err
	}
	defer b.done(m)
	ctx, cancel := context.WithTimeout(ctx, b.opts.OpTimeout)
	defer cancel()
	if err := m.acquire(ctx, b.stop); err != nil {
		return err
	}
	defer m.release()
	return op(ctx, m)
}

// janitor logs out of BMCs idle longer than IdleLogout.
func (b *Broker) janitor() {
	defer b.wg.Done()
	tick := time.NewTicker(min(b.opts.IdleLogout/4, time.Minute))
	defer tick.Stop()
	for {
		select {
		case <-b.stop:
			return
		case now := <-tick.C:
			b.sweep(now)
		}
	}
}

// sweep logs out of every idle BMC whose last operation ended before
// now - IdleLogout.
func (b *Broker) sweep(now time.Time) {
	b.mu.Lock()
	var idle []*bmc
	for _, m := range b.bmcs {
		m.mu.Lock()
		if m.active == 0 && m.sess != nil && now.Sub(m.lastUsed) >= b.opts.IdleLogout {
			idle = append(idle, m)
		}
		m.mu.Unlock()
	}
	b.mu.Unlock()
	for _, m := range idle {
		b.log.Debug("redfish session idle; logging out", "bmc", m.name)
		b.bg.Add(1)
		go func() {
			defer b.bg.Done()
			m.logout(context.Background())
		}()
	}
}

// Certificate returns the leaf certificate ep's BMC presented on the last
// TLS handshake (connecting first if there was none), for the posture scan.
func (b *Broker) Certificate(ctx context.Context, ep Endpoint) (*x509.Certificate, error) {
	var c *x509.Certificate
	err := b.do(ctx, ep, func(ctx context.Context, m *bmc) error {
		if c = m.peerCertificate(); c != nil {
			return nil
		}
		if _, err := m.serviceRoot(ctx); err != nil && KindOf(err) != KindBMC {
			return err
		}
		c = m.peerCertificate()
		if c == nil {
			return newError(m.name, KindBMC, "the BMC presented no certificate", nil)
		}
		return nil
	})
	return c, err
}
