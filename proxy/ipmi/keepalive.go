package ipmi

import (
	"context"
	"time"
)

// janitor closes sessions idle longer than IdleClose and pings idle ones
// every KeepAlive so the BMC does not time them out.
func (b *Broker) janitor() {
	defer b.wg.Done()
	tick := min(b.opts.KeepAlive, b.opts.IdleClose) / 4
	tick = max(min(tick, time.Second), 10*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case now := <-t.C:
			b.sweep(now)
		}
	}
}

func (b *Broker) sweep(now time.Time) {
	b.mu.Lock()
	pools := make([]*pool, 0, len(b.pools))
	for _, p := range b.pools {
		pools = append(pools, p)
	}
	b.mu.Unlock()
	for _, p := range pools {
		expired, due := p.sweep(now, b.opts.IdleClose, b.opts.KeepAlive)
		if len(expired) > 0 {
			b.log.Debug("ipmi closing idle sessions", "bmc", p.name, "count", len(expired))
			b.closeAll(expired)
		}
		for _, it := range due {
			b.keepAlive(p, it)
		}
	}
}

// keepAlive pings one idle session in the background, holding a slot so the
// session limit stays exact. If every slot is busy the session goes back
// untouched; it will be due again at the next sweep.
func (b *Broker) keepAlive(p *pool, it *pooled) {
	if !p.tryAcquire() {
		b.release(p, it, false)
		return
	}
	p.pingStarted()
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer p.release()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-b.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		if err := it.s.ping(ctx); err != nil {
			b.log.Info("ipmi keep-alive failed; session dropped", "bmc", p.name, "err", err)
		}
		b.release(p, it, false)
		p.pingEnded()
	}()
}
