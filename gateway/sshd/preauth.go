package sshd

import (
	"fmt"
	"sync"

	"github.com/bmcgate/bmcgate/configs"
)

// preauth bounds connections that have not authenticated yet, apart from
// the authenticated ones (Config.MaxConnections): a client that opens
// sockets and stays silent holds them only until the handshake timeout,
// and only so many.
//
//   - At most perSource of them per source (an IPv4 address, an IPv6 /64):
//     one address cannot take the slots everyone else needs.
//   - MaxStartups-style random early drop over all sources: from start
//     unauthenticated connections on, a new one is dropped with
//     probability rate%, rising linearly to 100% at full. A flood from many
//     addresses then still leaves a legitimate client a chance on every
//     try, instead of a certain refusal once the table is full.
type preauth struct {
	limits    configs.Startups
	perSource int
	intn      func(n int) int // random number in [0, n)

	mu    sync.Mutex
	total int
	bySrc map[string]int
}

// drop says why a connection was not admitted: a stable class for the
// audit aggregation and a reason with the figures.
type drop struct{ class, reason string }

func newPreauth(l configs.Startups, perSource int, intn func(int) int) *preauth {
	return &preauth{limits: l, perSource: perSource, intn: intn, bySrc: map[string]int{}}
}

// admit counts a new unauthenticated connection from src, or says why it
// is dropped.
func (p *preauth) admit(src string) (bool, drop) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.limits
	if n := p.bySrc[src]; n >= p.perSource {
		return false, drop{"per-source pre-auth limit",
			fmt.Sprintf("%d unauthenticated connections from %s already (max_preauth_per_source %d)", n, src, p.perSource)}
	}
	if p.total >= l.Full {
		return false, drop{"pre-auth limit full",
			fmt.Sprintf("%d unauthenticated connections already (max_startups full %d)", p.total, l.Full)}
	}
	if p.total >= l.Start {
		pct := dropPercent(l, p.total)
		if p.intn(100) < pct {
			return false, drop{"pre-auth random early drop",
				fmt.Sprintf("%d unauthenticated connections (max_startups %d:%d:%d): dropped with probability %d%%",
					p.total, l.Start, l.Rate, l.Full, pct)}
		}
	}
	p.total++
	p.bySrc[src]++
	return true, drop{}
}

// dropPercent is the drop probability in percent with n unauthenticated
// connections, start <= n < full (OpenSSH's MaxStartups formula).
func dropPercent(l configs.Startups, n int) int {
	if l.Full <= l.Start {
		return 100
	}
	return l.Rate + (100-l.Rate)*(n-l.Start)/(l.Full-l.Start)
}

// release forgets an unauthenticated connection from src (it
// authenticated or closed).
func (p *preauth) release(src string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total--
	if p.bySrc[src]--; p.bySrc[src] <= 0 {
		delete(p.bySrc, src)
	}
}

// counts returns the unauthenticated connections in all and from src.
func (p *preauth) counts(src string) (total, fromSrc int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total, p.bySrc[src]
}
